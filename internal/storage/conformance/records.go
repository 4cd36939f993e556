package conformance

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/storage"
)

// Records and leases are checked against the real clock: expiry is what the store's own clock
// says, so the suite uses times well in the past or the future.

func testRecords(t *testing.T, s storage.Store) {
	ctx := t.Context()
	if _, err := s.GetRecord(ctx, "thing", "a"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("get absent: got %v, want ErrNotFound", err)
	}
	if err := s.DeleteRecord(ctx, "thing", "a"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("delete absent: got %v, want ErrNotFound", err)
	}
	future := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	must(t, s.CreateRecord(ctx, storage.Record{Kind: "thing", Key: "a", Value: []byte(`{"n":1}`), ExpiresAt: future}))
	if err := s.CreateRecord(ctx, storage.Record{Kind: "thing", Key: "a", Value: []byte("x")}); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("create twice: got %v, want ErrAlreadyExists", err)
	}
	// The same key under another kind is another record.
	must(t, s.CreateRecord(ctx, storage.Record{Kind: "other", Key: "a", Value: []byte("o")}))

	r, err := s.GetRecord(ctx, "thing", "a")
	must(t, err)
	if string(r.Value) != `{"n":1}` || r.Version != 1 || !r.ExpiresAt.Equal(future) || r.UpdatedAt.IsZero() {
		t.Fatalf("get: %+v", r)
	}

	r, err = s.UpdateRecord(ctx, "thing", "a", func(r storage.Record) (storage.Record, error) {
		r.Value = []byte(`{"n":2}`)
		r.ExpiresAt = time.Time{}
		return r, nil
	})
	must(t, err)
	if string(r.Value) != `{"n":2}` || r.Version != 2 || !r.ExpiresAt.IsZero() {
		t.Fatalf("update returned %+v", r)
	}
	r, err = s.GetRecord(ctx, "thing", "a")
	must(t, err)
	if string(r.Value) != `{"n":2}` || r.Version != 2 || !r.ExpiresAt.IsZero() {
		t.Fatalf("after update: %+v", r)
	}

	abort := errors.New("abort")
	if _, err := s.UpdateRecord(ctx, "thing", "a", func(r storage.Record) (storage.Record, error) {
		r.Value = []byte("lost")
		return r, abort
	}); !errors.Is(err, abort) {
		t.Fatalf("aborted update: got %v", err)
	}
	if r, _ := s.GetRecord(ctx, "thing", "a"); string(r.Value) != `{"n":2}` {
		t.Fatalf("aborted update was stored: %q", r.Value)
	}
	if _, err := s.UpdateRecord(ctx, "thing", "zzz", func(r storage.Record) (storage.Record, error) { return r, nil }); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("update absent: got %v, want ErrNotFound", err)
	}

	must(t, s.PutRecord(ctx, storage.Record{Kind: "thing", Key: "a", Value: []byte("put")}))
	if r, _ := s.GetRecord(ctx, "thing", "a"); string(r.Value) != "put" || r.Version != 3 {
		t.Fatalf("put over existing: %+v", r)
	}
	must(t, s.PutRecord(ctx, storage.Record{Kind: "thing", Key: "b", Value: nil}))
	if r, err := s.GetRecord(ctx, "thing", "b"); err != nil || len(r.Value) != 0 || r.Version != 1 {
		t.Fatalf("put new: %+v, %v", r, err)
	}

	got, err := s.TakeRecord(ctx, "thing", "a")
	must(t, err)
	if string(got.Value) != "put" {
		t.Fatalf("take: %+v", got)
	}
	if _, err := s.TakeRecord(ctx, "thing", "a"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("take twice: got %v, want ErrNotFound", err)
	}
	must(t, s.DeleteRecord(ctx, "thing", "b"))
	if _, err := s.GetRecord(ctx, "thing", "b"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("after delete: got %v", err)
	}
	if r, err := s.GetRecord(ctx, "other", "a"); err != nil || string(r.Value) != "o" {
		t.Fatalf("other kind disturbed: %+v, %v", r, err)
	}
}

func testRecordExpiry(t *testing.T, s storage.Store) {
	ctx := t.Context()
	past := time.Now().Add(-time.Minute)
	must(t, s.CreateRecord(ctx, storage.Record{Kind: "nonce", Key: "n1", Value: []byte("old"), ExpiresAt: past}))
	for name, err := range map[string]error{
		"get":  func() error { _, err := s.GetRecord(ctx, "nonce", "n1"); return err }(),
		"take": func() error { _, err := s.TakeRecord(ctx, "nonce", "n1"); return err }(),
		"update": func() error {
			_, err := s.UpdateRecord(ctx, "nonce", "n1", func(r storage.Record) (storage.Record, error) { return r, nil })
			return err
		}(),
	} {
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s of an expired record: got %v, want ErrNotFound", name, err)
		}
	}
	if list, err := s.ListRecords(ctx, "nonce", ""); err != nil || len(list) != 0 {
		t.Fatalf("list shows expired records: %+v, %v", list, err)
	}
	// An expired record does not block a new one with its key.
	must(t, s.CreateRecord(ctx, storage.Record{Kind: "nonce", Key: "n2", Value: []byte("old"), ExpiresAt: past}))
	must(t, s.CreateRecord(ctx, storage.Record{Kind: "nonce", Key: "n2", Value: []byte("new"), ExpiresAt: time.Now().Add(time.Hour)}))
	if r, err := s.GetRecord(ctx, "nonce", "n2"); err != nil || string(r.Value) != "new" || r.Version != 1 {
		t.Fatalf("recreated over expired: %+v, %v", r, err)
	}

	must(t, s.CreateRecord(ctx, storage.Record{Kind: "nonce", Key: "n3", ExpiresAt: past}))
	must(t, s.CreateRecord(ctx, storage.Record{Kind: "nonce", Key: "keep"}))
	n, err := s.DeleteExpiredRecords(ctx, time.Now())
	must(t, err)
	if n < 1 {
		t.Fatalf("DeleteExpiredRecords removed %d, want at least the one still stored", n)
	}
	if _, err := s.GetRecord(ctx, "nonce", "keep"); err != nil {
		t.Fatalf("a record without expiry was removed: %v", err)
	}
}

