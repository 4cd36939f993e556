// Package compile turns a dashboard widget, a viewer and filter values into one SQL statement
// with bound arguments, for the dialect of the widget's data source. Aggregation, filtering,
// sorting and limiting all happen in that SQL. Every request value (filter values, the viewer's
// RLS values) is a bound argument; the SQL text holds only the dashboard author's dataset SQL,
// quoted identifiers validated by the dashboard package, and integers from the definition.
//
// Each dashboard is compiled once into a Plan (NewPlan); a request only binds its values into the
// plan's SQL text. Row-level security is applied in exactly one place, datasetPlan.writeSecured,
// which every query here reads through.
package compile

import (
	"errors"
	"fmt"

	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/rls"
)

// Query is a compiled statement for one data source.
type Query struct {
	// Source is the data source name ("default" when the dataset names none).
	Source string
	SQL    string
	Args   []any
}

// Options bound the compiled query.
type Options struct {
	// MaxRows caps the rows a query may return; 0 means no cap. A widget's own Limit is kept when
	// smaller. When the cap (not the widget's Limit) bounds the query, the SQL asks for
	// MaxRows+1 rows, so the data source (given MaxRows) can tell the result was truncated.
	MaxRows int
}

// ErrUnknownWidget: the dashboard has no widget of that name. Errors matching it are
// *UnknownWidgetError.
var ErrUnknownWidget = errors.New("compile: unknown widget")

// UnknownWidgetError names the widget that was not found.
type UnknownWidgetError struct{ Widget string }

func (e *UnknownWidgetError) Error() string {
	return fmt.Sprintf("the dashboard has no widget %q", e.Widget)
}

// Is makes errors.Is(err, ErrUnknownWidget) true.
func (e *UnknownWidgetError) Is(target error) bool { return target == ErrUnknownWidget }

// FilterOptionsLimit caps the option list of a select filter.
const FilterOptionsLimit = 1000

// field is a widget field resolved to SQL.
type field struct {
	key  string // result column name
	expr dashboard.Expr
	src  string // the Field.Expr text, for matching Sort entries
}

// Widget compiles and binds the query of one widget in one step, planning only that widget:
//
//	SELECT <dims>, <measures> FROM (<secured dataset>) AS ds WHERE <filters>
//	GROUP BY <dims> ORDER BY ... LIMIT n
//
// The server plans each dashboard once (NewPlan) and binds per request; this is for one-off
// use (tests, tools).
func Widget(d *dashboard.Dashboard, widgetName string, dialect datasource.Dialect, v rls.Viewer, f FilterValues, opts Options) (Query, error) {
	w := findWidget(d, widgetName)
	if w == nil {
		return Query{}, &UnknownWidgetError{Widget: widgetName}
	}
	return planWidget(w, planOne(d, w.Dataset, dialect)).Bind(v, f, opts.MaxRows)
}

// Export compiles the widget's query for a CSV export: the same query (and so the same RLS and
// filters), with the export row cap in opts.
func Export(d *dashboard.Dashboard, widgetName string, dialect datasource.Dialect, v rls.Viewer, f FilterValues, opts Options) (Query, error) {
	return Widget(d, widgetName, dialect, v, f, opts)
}

// FilterOptions compiles and binds the option query of a filter over the secured dataset of its
// first target (FilterPlan.Bind), planning only that filter.
func FilterOptions(d *dashboard.Dashboard, filterName string, dialect datasource.Dialect, v rls.Viewer, opts Options) (Query, error) {
	flt := findFilter(d, filterName)
	if flt == nil {
		return Query{}, &UnknownFilterError{Filter: filterName}
	}
	var datasets map[string]*datasetPlan
	if len(flt.Targets) > 0 {
		datasets = planOne(d, flt.Targets[0].Dataset, dialect)
	}
	return planFilter(flt, datasets).Bind(v, opts.MaxRows)
}

// planOne plans the named dataset alone (none when it does not exist), for one-off compiles.
func planOne(d *dashboard.Dashboard, dataset string, dialect datasource.Dialect) map[string]*datasetPlan {
	for i := range d.Datasets {
		if d.Datasets[i].Name == dataset {
			ds := planDataset(d, &d.Datasets[i], func(string) (datasource.Dialect, error) { return dialect, nil })
			return map[string]*datasetPlan{dataset: ds}
		}
	}
	return nil
}

func findWidget(d *dashboard.Dashboard, name string) *dashboard.Widget {
	for i := range d.Widgets {
		if d.Widgets[i].Name == name {
			return &d.Widgets[i]
		}
	}
	return nil
}

// limit is the LIMIT to write: the widget's own limit when it is within the cap, else the cap
// plus one row so truncation can be detected; 0 for none.
func limit(widget, maxRows int) int {
	switch {
	case maxRows <= 0:
		return max(widget, 0)
	case widget > 0 && widget <= maxRows:
		return widget
	default:
		return maxRows + 1
	}
}

// exprSQL renders a parsed expression. Column names were validated by dashboard.ParseExpr and are
// quoted by the dialect; function names come from a closed set.
func exprSQL(dialect datasource.Dialect, e dashboard.Expr) string {
	switch e.Kind {
	case dashboard.ExprBucket:
		return dialect.TimeBucket(datasource.Grain(e.Func), dialect.QuoteIdent(e.Column))
	case dashboard.ExprAggregate:
		switch {
		case e.Column == "":
			return "count(*)"
		case e.Func == "count_distinct":
			return "count(DISTINCT " + dialect.QuoteIdent(e.Column) + ")"
		default:
			return e.Func + "(" + dialect.QuoteIdent(e.Column) + ")"
		}
	}
	return dialect.QuoteIdent(e.Column)
}

// bucketKey is the dialect's integer key for a time-bucket expression, if it has one.
func bucketKey(dialect datasource.Dialect, e dashboard.Expr) (string, bool) {
	bk, ok := dialect.(datasource.BucketKeyer)
	if !ok || e.Kind != dashboard.ExprBucket {
		return "", false
	}
	return bk.TimeBucketKey(datasource.Grain(e.Func), dialect.QuoteIdent(e.Column))
}

// bucketsKeyed reports whether any dimension is a time bucket the dialect can group by key.
func bucketsKeyed(dialect datasource.Dialect, dims []field) bool {
	for _, fl := range dims {
		if _, ok := bucketKey(dialect, fl.expr); ok {
			return true
		}
	}
	return false
}
