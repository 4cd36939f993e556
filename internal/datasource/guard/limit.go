package guard

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/inlay/inlay/internal/datasource"
)

// Limited runs at most a fixed number of queries on a source at once. Further queries wait in a
// queue, in no particular order, for as long as their context allows; when the queue is full a
// query fails at once with datasource.ErrBusy, so a flood of requests turns into quick 503s
// instead of a pile of waiting goroutines and connections.
type Limited struct {
	datasource.Source
	slots    chan struct{}
	maxQueue int64
	queued   atomic.Int64
}

var _ datasource.Source = (*Limited)(nil)

// Limit wraps src: at most concurrent queries run, at most queue wait.
func Limit(src datasource.Source, concurrent, queue int) *Limited {
	return &Limited{Source: src, slots: make(chan struct{}, max(concurrent, 1)), maxQueue: int64(max(queue, 0))}
}

// Query waits for a slot (or fails with ErrBusy when the queue is full, or with ErrTimeout or
// ErrCanceled when ctx ends first), then runs q.
func (l *Limited) Query(ctx context.Context, q datasource.Query) (*datasource.Result, error) {
	select {
	case l.slots <- struct{}{}:
	default:
		if l.queued.Add(1) > l.maxQueue {
			l.queued.Add(-1)
			return nil, fmt.Errorf("%w: %d queries running and %d queued", datasource.ErrBusy, cap(l.slots), l.maxQueue)
		}
		select {
		case l.slots <- struct{}{}:
			l.queued.Add(-1)
		case <-ctx.Done():
			l.queued.Add(-1)
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, fmt.Errorf("%w: waiting for a query slot: %w", datasource.ErrTimeout, ctx.Err())
			}
			return nil, fmt.Errorf("%w: waiting for a query slot: %w", datasource.ErrCanceled, ctx.Err())
		}
	}
	defer func() { <-l.slots }()
	return l.Source.Query(ctx, q)
}

// Running is the number of queries running now; Queued the number waiting.
func (l *Limited) Running() int { return len(l.slots) }
func (l *Limited) Queued() int  { return int(l.queued.Load()) }

// Unwrap returns the wrapped source.
func (l *Limited) Unwrap() datasource.Source { return l.Source }
