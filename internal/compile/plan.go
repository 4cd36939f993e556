package compile

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/rls"
)

// Plan is a dashboard compiled once, when it is loaded, for the dialects of its data sources:
// every widget resolved to its dataset, source, shape and SQL text, every filter to its targets,
// every dataset's SQL split around __aibi_external_value. A request only binds the viewer's RLS
// values and its filter values into that text (Bind), with no lookups by name into the
// definition and no expression parsing.
//
// A Plan is immutable once built and safe for concurrent use; a reload builds a new one.
type Plan struct {
	// Dashboard is the definition the plan was compiled from. It must not be modified.
	Dashboard *dashboard.Dashboard

	widgets  map[string]*WidgetPlan
	filters  map[string]*FilterPlan
	datasets map[string]*datasetPlan
	// Widgets in the dashboard's order.
	order []*WidgetPlan
	// Filters in the dashboard's order.
	filterOrder []*FilterPlan
	problems    []PlanProblem
	// usesExternalValue: a dataset names __aibi_external_value.
	usesExternalValue bool
}

// PlanProblem is a definition error found while planning, with the dotted path of the part of the
// dashboard it concerns ("widgets.2", "datasets.0", "filters.1"), for positioning it in the file.
type PlanProblem struct {
	Path string
	Err  error
}

// DialectFunc returns the dialect of a named data source, or an error when there is no such
// source (the error is then the error of every query on it).
type DialectFunc func(source string) (datasource.Dialect, error)

// NewPlan compiles d. Definition errors do not stop it: the widget or filter concerned keeps its
// error, returned by every Bind (so one broken widget cannot take the dashboard down), and
// Problems lists them all.
func NewPlan(d *dashboard.Dashboard, dialectOf DialectFunc) *Plan {
	p := &Plan{
		Dashboard: d,
		widgets:   make(map[string]*WidgetPlan, len(d.Widgets)),
		filters:   make(map[string]*FilterPlan, len(d.Filters)),
		datasets:  make(map[string]*datasetPlan, len(d.Datasets)),
	}
	for i := range d.Datasets {
		if _, n, err := rls.RewriteExternalValue(d.Datasets[i].SQL, func() string { return "NULL" }); err != nil || n > 0 {
			p.usesExternalValue = true // a dataset the rewriter cannot read counts as needing it: fail closed
		}
		ds := planDataset(d, &d.Datasets[i], dialectOf)
		if ds.err != nil {
			p.problems = append(p.problems, PlanProblem{Path: "datasets." + strconv.Itoa(i), Err: ds.err})
		}
		if _, dup := p.datasets[ds.name]; !dup {
			p.datasets[ds.name] = ds
		}
	}
	for i := range d.Filters {
		fp := planFilter(&d.Filters[i], p.datasets)
		if fp.err != nil && !errors.Is(fp.err, errDatasetBroken) {
			p.problems = append(p.problems, PlanProblem{Path: "filters." + strconv.Itoa(i), Err: fp.err})
		}
		p.filters[fp.Name] = fp
		p.filterOrder = append(p.filterOrder, fp)
	}
	for i := range d.Widgets {
		if !d.Widgets[i].Queried() {
			continue // text tiles carry their content in the definition: nothing to run
		}
		wp := planWidget(&d.Widgets[i], p.datasets)
		if wp.err != nil && !errors.Is(wp.err, errDatasetBroken) {
			p.problems = append(p.problems, PlanProblem{Path: "widgets." + strconv.Itoa(i), Err: wp.err})
		}
		p.widgets[wp.Name] = wp
		p.order = append(p.order, wp)
		// A counter's sparkline is a line widget of its own, reachable by name only (it is not
		// among "every widget"): the same plan, binding and row-level security as any widget.
		if sw := d.Widgets[i].SparklineWidget(); sw != nil {
			sp := planWidget(sw, p.datasets)
			if sp.err != nil && !errors.Is(sp.err, errDatasetBroken) {
				p.problems = append(p.problems, PlanProblem{Path: "widgets." + strconv.Itoa(i) + ".sparkline", Err: sp.err})
			}
			p.widgets[sp.Name] = sp
		}
	}
	return p
}

