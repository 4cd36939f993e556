package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// closeTimeout bounds how long closing everything may take at exit (flushing the audit log,
// closing pools).
const closeTimeout = 10 * time.Second

// lifecycle owns what a command started. Each resource is registered as soon as it is open, and
// the command closes the lifecycle once (deferred): resources close in the reverse order of
// opening, so a start that fails halfway closes exactly what was opened and nothing else, and
// every close error is returned. Goroutines run through run, in one errgroup.
type lifecycle struct {
	mu      sync.Mutex
	closers []closer
	closed  bool
}

type closer struct {
	name  string
	close func(context.Context) error
}

// add registers f to be called by close, before everything registered earlier.
func (l *lifecycle) add(name string, f func(context.Context) error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closers = append(l.closers, closer{name: name, close: f})
}

// addCloser registers c.Close.
func (l *lifecycle) addCloser(name string, c io.Closer) {
	l.add(name, func(context.Context) error { return c.Close() })
}

// close closes everything registered, newest first, and returns every failure, each naming its
// resource. Later calls do nothing.
func (l *lifecycle) close(ctx context.Context) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	closers := slices.Clone(l.closers)
	l.mu.Unlock()
	var errs []error
	for _, c := range slices.Backward(closers) {
		if err := c.close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("closing %s: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}

// closeWithin is close with closeTimeout, from a fresh context: the command's own context has
// usually ended when it is called.
func (l *lifecycle) closeWithin(d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return l.close(ctx)
}

// run runs every task in one errgroup until ctx ends or a task fails, which stops the others
// (their context ends), and waits for all of them. It returns the first failure; tasks that end
// because the context did are not failures.
func (l *lifecycle) run(ctx context.Context, tasks ...func(context.Context) error) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, task := range tasks {
		g.Go(func() error { return task(gctx) })
	}
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
