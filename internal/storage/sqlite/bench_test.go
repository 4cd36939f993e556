package sqlite

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/storage"
)

// BenchmarkMintWrites compares the state writes of one token mint on a SQLite file: the grant's
// single-use record and the audit event as two calls, and as one transaction.
//
//	go test ./internal/storage/sqlite -run '^$' -bench MintWrites
func BenchmarkMintWrites(b *testing.B) {
	ev := storage.AuditEvent{Kind: storage.AuditTokenMinted, PrincipalID: "p", ViewerID: "bench@example.com", DashboardID: "sales", Outcome: "ok", Detail: "embed"}
	open := func(b *testing.B) *Store {
		s, err := Open(b.Context(), filepath.Join(b.TempDir(), "state.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	rec := func(i int) storage.Record {
		return storage.Record{Kind: "grant.redeemed", Key: fmt.Sprintf("%064d", i), ExpiresAt: time.Now().Add(5 * time.Minute)}
	}
	b.Run("two_calls", func(b *testing.B) {
		s := open(b)
		defer reportCPU(b)()
		i := 0
		for b.Loop() {
			i++
			if err := s.CreateRecord(b.Context(), rec(i)); err != nil {
				b.Fatal(err)
			}
			ev.Time = time.Now()
			if err := s.AppendAudit(b.Context(), []storage.AuditEvent{ev}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one_transaction", func(b *testing.B) {
		s := open(b)
		defer reportCPU(b)()
		i := 0
		for b.Loop() {
			i++
			ev.Time = time.Now()
			if err := s.CreateRecordAudited(b.Context(), rec(i), []storage.AuditEvent{ev}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// reportCPU reports the process's CPU time (user + system) per op: on a shared machine it moves
// less with other load than the wall time does.
func reportCPU(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() {
		b.ReportMetric(float64((cpu()-start).Microseconds())/float64(b.N), "cpu-µs/op")
	}
}