// errDatasetBroken marks a widget or filter error that only repeats its dataset's own problem.
var errDatasetBroken = errors.New("the dataset cannot be compiled")

// UsesExternalValue reports whether a dataset names __aibi_external_value, so that a viewer
// without an external value can read nothing of it.
func (p *Plan) UsesExternalValue() bool { return p.usesExternalValue }

// Problems are the definition errors found while planning.
func (p *Plan) Problems() []PlanProblem { return p.problems }

// Widget returns the plan of the named widget.
func (p *Plan) Widget(name string) (*WidgetPlan, error) {
	if w, ok := p.widgets[name]; ok {
		return w, nil
	}
	return nil, &UnknownWidgetError{Widget: name}
}

// Widgets returns every widget's plan in the dashboard's order.
func (p *Plan) Widgets() []*WidgetPlan { return p.order }

// Filters returns every filter's plan in the dashboard's order.
func (p *Plan) Filters() []*FilterPlan { return p.filterOrder }

// Filter returns the plan of the named filter.
func (p *Plan) Filter(name string) (*FilterPlan, error) {
	if f, ok := p.filters[name]; ok {
		return f, nil
	}
	return nil, &UnknownFilterError{Filter: name}
}

// Dataset binds the viewer's values into the rows of a dataset, `SELECT * FROM (<secured
// dataset>) AS ds`, which every widget on it reads from: checks describe it.
func (p *Plan) Dataset(name string, v rls.Viewer) (Query, error) {
	ds, ok := p.datasets[name]
	if !ok {
		return Query{}, definitionError("dataset %q is not defined", name)
	}
	if ds.err != nil {
		return Query{}, ds.err
	}
	b := &builder{dialect: ds.dialect}
	b.sb.WriteString("SELECT * FROM (")
	if err := ds.writeSecured(b, v); err != nil {
		return Query{}, err
	}
	b.sb.WriteString(") AS ds")
	return Query{Source: ds.source, SQL: b.sb.String(), Args: b.args}, nil
}

// ParseFilters is ParseFilters over the plan's filters (looked up by name in a map).
func (p *Plan) ParseFilters(raw map[string]json.RawMessage) (FilterValues, error) {
	return parseFilters(raw, func(name string) *dashboard.Filter {
		if f, ok := p.filters[name]; ok {
			return f.def
		}
		return nil
	}, location(p.Dashboard.TimeZone))
}

// datasetPlan is a dataset's SQL prepared for binding: the text between occurrences of
// __aibi_external_value, the quoted columns of its RLS rules, and the filter targets on it.
type datasetPlan struct {
	name    string
	source  string
	dialect datasource.Dialect
	// parts is the dataset SQL split at each __aibi_external_value; len(parts)-1 occurrences.
	parts []string
	rules []rulePlan
	// targets are the filters restricting this dataset, in the dashboard's filter order.
	targets []targetPlan
	err     error
}

type rulePlan struct {
	col       string // quoted
	attribute string
	in        bool
}

type targetPlan struct {
	filter string
	col    string // quoted
}

// evMark stands for __aibi_external_value while splitting; dataset SQL holding a NUL byte is
// refused, so it cannot collide.
const evMark = "\x00"

