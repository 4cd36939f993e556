package api

import (
	"context"

	"github.com/inlay/inlay/internal/compile"
	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/query"
	"github.com/inlay/inlay/internal/token"
)

// previousJSON is a compared counter's value over the previous period.
type previousJSON struct {
	Rows [][]any `json:"rows"`
	From string  `json:"from"`
	To   string  `json:"to"` // exclusive
}

// previousPeriod shifts the dashboard's first date_range filter value that has both ends back by
// its own length: the period just before the selected one. ok is false when no date filter
// selects a bounded period (nothing to compare with).
func previousPeriod(d *dashboard.Dashboard, f compile.FilterValues) (prev compile.FilterValues, from, to string, ok bool) {
	for _, flt := range d.Filters {
		if flt.Type != dashboard.FilterDateRange {
			continue
		}
		v, set := f[flt.Name]
		if !set || v.From == nil || v.To == nil {
			continue
		}
		span := v.To.Sub(*v.From)
		pf, pt := v.From.Add(-span), *v.From
		prev = make(compile.FilterValues, len(f))
		for k, x := range f {
			prev[k] = x
		}
		prev[flt.Name] = compile.FilterValue{From: &pf, To: &pt}
		return prev, pf.Format("2006-01-02T15:04:05Z07:00"), pt.Format("2006-01-02T15:04:05Z07:00"), true
	}
	return nil, "", "", false
}

// runComparisons runs the counters with compare: previous_period among names (all widgets when
// empty) over the previous period. Failures leave a counter without its comparison.
func (s *Server) runComparisons(ctx context.Context, p *compile.Plan, c *token.Claims, names []string, f compile.FilterValues) map[string]*previousJSON {
	d := p.Dashboard
	var compared []string
	for _, w := range d.Widgets {
		if w.Type != dashboard.WidgetCounter || w.Compare != dashboard.ComparePreviousPeriod {
			continue
		}
		if len(names) > 0 && !contains(names, w.Name) {
			continue
		}
		compared = append(compared, w.Name)
	}
	if len(compared) == 0 {
		return nil
	}
	prev, from, to, ok := previousPeriod(d, f)
	if !ok {
		return nil
	}
	results, err := within(ctx, func(ctx context.Context) (map[string]query.WidgetResult, error) {
		return s.Engine.Run(ctx, p, viewerOf(c), compared, prev)
	})
	if err != nil {
		return nil
	}
	out := map[string]*previousJSON{}
	for name, r := range results {
		if r.Err != nil || r.Result == nil {
			continue
		}
		out[name] = &previousJSON{Rows: jsonRows(r.Result), From: from, To: to}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
