// Package compile turns a dashboard widget, a viewer and filter values into one SQL statement
// with bound arguments, for the dialect of the widget's data source. Aggregation, filtering,
// sorting and limiting all happen in that SQL. Every request value (filter values, the viewer's
// RLS values) is a bound argument; the SQL text holds only the dashboard author's dataset SQL,
// quoted identifiers validated by the dashboard package, and integers from the definition.
//
// Row-level security is applied in exactly one place, securedDataset, which every query here
// reads through.
package compile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

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

// Widget compiles the query for one widget:
//
//	SELECT <dims>, <measures> FROM (<secured dataset>) AS ds WHERE <filters>
//	GROUP BY <dims> ORDER BY ... LIMIT n
func Widget(d *dashboard.Dashboard, widgetName string, dialect datasource.Dialect, v rls.Viewer, f FilterValues, opts Options) (Query, error) {
	w := findWidget(d, widgetName)
	if w == nil {
		return Query{}, &UnknownWidgetError{Widget: widgetName}
	}
	ds, err := findDataset(d, w.Dataset)
	if err != nil {
		return Query{}, fmt.Errorf("widget %q: %w", w.Name, err)
	}
	shape, err := widgetShape(w)
	if err != nil {
		return Query{}, fmt.Errorf("widget %q: %w", w.Name, err)
	}

	b := &builder{dialect: dialect}
	keyed := shape.group && bucketsKeyed(dialect, shape.dims)
	// The SELECT list holds no arguments, so it can be rendered before the FROM clause's
	// arguments are bound without upsetting the marker order.
	var cols, groupBy []string
	switch {
	case keyed:
		// Group by each time bucket's integer key, carrying the bucket's earliest value, and
		// truncate that one value per group outside:
		//   SELECT date_trunc('month', "month_ts") AS "month_ts", ... FROM (
		//     SELECT (year(ts) * 12 + month(ts)) AS "bucket key 1", min(ts) AS "month_ts", ...
		//     GROUP BY 1, ...) AS g
		var outer []string
		for i, fl := range shape.dims {
			key := dialect.QuoteIdent(fl.key)
			if k, ok := bucketKey(dialect, fl.expr); ok {
				cols = append(cols, k+" AS "+dialect.QuoteIdent("bucket key "+strconv.Itoa(i+1)), "min("+dialect.QuoteIdent(fl.expr.Column)+") AS "+key)
				groupBy = append(groupBy, strconv.Itoa(len(cols)-1))
				outer = append(outer, exprSQL(dialect, dashboard.Expr{Kind: dashboard.ExprBucket, Func: fl.expr.Func, Column: fl.key})+" AS "+key)
				continue
			}
			cols = append(cols, exprSQL(dialect, fl.expr)+" AS "+key)
			groupBy = append(groupBy, strconv.Itoa(len(cols)))
			outer = append(outer, key)
		}
		for _, fl := range shape.measures {
			cols = append(cols, exprSQL(dialect, fl.expr)+" AS "+dialect.QuoteIdent(fl.key))
			outer = append(outer, dialect.QuoteIdent(fl.key))
		}
		b.sb.WriteString("SELECT " + strings.Join(outer, ", ") + " FROM (")
	default:
		for i, fl := range append(append([]field(nil), shape.dims...), shape.measures...) {
			cols = append(cols, exprSQL(dialect, fl.expr)+" AS "+dialect.QuoteIdent(fl.key))
			if shape.group && i < len(shape.dims) {
				groupBy = append(groupBy, strconv.Itoa(i+1))
			}
		}
	}
	b.sb.WriteString("SELECT " + strings.Join(cols, ", ") + " FROM ")
	if err := filteredRows(b, d, ds, v, f); err != nil {
		return Query{}, err
	}
	if len(groupBy) > 0 {
		b.sb.WriteString(" GROUP BY " + strings.Join(groupBy, ", "))
	}
	if keyed {
		b.sb.WriteString(") AS g")
	}
	order, err := orderBy(w, shape)
	if err != nil {
		return Query{}, fmt.Errorf("widget %q: %w", w.Name, err)
	}
	if len(order) > 0 {
		parts := make([]string, len(order))
		for i, o := range order {
			parts[i] = dialect.QuoteIdent(o.key)
			if o.desc {
				parts[i] += " DESC"
			}
		}
		b.sb.WriteString(" ORDER BY " + strings.Join(parts, ", "))
	}
	// An aggregate without dimensions (a counter) is one row: no LIMIT needed.
	if n := limit(w.Limit, opts.MaxRows); n > 0 && len(shape.dims) > 0 {
		b.sb.WriteString(" LIMIT " + strconv.Itoa(n))
	}
	return Query{Source: sourceName(ds), SQL: b.sb.String(), Args: b.args}, nil
}