func planDataset(d *dashboard.Dashboard, ds *dashboard.Dataset, dialectOf DialectFunc) *datasetPlan {
	p := &datasetPlan{name: ds.Name, source: sourceName(ds)}
	dia, err := dialectOf(p.source)
	if err != nil {
		p.err = err
		return p
	}
	p.dialect = dia
	if strings.TrimSpace(ds.SQL) == "" {
		p.err = definitionError("dataset %q has no SQL (a sql_file must be loaded into SQL by the dashboard loader)", ds.Name)
		return p
	}
	if strings.Contains(ds.SQL, evMark) {
		p.err = definitionError("dataset %q: the SQL holds a NUL character", ds.Name)
		return p
	}
	sql, _, err := rls.PrepareDataset(ds.SQL, func() string { return evMark })
	if err != nil {
		p.err = definitionError("dataset %q: %v", ds.Name, err)
		return p
	}
	// Newlines around the dataset SQL keep a trailing line comment from swallowing the ')'.
	p.parts = strings.Split("SELECT * FROM (\n"+sql+"\n) AS rls_base", evMark)
	for _, rule := range ds.RLS {
		if !dashboard.ValidIdent(rule.Column) {
			p.err = definitionError("dataset %q: rls column %q is not a plain identifier", ds.Name, rule.Column)
			return p
		}
		rp := rulePlan{col: dia.QuoteIdent(rule.Column), attribute: rule.Attribute}
		switch rule.Operator {
		case "", dashboard.OperatorEq:
		case dashboard.OperatorIn:
			rp.in = true
		default:
			p.err = definitionError("dataset %q: unknown rls operator %q", ds.Name, rule.Operator)
			return p
		}
		p.rules = append(p.rules, rp)
	}
	for _, flt := range d.Filters {
		for _, tgt := range flt.Targets {
			if tgt.Dataset != ds.Name {
				continue
			}
			if !dashboard.ValidIdent(tgt.Column) {
				p.err = definitionError("filter %q: target column %q is not a plain identifier", flt.Name, tgt.Column)
				return p
			}
			p.targets = append(p.targets, targetPlan{filter: flt.Name, col: dia.QuoteIdent(tgt.Column)})
		}
	}
	return p
}

// writeSecured writes the dataset's query with row-level security applied: this is the one
// place RLS is applied, and every query the compiler produces (widgets, shared counters, filter
// options, exports) reads its rows through it.
//
// The dataset SQL has __aibi_external_value replaced by the viewer's external value as a bound
// parameter, then is wrapped as
//
//	SELECT * FROM (<sql>) AS rls_base WHERE <rule> AND <rule> ...
//
// for the dataset's structured rules. Anything the viewer lacks is an *RLSError (fail closed).
func (p *datasetPlan) writeSecured(b *builder, v rls.Viewer) error {
	if p.err != nil {
		return p.err
	}
	// An empty value fails closed too: it would match no rows, or the rows holding ''.
	if len(p.parts) > 1 && (v.ExternalValue == nil || *v.ExternalValue == "") {
		return &RLSError{Attribute: ExternalValueAttribute}
	}
	b.sb.WriteString(p.parts[0])
	for _, part := range p.parts[1:] {
		b.sb.WriteString(b.bind(*v.ExternalValue))
		b.sb.WriteString(part)
	}
	for i, rule := range p.rules {
		if i == 0 {
			b.sb.WriteString(" WHERE ")
		} else {
			b.sb.WriteString(" AND ")
		}
		values, ok := v.Attributes[rule.attribute]
		if !ok {
			return &RLSError{Attribute: rule.attribute}
		}
		if !rule.in {
			if len(values) != 1 {
				return &RLSError{Attribute: rule.attribute, Reason: fmt.Sprintf("an eq rule needs exactly one value, the token has %d", len(values))}
			}
			b.sb.WriteString(rule.col + " = " + b.bind(values[0]))
			continue
		}
		if len(values) == 0 {
			// No allowed values: no rows. IN () is not valid SQL.
			b.sb.WriteString("1 = 0")
			continue
		}
		b.sb.WriteString(rule.col + " IN (")
		for j, val := range values {
			if j > 0 {
				b.sb.WriteString(", ")
			}
			b.sb.WriteString(b.bind(val))
		}
		b.sb.WriteString(")")
	}
	return nil
}

