// Package ratelimit keeps one token bucket per key (a service principal, an embed token) in
// memory, bounded: buckets idle long enough to have refilled are forgotten, since a new bucket
// is the same as a full one. Limits are per replica; with N replicas behind a balancer a key
// gets up to N times the rate, which the configured rate should allow for.
package ratelimit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter allows each key rate events per second with bursts of burst.
type Limiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time
	// idle is how long a bucket takes to refill from empty: after that it can be dropped.
	idle time.Duration

	mu      sync.Mutex
	buckets map[string]*bucket
	sweepAt int // sweep when the map reaches this size
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

// New returns a limiter of perSecond events per second per key, bursts of burst. now may be nil
// (time.Now).
func New(perSecond float64, burst int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	burst = max(burst, 1)
	idle := time.Duration(math.Ceil(float64(burst)/perSecond*float64(time.Second))) + time.Second
	return &Limiter{limit: rate.Limit(perSecond), burst: burst, now: now, idle: idle,
		buckets: map[string]*bucket{}, sweepAt: 1024}
}

// Allow takes one event for key. When the bucket is empty it takes nothing and returns how long
// until an event would be allowed.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.sweepAt {
			l.sweep(now)
		}
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}
	b.last = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets buckets idle long enough to be full again, and moves the next sweep so that
// sweeping costs O(1) per new key on average.
func (l *Limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if now.Sub(b.last) > l.idle {
			delete(l.buckets, k)
		}
	}
	l.sweepAt = max(1024, 2*len(l.buckets))
}

// Len is the number of buckets held (for tests and metrics).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
