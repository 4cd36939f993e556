// Package health answers "can this replica serve?" for /readyz: the state store must answer,
// and at least one data source must be up (a warehouse outage leaves the other sources'
// dashboards running, so it makes the replica degraded, not unready). A replica that is shutting
// down is unready, so a load balancer stops sending it new requests while it drains.
package health

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inlay/inlay/internal/datasource/guard"
	"github.com/inlay/inlay/internal/storage"
)

// Overall statuses.
const (
	StatusOK          = "ok"          // everything answers
	StatusDegraded    = "degraded"    // serving, but some data source is not up
	StatusUnavailable = "unavailable" // not serving: state store down, no source up, or draining
)

// Source is what the checker needs of a data source.
type Source interface {
	Check(ctx context.Context) guard.Status
}

// Pinger is implemented by stores with a cheaper liveness query than listing signing keys.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Checker checks the state store and every data source.
type Checker struct {
	store    storage.Store
	sources  []Source
	timeout  time.Duration
	draining atomic.Bool
}

// New builds a checker. timeout bounds each check (0 means 2s).
func New(store storage.Store, sources []Source, timeout time.Duration) *Checker {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	return &Checker{store: store, sources: sources, timeout: timeout}
}

// Report is the body of /readyz.
type Report struct {
	Status   string         `json:"status"`
	State    string         `json:"state_store"` // "up" or "down"
	Draining bool           `json:"draining,omitempty"`
	Sources  []guard.Status `json:"data_sources"`
}

// Ready reports whether a load balancer should send this replica requests.
func (r Report) Ready() bool { return r.Status != StatusUnavailable }

// SetDraining marks the replica as shutting down.
func (c *Checker) SetDraining() { c.draining.Store(true) }

// Check runs every check concurrently.
func (c *Checker) Check(ctx context.Context) Report {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	rep := Report{Sources: make([]guard.Status, len(c.sources)), Draining: c.draining.Load()}
	var wg sync.WaitGroup
	for i, s := range c.sources {
		wg.Go(func() { rep.Sources[i] = s.Check(ctx) })
	}
	storeErr := c.ping(ctx)
	wg.Wait()
	rep.State = "up"
	if storeErr != nil {
		rep.State = "down"
	}
	up := 0
	for _, s := range rep.Sources {
		if s.State == guard.StateUp {
			up++
		}
	}
	switch {
	case storeErr != nil || rep.Draining || (len(rep.Sources) > 0 && up == 0):
		rep.Status = StatusUnavailable
	case up < len(rep.Sources):
		rep.Status = StatusDegraded
	default:
		rep.Status = StatusOK
	}
	return rep
}

func (c *Checker) ping(ctx context.Context) error {
	if p, ok := c.store.(Pinger); ok {
		return p.Ping(ctx)
	}
	_, err := c.store.ListSigningKeys(ctx)
	return err
}