// writeRows writes the rows a widget reads: "(<secured dataset>) AS ds WHERE <filters>".
func (p *datasetPlan) writeRows(b *builder, v rls.Viewer, f FilterValues) error {
	b.sb.WriteString("(")
	if err := p.writeSecured(b, v); err != nil {
		return err
	}
	b.sb.WriteString(") AS ds")
	if len(f) == 0 {
		return nil
	}
	first := true
	pred := func(s string) {
		if first {
			b.sb.WriteString(" WHERE ")
			first = false
		} else {
			b.sb.WriteString(" AND ")
		}
		b.sb.WriteString(s)
	}
	for _, t := range p.targets {
		fv, ok := f[t.filter]
		if !ok {
			continue
		}
		switch {
		case len(fv.Values) == 1:
			pred(t.col + " = " + b.bind(fv.Values[0]))
		case len(fv.Values) > 1:
			marks := make([]string, len(fv.Values))
			for j, val := range fv.Values {
				marks[j] = b.bind(val)
			}
			pred(t.col + " IN (" + strings.Join(marks, ", ") + ")")
		}
		if fv.From != nil {
			pred(t.col + " >= " + b.bind(*fv.From))
		}
		if fv.To != nil {
			pred(t.col + " < " + b.bind(*fv.To))
		}
		if fv.Min != nil {
			pred(t.col + " >= " + b.bind(*fv.Min))
		}
		if fv.Max != nil {
			pred(t.col + " <= " + b.bind(*fv.Max))
		}
	}
	return nil
}

// WidgetPlan is one widget compiled: the SQL around its rows, ready for binding.
type WidgetPlan struct {
	Name string
	Type string
	// Source is the data source the widget's query runs on ("default" when its dataset names
	// none).
	Source string
	// Dataset is the dataset the widget reads.
	Dataset string
	// Columns are the result columns the widget's query returns, in order.
	Columns []string

	ds    *datasetPlan
	head  string // "SELECT <cols> FROM " (with the keyed-bucket outer SELECT when there is one)
	tail  string // " GROUP BY ..." [") AS g"] " ORDER BY ..."
	limit int    // the widget's own limit
	dims  bool   // whether the query has dimensions (a LIMIT applies)
	// counter is set for counter widgets: they may share one scan per dataset (Plan.Counters).
	counter *counterPlan
	err     error
	// order is the widget's ORDER BY (pages apply it again around the widget's query).
	order []orderKey
}

type counterPlan struct {
	expr string // the value's SQL
	key  string // its result column name
}

// Counter reports whether the widget is a counter, which may share a scan with the other
// counters on its dataset (Plan.Counters).
func (w *WidgetPlan) Counter() bool { return w.counter != nil && w.err == nil }

// Err is the definition error that every Bind of this widget returns, if any.
func (w *WidgetPlan) Err() error { return w.err }

func planWidget(w *dashboard.Widget, datasets map[string]*datasetPlan) *WidgetPlan {
	p := &WidgetPlan{Name: w.Name, Type: w.Type, Dataset: w.Dataset, limit: w.Limit}
	ds, ok := datasets[w.Dataset]
	if !ok {
		p.Source = "default"
		p.err = fmt.Errorf("widget %q: %w", w.Name, definitionError("dataset %q is not defined", w.Dataset))
		return p
	}
	p.ds, p.Source = ds, ds.source
	if ds.err != nil {
		p.err = fmt.Errorf("%w: %w", errDatasetBroken, ds.err)
		return p
	}
	if err := p.compile(w, ds.dialect); err != nil {
		p.err = fmt.Errorf("widget %q: %w", w.Name, err)
	}
	return p
}

