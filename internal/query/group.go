package query

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/inlay/inlay/internal/datasource"
)

// group runs identical concurrent queries once. Unlike singleflight, the shared execution is
// reference-counted: one waiter leaving (its client went away) does not cancel the query for the
// others, but the last waiter leaving cancels it, so the database stops working for nobody.
type group struct {
	mu    sync.Mutex
	calls map[cacheKey]*call
	// joins counts requests that joined a running call, as they join.
	joins atomic.Int64
}

type call struct {
	done    chan struct{}
	res     *datasource.Result
	err     error
	waiters int // guarded by group.mu
	cancel  context.CancelFunc
}

// do returns the result of fn for key, starting fn unless a call for key is already running, in
// which case it waits for that one (joined reports so). fn runs on a context that keeps ctx's
// values but not its cancellation; it is cancelled when every waiter has left.
func (g *group) do(ctx context.Context, key cacheKey, fn func(context.Context) (*datasource.Result, error)) (res *datasource.Result, joined bool, err error) {
	g.mu.Lock()
	if g.calls == nil {
		g.calls = make(map[cacheKey]*call)
	}
	c, joined := g.calls[key]
	if joined {
		c.waiters++
		g.joins.Add(1)
	} else {
		runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		c = &call{done: make(chan struct{}), waiters: 1, cancel: cancel}
		g.calls[key] = c
		go func() {
			c.res, c.err = fn(runCtx)
			g.mu.Lock()
			if g.calls[key] == c {
				delete(g.calls, key)
			}
			g.mu.Unlock()
			cancel()
			close(c.done)
		}()
	}
	g.mu.Unlock()

	select {
	case <-c.done:
		return c.res, joined, c.err
	case <-ctx.Done():
		g.mu.Lock()
		c.waiters--
		if c.waiters == 0 {
			// Nobody wants the answer any more: stop the query, and let the next request for
			// the same key start afresh instead of joining a cancelled call.
			c.cancel()
			if g.calls[key] == c {
				delete(g.calls, key)
			}
		}
		g.mu.Unlock()
		return nil, joined, contextError(ctx.Err())
	}
}