func testListRecords(t *testing.T, s storage.Store) {
	ctx := t.Context()
	for _, k := range []string{"viewer/bob/x", "viewer/alice/b", "viewer/alice/a", "viewer%/odd", "viewer_/odd", "vie"} {
		must(t, s.CreateRecord(ctx, storage.Record{Kind: "tok", Key: k, Value: []byte(k)}))
	}
	must(t, s.CreateRecord(ctx, storage.Record{Kind: "other", Key: "viewer/alice/z"}))
	keys := func(prefix string) string {
		list, err := s.ListRecords(ctx, "tok", prefix)
		must(t, err)
		out := ""
		for _, r := range list {
			if string(r.Value) != r.Key {
				t.Fatalf("value of %q: %q", r.Key, r.Value)
			}
			out += r.Key + " "
		}
		return out
	}
	for prefix, want := range map[string]string{
		"viewer/alice/": "viewer/alice/a viewer/alice/b ",
		"viewer%":       "viewer%/odd ",
		"viewer_":       "viewer_/odd ",
		"":              "vie viewer%/odd viewer/alice/a viewer/alice/b viewer/bob/x viewer_/odd ",
		"nobody":        "",
	} {
		if got := keys(prefix); got != want {
			t.Errorf("ListRecords(%q) = %q, want %q", prefix, got, want)
		}
	}
	if list, err := s.ListRecords(ctx, "none", ""); err != nil || list == nil || len(list) != 0 {
		t.Fatalf("empty kind: %#v, %v (want an empty non-nil list)", list, err)
	}
}

// testSingleUseConcurrent is the property single-use items rest on: of 100 concurrent takers
// (or creators) of one key, exactly one wins.
func testSingleUseConcurrent(t *testing.T, s storage.Store) {
	ctx := t.Context()
	const n = 100
	must(t, s.CreateRecord(ctx, storage.Record{Kind: "otp", Key: "t1", Value: []byte("v"), ExpiresAt: time.Now().Add(time.Hour)}))
	var takes, creates atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := s.TakeRecord(ctx, "otp", "t1")
			switch {
			case err == nil:
				takes.Add(1)
			case !errors.Is(err, storage.ErrNotFound):
				errs <- fmt.Errorf("take: %w", err)
			}
		}()
		go func() {
			defer wg.Done()
			err := s.CreateRecord(ctx, storage.Record{Kind: "nonce", Key: "once", ExpiresAt: time.Now().Add(time.Hour)})
			switch {
			case err == nil:
				creates.Add(1)
			case !errors.Is(err, storage.ErrAlreadyExists):
				errs <- fmt.Errorf("create: %w", err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if takes.Load() != 1 || creates.Load() != 1 {
		t.Fatalf("of %d concurrent takes %d succeeded, of %d creates %d; want exactly one each", n, takes.Load(), n, creates.Load())
	}
}

func testUpdateRecordConcurrent(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, s.CreateRecord(ctx, storage.Record{Kind: "counter", Key: "c", Value: []byte("0")}))
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.UpdateRecord(ctx, "counter", "c", func(r storage.Record) (storage.Record, error) {
				var v int
				fmt.Sscan(string(r.Value), &v)
				r.Value = []byte(fmt.Sprint(v + 1))
				return r, nil
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	r, err := s.GetRecord(ctx, "counter", "c")
	must(t, err)
	if string(r.Value) != fmt.Sprint(n) || r.Version != n+1 {
		t.Fatalf("after %d concurrent increments: value %s version %d (lost updates)", n, r.Value, r.Version)
	}
}

func testLeases(t *testing.T, s storage.Store) {
	ctx := t.Context()
	acquire := func(name, holder string, ttl time.Duration) bool {
		t.Helper()
		ok, err := s.AcquireLease(ctx, name, holder, ttl)
		must(t, err)
		return ok
	}
	if !acquire("refresh/alice", "r1", time.Minute) {
		t.Fatal("free lease not acquired")
	}
	if acquire("refresh/alice", "r2", time.Minute) {
		t.Fatal("a held lease was given to another holder")
	}
	if !acquire("refresh/alice", "r1", time.Minute) {
		t.Fatal("the holder could not extend its own lease")
	}
	if !acquire("refresh/bob", "r2", time.Minute) {
		t.Fatal("another name was blocked")
	}
	must(t, s.ReleaseLease(ctx, "refresh/alice", "r2")) // not r2's: no effect
	if acquire("refresh/alice", "r2", time.Minute) {
		t.Fatal("release by a non-holder freed the lease")
	}
	must(t, s.ReleaseLease(ctx, "refresh/alice", "r1"))
	if !acquire("refresh/alice", "r2", -time.Second) {
		t.Fatal("released lease not acquired")
	}
	// r2's lease above has already expired: anyone may take it.
	if !acquire("refresh/alice", "r3", time.Minute) {
		t.Fatal("expired lease not taken over")
	}

	const n = 50
	var won atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.AcquireLease(ctx, "race", fmt.Sprintf("h%d", i), time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d of %d concurrent holders got one lease", won.Load(), n)
	}
}