// compile renders the widget's SQL around its rows:
//
//	SELECT <dims>, <measures> FROM (<secured dataset>) AS ds WHERE <filters>
//	GROUP BY <dims> ORDER BY ... LIMIT n
func (p *WidgetPlan) compile(w *dashboard.Widget, dialect datasource.Dialect) error {
	shape, err := widgetShape(w)
	if err != nil {
		return err
	}
	keyed := shape.group && bucketsKeyed(dialect, shape.dims)
	var head, tail strings.Builder
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
		head.WriteString("SELECT " + strings.Join(outer, ", ") + " FROM (")
	default:
		for i, fl := range append(append([]field(nil), shape.dims...), shape.measures...) {
			cols = append(cols, exprSQL(dialect, fl.expr)+" AS "+dialect.QuoteIdent(fl.key))
			if shape.group && i < len(shape.dims) {
				groupBy = append(groupBy, strconv.Itoa(i+1))
			}
		}
	}
	head.WriteString("SELECT " + strings.Join(cols, ", ") + " FROM ")
	if len(groupBy) > 0 {
		tail.WriteString(" GROUP BY " + strings.Join(groupBy, ", "))
	}
	if keyed {
		tail.WriteString(") AS g")
	}
	order, err := orderBy(w, shape)
	if err != nil {
		return err
	}
	if len(order) > 0 {
		parts := make([]string, len(order))
		for i, o := range order {
			parts[i] = dialect.QuoteIdent(o.key)
			if o.desc {
				parts[i] += " DESC"
			}
		}
		tail.WriteString(" ORDER BY " + strings.Join(parts, ", "))
	}
	p.head, p.tail = head.String(), tail.String()
	p.order = order
	p.dims = len(shape.dims) > 0
	for _, fl := range append(append([]field(nil), shape.dims...), shape.measures...) {
		p.Columns = append(p.Columns, fl.key)
	}
	if w.Type == dashboard.WidgetCounter {
		m := shape.measures[0]
		p.counter = &counterPlan{expr: exprSQL(dialect, m.expr), key: m.key}
	}
	return nil
}

// Bind binds the viewer's RLS values and the filter values into the widget's query. maxRows caps
// the rows (0: no cap); when the cap, not the widget's own limit, bounds the query, the SQL asks
// for maxRows+1 rows so the data source can tell the result was truncated.
func (w *WidgetPlan) Bind(v rls.Viewer, f FilterValues, maxRows int) (Query, error) {
	if w.err != nil {
		return Query{}, w.err
	}
	b := &builder{dialect: w.ds.dialect}
	b.sb.Grow(len(w.head) + len(w.tail) + 64)
	// The SELECT list holds no arguments, so it is written before the rows' arguments are bound
	// without upsetting the marker order.
	b.sb.WriteString(w.head)
	if err := w.ds.writeRows(b, v, f); err != nil {
		return Query{}, err
	}
	b.sb.WriteString(w.tail)
	// An aggregate without dimensions (a counter) is one row: no LIMIT needed.
	if n := limit(w.limit, maxRows); n > 0 && w.dims {
		b.sb.WriteString(" LIMIT ")
		b.sb.WriteString(strconv.Itoa(n))
	}
	return Query{Source: w.Source, SQL: b.sb.String(), Args: b.args}, nil
}

// Counters binds the values of several counter widgets over the same dataset into one statement,
// one scan instead of one per widget:
//
//	SELECT <value 1> AS "c0", <value 2> AS "c1", ... FROM (<secured dataset>) AS ds WHERE <filters>
//
// Row-level security and filters are applied exactly as in WidgetPlan.Bind.
func (p *Plan) Counters(ws []*WidgetPlan, v rls.Viewer, f FilterValues) (CountersQuery, error) {
	if len(ws) == 0 {
		return CountersQuery{}, definitionError("no counters to compile")
	}
	out := CountersQuery{Widgets: make([]string, len(ws)), Keys: make([]string, len(ws))}
	ds := ws[0].ds
	for i, w := range ws {
		if w.err != nil {
			return CountersQuery{}, w.err
		}
		if w.counter == nil {
			return CountersQuery{}, definitionError("widget %q is a %s, not a counter", w.Name, w.Type)
		}
		if w.ds != ds {
			return CountersQuery{}, definitionError("counters %q and %q read different datasets", ws[0].Name, w.Name)
		}
		out.Widgets[i], out.Keys[i] = w.Name, w.counter.key
	}
	b := &builder{dialect: ds.dialect}
	b.sb.WriteString("SELECT ")
	for i, w := range ws {
		if i > 0 {
			b.sb.WriteString(", ")
		}
		b.sb.WriteString(w.counter.expr + " AS " + ds.dialect.QuoteIdent("c"+strconv.Itoa(i)))
	}
	b.sb.WriteString(" FROM ")
	if err := ds.writeRows(b, v, f); err != nil {
		return CountersQuery{}, err
	}
	out.Query = Query{Source: ds.source, SQL: b.sb.String(), Args: b.args}
	return out, nil
}

