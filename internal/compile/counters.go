package compile

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/rls"
)

// CounterDataset returns the dataset of a counter widget, and false for any other widget. Counters
// over one dataset see the same rows (filters and RLS apply per dataset), so they can share one
// scan (Counters).
func CounterDataset(d *dashboard.Dashboard, widgetName string) (string, bool) {
	w := findWidget(d, widgetName)
	if w == nil || w.Type != dashboard.WidgetCounter {
		return "", false
	}
	return w.Dataset, true
}

// CountersQuery is one statement computing several counters: result column i is the value of
// Widgets[i], which alone would be a column named Keys[i].
type CountersQuery struct {
	Query
	Widgets []string
	Keys    []string
}

// Counters compiles the values of several counter widgets over the same dataset into one
// statement, one scan instead of one per widget:
//
//	SELECT <value 1> AS "c0", <value 2> AS "c1", ... FROM (<secured dataset>) AS ds WHERE <filters>
//
// Row-level security and filters are applied exactly as in Widget (filteredRows).
func Counters(d *dashboard.Dashboard, widgetNames []string, dialect datasource.Dialect, v rls.Viewer, f FilterValues) (CountersQuery, error) {
	if len(widgetNames) == 0 {
		return CountersQuery{}, definitionError("no counters to compile")
	}
	var ds *dashboard.Dataset
	out := CountersQuery{Widgets: widgetNames, Keys: make([]string, len(widgetNames))}
	cols := make([]string, len(widgetNames))
	for i, name := range widgetNames {
		w := findWidget(d, name)
		if w == nil {
			return CountersQuery{}, &UnknownWidgetError{Widget: name}
		}
		if w.Type != dashboard.WidgetCounter {
			return CountersQuery{}, definitionError("widget %q is a %s, not a counter", name, w.Type)
		}
		wds, err := findDataset(d, w.Dataset)
		if err != nil {
			return CountersQuery{}, fmt.Errorf("widget %q: %w", name, err)
		}
		if ds == nil {
			ds = wds
		} else if wds != ds {
			return CountersQuery{}, definitionError("counters %q and %q read different datasets", widgetNames[0], name)
		}
		shape, err := widgetShape(w)
		if err != nil {
			return CountersQuery{}, fmt.Errorf("widget %q: %w", name, err)
		}
		m := shape.measures[0]
		out.Keys[i] = m.key
		cols[i] = exprSQL(dialect, m.expr) + " AS " + dialect.QuoteIdent("c"+strconv.Itoa(i))
	}
	b := &builder{dialect: dialect}
	b.sb.WriteString("SELECT " + strings.Join(cols, ", ") + " FROM ")
	if err := filteredRows(b, d, ds, v, f); err != nil {
		return CountersQuery{}, err
	}
	out.Query = Query{Source: sourceName(ds), SQL: b.sb.String(), Args: b.args}
	return out, nil
}
