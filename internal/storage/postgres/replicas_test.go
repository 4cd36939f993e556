package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/audit"
	"github.com/inlay/inlay/internal/secret"
	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/storage/postgres"
	"github.com/inlay/inlay/internal/storage/postgres/pgtest"
	"github.com/inlay/inlay/internal/token"
)

// replicas opens n stores on one schema, each with its own connection pool, as n Inlay
// replicas would.
func replicas(t *testing.T, n int) []*postgres.Store {
	t.Helper()
	dsn := pgtest.DSN(t)
	out := make([]*postgres.Store, n)
	for i := range out {
		out[i] = open(t, dsn)
		t.Cleanup(func() { out[i].Close() })
	}
	return out
}

// TestReplicasSingleUse: 100 concurrent redemptions of one item spread over 3 replicas give
// exactly one success; the same for first-create-wins and for a lease; concurrent updates from
// all three lose nothing.
func TestReplicasSingleUse(t *testing.T) {
	ctx := t.Context()
	rs := replicas(t, 3)
	const n = 100
	for round := range 5 { // several rounds: one lucky interleaving proves little
		key := fmt.Sprint("otp-", round)
		if err := rs[0].CreateRecord(ctx, storage.Record{Kind: "otp", Key: key, Value: []byte("v"), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		var takes, creates, leases atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			s := rs[i%3]
			wg.Go(func() {
				<-start
				if _, err := s.TakeRecord(ctx, "otp", key); err == nil {
					takes.Add(1)
				} else if !errors.Is(err, storage.ErrNotFound) {
					t.Error(err)
				}
			})
			wg.Go(func() {
				<-start
				if err := s.CreateRecord(ctx, storage.Record{Kind: "nonce", Key: key, ExpiresAt: time.Now().Add(time.Hour)}); err == nil {
					creates.Add(1)
				} else if !errors.Is(err, storage.ErrAlreadyExists) {
					t.Error(err)
				}
			})
			wg.Go(func() {
				<-start
				ok, err := s.AcquireLease(ctx, "refresh/"+key, fmt.Sprint("replica-", i), time.Minute)
				if err != nil {
					t.Error(err)
				}
				if ok {
					leases.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if takes.Load() != 1 || creates.Load() != 1 || leases.Load() != 1 {
			t.Fatalf("round %d over 3 replicas: %d of %d takes, %d creates, %d leases succeeded; want exactly one each",
				round, takes.Load(), n, creates.Load(), leases.Load())
		}
	}

	if err := rs[0].CreateRecord(ctx, storage.Record{Kind: "counter", Key: "c", Value: []byte("0")}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 30 {
		s := rs[i%3]
		wg.Go(func() {
			if _, err := s.UpdateRecord(ctx, "counter", "c", func(r storage.Record) (storage.Record, error) {
				var v int
				fmt.Sscan(string(r.Value), &v)
				r.Value = []byte(fmt.Sprint(v + 1))
				return r, nil
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if r, err := rs[2].GetRecord(ctx, "counter", "c"); err != nil || string(r.Value) != "30" {
		t.Fatalf("30 increments from 3 replicas: %q, %v (updates lost)", r.Value, err)
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// TestReplicasKeyRotation: a key rotated on one replica signs a token that every other replica
// verifies on the first try, through the reload on an unknown kid.
func TestReplicasKeyRotation(t *testing.T) {
	ctx := t.Context()
	rs := replicas(t, 3)
	master, err := secret.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := secret.NewKeys(master)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now().UTC()}
	const iss = "https://inlay.example"
	var rings []*token.KeyRing
	for _, s := range rs {
		r, err := token.NewKeyRing(ctx, s, keys, token.KeyRingOptions{MaxTokenTTL: time.Hour, Now: clk.Now,
			Sleep: func(context.Context, time.Duration) error { return nil }})
		if err != nil {
			t.Fatal(err)
		}
		rings = append(rings, r)
	}
	claims := token.Claims{Kind: token.KindEmbed, Subject: "inlay-host", DashboardID: "sales", ViewerID: "alice", Scope: "dashboards.embed"}
	before, _, err := token.NewIssuer(rings[1], iss).Issue(claims, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// No time passes: every replica reloaded its keys a moment ago, and still the new key verifies
	// at its first token (no reload throttle stands in its way).
	if err := rings[0].Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	after, _, err := token.NewIssuer(rings[0], iss).Issue(claims, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rings {
		v := token.NewVerifier(r, iss, 5*time.Second)
		if _, err := v.Verify(after, token.KindEmbed); err != nil {
			t.Errorf("replica %d: token signed with the key rotated on replica 0: %v", i, err)
		}
		if _, err := v.Verify(before, token.KindEmbed); err != nil {
			t.Errorf("replica %d: token signed with the retired key: %v", i, err)
		}
	}
}

// TestReplicasAudit: events written by three replicas land in one table, in time order.
func TestReplicasAudit(t *testing.T) {
	ctx := t.Context()
	rs := replicas(t, 3)
	base := time.Now().UTC().Add(-time.Hour)
	const each = 40
	for i, s := range rs {
		w := audit.NewWriter(s, slog.New(slog.DiscardHandler), audit.Options{})
		for j := range each {
			w.Record(storage.AuditEvent{Time: base.Add(time.Duration(j*3+i) * time.Millisecond), Kind: storage.AuditDashboardQuery,
				ViewerID: fmt.Sprint("viewer-", i), DashboardID: "sales", Widget: fmt.Sprint("w", j*3+i), Outcome: "ok"})
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range rs {
		got, err := s.ListAudit(ctx, storage.AuditFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3*each {
			t.Fatalf("replica %d reads %d events, want %d", i, len(got), 3*each)
		}
		for k, e := range got {
			if want := fmt.Sprint("w", 3*each-1-k); e.Widget != want {
				t.Fatalf("replica %d: event %d is %s, want %s (newest first across replicas)", i, k, e.Widget, want)
			}
		}
		mine, err := s.ListAudit(ctx, storage.AuditFilter{ViewerID: "viewer-2", Limit: 1000})
		if err != nil || len(mine) != each {
			t.Fatalf("replica %d: viewer-2's events: %d, %v", i, len(mine), err)
		}
	}
}
