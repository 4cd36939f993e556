// Package guard wraps a datasource.Source with what a server needs around it in production:
// Supervised opens it in the background and retries with backoff (so one unreachable database
// does not stop the server, nor take the other sources' dashboards down) and reports its state;
// Limited caps the queries running on it at once, queueing the rest and refusing beyond the
// queue. Both are datasource.Sources themselves, so the query engine does not know they exist.
package guard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/inlay/inlay/internal/datasource"
)

// State of a supervised source.
type State string

const (
	StateConnecting State = "connecting" // never opened yet; retrying
	StateUp         State = "up"
	StateDown       State = "down" // opened, but the last check or query could not reach it
)

// Opener opens the underlying source; it is called again, with backoff, until it succeeds.
type Opener func(ctx context.Context) (datasource.Source, error)

// SuperviseOptions tune Supervise; zero fields take the defaults noted.
type SuperviseOptions struct {
	// FirstAttempt bounds the attempt made before Supervise returns (default 10s).
	FirstAttempt time.Duration
	// MinBackoff and MaxBackoff bound the wait between attempts (defaults 500ms and 30s); it
	// doubles after each failure.
	MinBackoff, MaxBackoff time.Duration
	// CheckTimeout bounds a health check query (default 2s).
	CheckTimeout time.Duration
	Logger       *slog.Logger
}

// Supervised is a data source that may not be open yet. Until it is, queries fail at once with
// datasource.ErrUnavailable (a 503 for that source's widgets only).
type Supervised struct {
	name    string
	dialect datasource.Dialect
	open    Opener
	opts    SuperviseOptions

	mu      sync.RWMutex
	src     datasource.Source // nil until opened
	state   State
	since   time.Time
	lastErr error

	stop context.CancelFunc
	done chan struct{}
}

var _ datasource.Source = (*Supervised)(nil)

// Supervise tries to open the source once (within FirstAttempt) and, if that fails, keeps trying
// in the background until it opens or Close is called. dialect is the engine's, known before any
// connection exists. It never fails: the state says how the source is.
func Supervise(ctx context.Context, name string, dialect datasource.Dialect, open Opener, opts SuperviseOptions) *Supervised {
	if opts.FirstAttempt <= 0 {
		opts.FirstAttempt = 10 * time.Second
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 500 * time.Millisecond
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(30*time.Second, opts.MinBackoff)
	}
	if opts.CheckTimeout <= 0 {
		opts.CheckTimeout = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s := &Supervised{name: name, dialect: dialect, open: open, opts: opts, state: StateConnecting,
		since: time.Now(), stop: stop, done: make(chan struct{})}
	first, cancel := context.WithTimeout(ctx, opts.FirstAttempt)
	err := s.attempt(first)
	cancel()
	if err == nil {
		close(s.done)
		return s
	}
	go s.retry(runCtx, err)
	return s
}

// attempt opens the source once.
func (s *Supervised) attempt(ctx context.Context) error {
	src, err := s.open(ctx)
	if err != nil {
		s.mu.Lock()
		s.lastErr = err
		s.mu.Unlock()
		return err
	}
	s.mu.Lock()
	s.src, s.state, s.since, s.lastErr = src, StateUp, time.Now(), nil
	s.mu.Unlock()
	s.opts.Logger.Info("data source open", "source", s.name)
	return nil
}

func (s *Supervised) retry(ctx context.Context, err error) {
	defer close(s.done)
	wait := s.opts.MinBackoff
	for {
		// The cause may name a host; it never holds a password (drivers redact them).
		s.opts.Logger.Warn("data source unavailable; retrying", "source", s.name, "retry_in", wait.String(), "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		actx, cancel := context.WithTimeout(ctx, s.opts.FirstAttempt)
		err = s.attempt(actx)
		cancel()
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			return
		}
		wait = min(wait*2, s.opts.MaxBackoff)
	}
}

// Name is the source's configured name.
func (s *Supervised) Name() string { return s.name }

// Dialect is the engine's dialect, available before the source opens.
func (s *Supervised) Dialect() datasource.Dialect { return s.dialect }

func (s *Supervised) current() datasource.Source {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.src
}

// Query runs q on the source, or fails with datasource.ErrUnavailable while it is not open. A
// query that finds the source unreachable marks it down; one that succeeds marks it up.
func (s *Supervised) Query(ctx context.Context, q datasource.Query) (*datasource.Result, error) {
	src := s.current()
	if src == nil {
		return nil, fmt.Errorf("%w: data source %q is not connected yet", datasource.ErrUnavailable, s.name)
	}
	res, err := src.Query(ctx, q)
	switch {
	case err == nil:
		s.mark(StateUp, nil)
	case errors.Is(err, datasource.ErrUnavailable):
		s.mark(StateDown, err)
	}
	return res, err
}

func (s *Supervised) mark(st State, err error) {
	s.mu.RLock()
	same := s.state == st
	s.mu.RUnlock()
	if same {
		return
	}
	s.mu.Lock()
	if s.state != st {
		s.state, s.since, s.lastErr = st, time.Now(), err
		if st == StateDown {
			s.opts.Logger.Warn("data source down", "source", s.name, "err", err)
		} else {
			s.opts.Logger.Info("data source up again", "source", s.name)
		}
	}
	s.mu.Unlock()
}

// Status is a source's state as /readyz reports it. It carries no error text: causes can name
// hosts, and they are in the log.
type Status struct {
	Name  string    `json:"name"`
	State State     `json:"state"`
	Since time.Time `json:"since"`
}

// Check probes the source with a trivial query (when it is open) and returns its state.
func (s *Supervised) Check(ctx context.Context) Status {
	if src := s.current(); src != nil {
		cctx, cancel := context.WithTimeout(ctx, s.opts.CheckTimeout)
		_, err := src.Query(cctx, datasource.Query{SQL: "SELECT 1", MaxRows: 1})
		cancel()
		switch {
		case err == nil:
			s.mark(StateUp, nil)
		case ctx.Err() == nil:
			s.mark(StateDown, err)
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return Status{Name: s.name, State: s.state, Since: s.since}
}

// Close stops retrying, waits for the retry loop, and closes the source if it was opened.
func (s *Supervised) Close() error {
	s.stop()
	<-s.done
	if src := s.current(); src != nil {
		return src.Close()
	}
	return nil
}

// Unwrap returns the opened source, or nil, for callers that need the concrete type.
func (s *Supervised) Unwrap() datasource.Source { return s.current() }
