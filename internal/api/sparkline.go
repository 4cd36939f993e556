package api

import (
	"context"

	"github.com/inlay/inlay/internal/compile"
	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/query"
	"github.com/inlay/inlay/internal/token"
)

// sparklineJSON is a counter's sparkline: its value by the sparkline's x, in x order.
type sparklineJSON struct {
	Columns []datasource.Column `json:"columns"`
	Rows    [][]any             `json:"rows"`
}

// runSparklines runs the sparklines of the counters among names (every widget when empty) with
// the request's filters, as the line widgets the plan compiled for them (the same binding and
// row-level security as any widget). A failure leaves its counter without a sparkline.
func (s *Server) runSparklines(ctx context.Context, p *compile.Plan, c *token.Claims, names []string, f compile.FilterValues) map[string]*sparklineJSON {
	var lines []string
	for _, w := range p.Dashboard.Widgets {
		if w.SparklineWidget() == nil || (len(names) > 0 && !contains(names, w.Name)) {
			continue
		}
		lines = append(lines, w.Name+dashboard.SparklineSuffix)
	}
	if len(lines) == 0 {
		return nil
	}
	results, err := within(ctx, func(ctx context.Context) (map[string]query.WidgetResult, error) {
		return s.Engine.Run(ctx, p, viewerOf(c), lines, f)
	})
	if err != nil {
		return nil
	}
	out := map[string]*sparklineJSON{}
	for name, r := range results {
		if r.Err != nil || r.Result == nil {
			continue
		}
		sp := &sparklineJSON{Columns: r.Result.Columns, Rows: jsonRows(r.Result)}
		if sp.Rows == nil {
			sp.Rows = [][]any{}
		}
		out[name[:len(name)-len(dashboard.SparklineSuffix)]] = sp
	}
	return out
}
