package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestBurstThenRefill(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := New(2, 3, c.now) // 2/s, bursts of 3
	for i := range 3 {
		if ok, _ := l.Allow("p1"); !ok {
			t.Fatalf("event %d of the burst refused", i+1)
		}
	}
	ok, retry := l.Allow("p1")
	if ok || retry <= 0 || retry > time.Second {
		t.Fatalf("fourth event: ok=%v retry=%v, want refused with a wait of at most 0.5s", ok, retry)
	}
	// Another key has its own bucket.
	if ok, _ := l.Allow("p2"); !ok {
		t.Fatal("another key was limited")
	}
	// A refused event takes nothing: after the wait it is allowed.
	c.t = c.t.Add(retry)
	if ok, _ := l.Allow("p1"); !ok {
		t.Fatal("refused after waiting Retry-After")
	}
}

func TestIdleBucketsAreForgotten(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := New(10, 10, c.now)
	for i := range 5000 {
		l.Allow(fmt.Sprint("k", i))
	}
	c.t = c.t.Add(time.Hour)
	for i := range 4000 {
		l.Allow(fmt.Sprint("new", i))
	}
	if n := l.Len(); n > 4000 {
		t.Fatalf("%d buckets held, want the idle ones dropped", n)
	}
}
