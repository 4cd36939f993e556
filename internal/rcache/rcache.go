// Package rcache is the shared result cache on Redis (go-redis): query.SharedCache for several
// Inlay replicas. Entries are sealed with Inlay's master key and bound to their cache key, so
// whoever can read Redis cannot read viewers' rows and whoever can write it cannot plant rows in
// a viewer's answer (a changed or moved entry fails to open and counts as a miss).
//
// Redis is an optimisation, never a dependency: every call has short dial, read and write
// timeouts, and a circuit breaker stops calling Redis for a while after consecutive failures,
// so a stopped or slow Redis costs at most a few milliseconds per breaker period and the
// in-process cache carries on alone. No error from here ever reaches a viewer.
package rcache

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/query"
	"github.com/inlay/inlay/internal/secret"
)

// keyPrefix namespaces Inlay's entries (and their format version) in the Redis database.
const keyPrefix = "inlay:result:v1:"

// Options configure a Cache. Zero values take the defaults noted.
type Options struct {
	// TTL is how long an entry lives in Redis: the engine's cache TTL.
	TTL time.Duration
	// MaxEntryBytes is the largest encoded result stored (default 1 MiB); larger ones stay in
	// the in-process cache only.
	MaxEntryBytes int
	// Timeout bounds every Redis call, dial included (default 100 ms).
	Timeout time.Duration
	// FailuresToOpen consecutive failures open the breaker (default 3).
	FailuresToOpen int
	// OpenFor is how long an open breaker skips Redis before one probe call (default 5 s).
	OpenFor time.Duration
	Logger  *slog.Logger
}

// Stats counts what the cache did.
type Stats struct {
	Hits, Misses, Sets int64
	Errors             int64 // Redis calls that failed (timeouts, refused connections)
	Skipped            int64 // calls not made because the breaker was open
	Rejected           int64 // entries that did not open (tampered, other master key) or decode
}

// Cache is a query.SharedCache on Redis.
type Cache struct {
	client *redis.Client
	keys   *secret.Keys
	opts   Options

	hits, misses, sets, errs, skipped, rejected atomic.Int64

	mu        sync.Mutex
	failures  int       // consecutive failures
	openUntil time.Time // breaker open (Redis skipped) until then
	probing   bool      // one call is testing a half-open breaker
}

var _ query.SharedCache = (*Cache)(nil)

// New returns a cache on the Redis at url (redis://[:password@]host:port[/db]). It does not
// connect: a Redis that is down at start is treated like one that goes down later.
func New(url string, keys *secret.Keys, opts Options) (*Cache, error) {
	ro, err := redis.ParseURL(url)
	if err != nil {
		// The URL may hold a password: do not quote it.
		return nil, errors.New("rcache: cache.redis is not a valid redis:// URL")
	}
	if opts.TTL <= 0 {
		return nil, errors.New("rcache: a shared cache needs a positive TTL (query.cache_ttl)")
	}
	if opts.MaxEntryBytes <= 0 {
		opts.MaxEntryBytes = 1 << 20
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 100 * time.Millisecond
	}
	if opts.FailuresToOpen <= 0 {
		opts.FailuresToOpen = 3
	}
	if opts.OpenFor <= 0 {
		opts.OpenFor = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ro.DialTimeout, ro.ReadTimeout, ro.WriteTimeout = opts.Timeout, opts.Timeout, opts.Timeout
	ro.PoolTimeout = opts.Timeout
	ro.MaxRetries = -1 // no retries: a miss is cheaper than waiting
	ro.ContextTimeoutEnabled = true
	ro.DisableIdentity = true // skip CLIENT SETINFO on connect: fewer round trips, older servers fine
	return &Cache{client: redis.NewClient(ro), keys: keys, opts: opts}, nil
}

// Close closes the connections.
func (c *Cache) Close() error { return c.client.Close() }

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Sets: c.sets.Load(), Errors: c.errs.Load(),
		Skipped: c.skipped.Load(), Rejected: c.rejected.Load()}
}

// Ping reports whether Redis answers (for readiness reports; Inlay is ready without it).
func (c *Cache) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	return c.client.Ping(ctx).Err()
}

func redisKey(key [32]byte) string { return keyPrefix + hex.EncodeToString(key[:]) }

// Get returns the result stored under key, or a miss on any failure.
func (c *Cache) Get(ctx context.Context, key [32]byte) (*datasource.Result, bool) {
	if !c.allow() {
		c.skipped.Add(1)
		return nil, false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.Timeout)
	defer cancel()
	b, err := c.client.Get(ctx, redisKey(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		c.done(nil)
		c.misses.Add(1)
		return nil, false
	}
	if err != nil {
		c.done(err)
		c.misses.Add(1)
		return nil, false
	}
	c.done(nil)
	plain, err := c.keys.Open(b, key[:])
	if err != nil {
		c.rejected.Add(1)
		return nil, false
	}
	res, err := decode(plain)
	if err != nil {
		c.rejected.Add(1)
		return nil, false
	}
	c.hits.Add(1)
	return res, true
}

// Set stores res under key for the TTL; failures and oversized results are dropped.
func (c *Cache) Set(key [32]byte, res *datasource.Result) {
	plain, err := encode(res)
	if err != nil || len(plain) > c.opts.MaxEntryBytes {
		return
	}
	sealed, err := c.keys.Seal(plain, key[:])
	if err != nil {
		return
	}
	if !c.allow() {
		c.skipped.Add(1)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
	defer cancel()
	err = c.client.Set(ctx, redisKey(key), sealed, c.opts.TTL).Err()
	c.done(err)
	if err == nil {
		c.sets.Add(1)
	}
}

// allow reports whether a call may go to Redis: the breaker is closed, or it is half-open and
// this call is the one probe.
func (c *Cache) allow() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.openUntil.IsZero() {
		return true
	}
	if time.Now().Before(c.openUntil) || c.probing {
		return false
	}
	c.probing = true
	return true
}

// done records a call's outcome in the breaker.
func (c *Cache) done(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.probing = false
	if err == nil {
		if !c.openUntil.IsZero() {
			c.opts.Logger.Info("shared cache: Redis answers again")
		}
		c.failures, c.openUntil = 0, time.Time{}
		return
	}
	c.errs.Add(1)
	c.failures++
	if c.failures >= c.opts.FailuresToOpen {
		if c.openUntil.IsZero() {
			c.opts.Logger.Warn("shared cache: Redis is failing; using the in-process cache alone",
				"for", c.opts.OpenFor, "err", fmt.Sprint(err))
		}
		c.openUntil = time.Now().Add(c.opts.OpenFor)
	}
}