// Export compiles the widget's query for a CSV export: the same query (and so the same RLS and
// filters), with the export row cap in opts.
func Export(d *dashboard.Dashboard, widgetName string, dialect datasource.Dialect, v rls.Viewer, f FilterValues, opts Options) (Query, error) {
	return Widget(d, widgetName, dialect, v, f, opts)
}

// FilterOptions compiles the option query of a filter over the secured dataset of its first
// target: select filters get `SELECT DISTINCT col ... ORDER BY 1 LIMIT 1000`, range filters
// `SELECT min(col) AS "min", max(col) AS "max"`. Other filters' values do not apply.
func FilterOptions(d *dashboard.Dashboard, filterName string, dialect datasource.Dialect, v rls.Viewer, opts Options) (Query, error) {
	flt := findFilter(d, filterName)
	if flt == nil {
		return Query{}, &UnknownFilterError{Filter: filterName}
	}
	if len(flt.Targets) == 0 {
		return Query{}, definitionError("filter %q has no targets", flt.Name)
	}
	tgt := flt.Targets[0]
	ds, err := findDataset(d, tgt.Dataset)
	if err != nil {
		return Query{}, fmt.Errorf("filter %q: %w", flt.Name, err)
	}
	if !dashboard.ValidIdent(tgt.Column) {
		return Query{}, definitionError("filter %q: target column %q is not a plain identifier", flt.Name, tgt.Column)
	}
	col := dialect.QuoteIdent(tgt.Column)
	b := &builder{dialect: dialect}
	switch flt.Type {
	case dashboard.FilterSingleSelect, dashboard.FilterMultiSelect:
		b.sb.WriteString("SELECT DISTINCT " + col + " AS " + dialect.QuoteIdent("value") + " FROM (")
	case dashboard.FilterDateRange, dashboard.FilterNumericRange:
		b.sb.WriteString("SELECT min(" + col + ") AS " + dialect.QuoteIdent("min") + ", max(" + col + ") AS " + dialect.QuoteIdent("max") + " FROM (")
	default:
		return Query{}, definitionError("filter %q: unknown type %q", flt.Name, flt.Type)
	}
	if err := securedDataset(b, ds, v); err != nil {
		return Query{}, err
	}
	b.sb.WriteString(") AS ds")
	if flt.Type == dashboard.FilterSingleSelect || flt.Type == dashboard.FilterMultiSelect {
		b.sb.WriteString(" WHERE " + col + " IS NOT NULL ORDER BY 1 LIMIT " + strconv.Itoa(limit(FilterOptionsLimit, opts.MaxRows)))
	}
	return Query{Source: sourceName(ds), SQL: b.sb.String(), Args: b.args}, nil
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

// filteredRows writes the rows a widget reads: "(<secured dataset>) AS ds WHERE <filters>".
func filteredRows(b *builder, d *dashboard.Dashboard, ds *dashboard.Dataset, v rls.Viewer, f FilterValues) error {
	b.sb.WriteString("(")
	if err := securedDataset(b, ds, v); err != nil {
		return err
	}
	b.sb.WriteString(") AS ds")
	return filterPredicates(b, d, ds.Name, f)
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

// WidgetSource is the data source name the widget's query runs on, so a caller can pick the
// dialect before compiling.
func WidgetSource(d *dashboard.Dashboard, widgetName string) (string, error) {
	w := findWidget(d, widgetName)
	if w == nil {
		return "", &UnknownWidgetError{Widget: widgetName}
	}
	ds, err := findDataset(d, w.Dataset)
	if err != nil {
		return "", fmt.Errorf("widget %q: %w", w.Name, err)
	}
	return sourceName(ds), nil
}

// FilterSource is the data source name a filter's option query runs on (its first target's).
func FilterSource(d *dashboard.Dashboard, filterName string) (string, error) {
	flt := findFilter(d, filterName)
	if flt == nil {
		return "", &UnknownFilterError{Filter: filterName}
	}
	if len(flt.Targets) == 0 {
		return "", definitionError("filter %q has no targets", flt.Name)
	}
	ds, err := findDataset(d, flt.Targets[0].Dataset)
	if err != nil {
		return "", fmt.Errorf("filter %q: %w", flt.Name, err)
	}
	return sourceName(ds), nil
}
