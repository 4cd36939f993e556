package compile

import (
	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/rls"
)

// CountersQuery is one statement computing several counters: result column i is the value of
// Widgets[i], which alone would be a column named Keys[i].
type CountersQuery struct {
	Query
	Widgets []string
	Keys    []string
}

// Counters compiles and binds the values of several counter widgets over the same dataset into
// one statement (Plan.Counters), planning only those widgets, for one-off use.
func Counters(d *dashboard.Dashboard, widgetNames []string, dialect datasource.Dialect, v rls.Viewer, f FilterValues) (CountersQuery, error) {
	if len(widgetNames) == 0 {
		return CountersQuery{}, definitionError("no counters to compile")
	}
	dialectOf := func(string) (datasource.Dialect, error) { return dialect, nil }
	datasets := map[string]*datasetPlan{}
	ws := make([]*WidgetPlan, len(widgetNames))
	for i, name := range widgetNames {
		w := findWidget(d, name)
		if w == nil {
			return CountersQuery{}, &UnknownWidgetError{Widget: name}
		}
		if _, ok := datasets[w.Dataset]; !ok {
			if ds, ok := d.Dataset(w.Dataset); ok {
				datasets[w.Dataset] = planDataset(d, ds, dialectOf)
			}
		}
		ws[i] = planWidget(w, datasets)
	}
	return (&Plan{}).Counters(ws, v, f)
}