// FilterPlan is a filter compiled: its option query around the secured dataset of its first
// target.
type FilterPlan struct {
	Name string
	Type string
	// Source is the data source the option query runs on.
	Source string
	def    *dashboard.Filter
	ds     *datasetPlan
	head   string // "SELECT DISTINCT ... FROM (" or "SELECT min(..), max(..) FROM ("
	tail   string // ") AS ds" [" WHERE col IS NOT NULL ORDER BY 1"]
	sel    bool   // a select filter: a LIMIT applies
	err    error
}

// Err is the definition error that every Bind of this filter returns, if any.
func (f *FilterPlan) Err() error { return f.err }

func planFilter(flt *dashboard.Filter, datasets map[string]*datasetPlan) *FilterPlan {
	p := &FilterPlan{Name: flt.Name, Type: flt.Type, Source: "default", def: flt}
	if len(flt.Targets) == 0 {
		p.err = definitionError("filter %q has no targets", flt.Name)
		return p
	}
	tgt := flt.Targets[0]
	ds, ok := datasets[tgt.Dataset]
	if !ok {
		p.err = fmt.Errorf("filter %q: %w", flt.Name, definitionError("dataset %q is not defined", tgt.Dataset))
		return p
	}
	p.ds, p.Source = ds, ds.source
	if ds.err != nil {
		p.err = fmt.Errorf("%w: %w", errDatasetBroken, ds.err)
		return p
	}
	if !dashboard.ValidIdent(tgt.Column) {
		p.err = definitionError("filter %q: target column %q is not a plain identifier", flt.Name, tgt.Column)
		return p
	}
	dialect := ds.dialect
	col := dialect.QuoteIdent(tgt.Column)
	switch flt.Type {
	case dashboard.FilterSingleSelect, dashboard.FilterMultiSelect:
		p.head = "SELECT DISTINCT " + col + " AS " + dialect.QuoteIdent("value") + " FROM ("
		p.tail = ") AS ds WHERE " + col + " IS NOT NULL ORDER BY 1 LIMIT "
		p.sel = true
	case dashboard.FilterDateRange, dashboard.FilterNumericRange:
		p.head = "SELECT min(" + col + ") AS " + dialect.QuoteIdent("min") + ", max(" + col + ") AS " + dialect.QuoteIdent("max") + " FROM ("
		p.tail = ") AS ds"
	default:
		p.err = definitionError("filter %q: unknown type %q", flt.Name, flt.Type)
	}
	return p
}

// Bind binds the viewer's RLS values into the filter's option query: select filters get
// `SELECT DISTINCT col ... ORDER BY 1 LIMIT 1000`, range filters
// `SELECT min(col) AS "min", max(col) AS "max"`. Other filters' values do not apply.
func (f *FilterPlan) Bind(v rls.Viewer, maxRows int) (Query, error) {
	if f.err != nil {
		return Query{}, f.err
	}
	b := &builder{dialect: f.ds.dialect}
	b.sb.WriteString(f.head)
	if err := f.ds.writeSecured(b, v); err != nil {
		return Query{}, err
	}
	b.sb.WriteString(f.tail)
	if f.sel {
		b.sb.WriteString(strconv.Itoa(limit(FilterOptionsLimit, maxRows)))
	}
	return Query{Source: f.Source, SQL: b.sb.String(), Args: b.args}, nil
}
