package query

import (
	"fmt"
	"slices"

	"github.com/inlay/inlay/internal/compile"
	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
)

// Catalog is the set of dashboards an engine serves, each compiled once into a plan. It is
// immutable: a reload compiles a new Catalog and publishes it with Engine.Publish, atomically, so
// a request that has taken a plan finishes on it while later requests see the new one.
type Catalog struct {
	plans map[string]*compile.Plan
	ids   []string // sorted
}

// Plan returns the plan of the dashboard with the given id.
func (c *Catalog) Plan(id string) (*compile.Plan, bool) {
	p, ok := c.plans[id]
	return p, ok
}

// IDs returns the dashboard ids in order.
func (c *Catalog) IDs() []string { return c.ids }

// Len is the number of dashboards.
func (c *Catalog) Len() int { return len(c.ids) }

// CatalogProblem is a definition error found while compiling one dashboard.
type CatalogProblem struct {
	Dashboard *dashboard.Dashboard
	compile.PlanProblem
}

// Compile plans every dashboard for the engine's data sources. The catalog is returned even
// with problems (a widget with a definition error fails alone, per request); a repeated
// dashboard id is an error, and no catalog.
func (e *Engine) Compile(dashboards []*dashboard.Dashboard) (*Catalog, []CatalogProblem, error) {
	c := &Catalog{plans: make(map[string]*compile.Plan, len(dashboards))}
	var problems []CatalogProblem
	for _, d := range dashboards {
		if _, dup := c.plans[d.ID]; dup {
			return nil, nil, fmt.Errorf("query: two dashboards with id %q", d.ID)
		}
		p := compile.NewPlan(d, e.dialect)
		for _, pp := range p.Problems() {
			problems = append(problems, CatalogProblem{Dashboard: d, PlanProblem: pp})
		}
		c.plans[d.ID] = p
		c.ids = append(c.ids, d.ID)
	}
	slices.Sort(c.ids)
	return c, problems, nil
}

// dialect is the DialectFunc of the engine's sources.
func (e *Engine) dialect(source string) (datasource.Dialect, error) {
	src, err := e.source(source)
	if err != nil {
		return nil, err
	}
	return src.Dialect(), nil
}

// Publish makes c the catalog requests use from now on. Requests holding a plan of the previous
// catalog finish on it.
func (e *Engine) Publish(c *Catalog) { e.catalog.Store(c) }

// Catalog returns the current catalog. A request takes it once, at its start.
func (e *Engine) Catalog() *Catalog { return e.catalog.Load() }
