package query

import (
	"context"

	"github.com/inlay/inlay/internal/datasource"
)

// SharedCache is a second result cache shared by every replica (Redis), behind the in-process
// one and keyed the same way (source, SQL, every bound argument, row cap): a result computed on
// one replica is served from the others. The engine consults it only when the in-process cache
// is on, and only from the one execution that identical concurrent requests share.
//
// An implementation absorbs its own failures: Get reports a miss and Set drops the result when
// the shared cache is slow or down, so a viewer never sees its errors.
type SharedCache interface {
	Get(ctx context.Context, key [32]byte) (*datasource.Result, bool)
	Set(key [32]byte, res *datasource.Result)
}

// sharedGet looks key up in the shared cache and, on a hit, fills the in-process cache.
func (e *Engine) sharedGet(ctx context.Context, key cacheKey) (*datasource.Result, bool) {
	if e.cache == nil || e.opts.Shared == nil {
		return nil, false
	}
	res, ok := e.opts.Shared.Get(ctx, key)
	if !ok {
		return nil, false
	}
	e.sharedHits.Add(1)
	e.cache.Set(key, cacheEntry{res: res, weight: weigh(res)})
	return res, true
}

// sharedSet offers a freshly computed result to the shared cache.
func (e *Engine) sharedSet(key cacheKey, res *datasource.Result) {
	if e.cache != nil && e.opts.Shared != nil {
		e.opts.Shared.Set(key, res)
	}
}
