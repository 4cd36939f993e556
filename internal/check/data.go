package check

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/inlay/inlay/internal/compile"
	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/rls"
	"github.com/inlay/inlay/internal/yamlpos"
)

// DescribeTimeout bounds each statement Data describes.
const DescribeTimeout = 30 * time.Second

// SampleViewer is the viewer Data checks as: the given external value and attributes, and
// fallback for every RLS attribute the dashboards use that attrs does not name.
func SampleViewer(dashboards []*dashboard.Dashboard, externalValue string, attrs map[string][]string) rls.Viewer {
	v := rls.Viewer{ID: "inlay-check", ExternalValue: &externalValue, Attributes: map[string][]string{}}
	for _, d := range dashboards {
		for _, ds := range d.Datasets {
			for _, r := range ds.RLS {
				v.Attributes[r.Attribute] = []string{externalValue}
			}
		}
	}
	for k, vals := range attrs {
		v.Attributes[k] = vals
	}
	return v
}

// Data compiles every dashboard for the open sources and has each engine describe, without
// reading rows (SELECT * FROM (...) LIMIT 0, with every value bound), every dataset, widget and
// filter option query as viewer v would run it. Datasets on a source missing from sources are
// skipped (Static or the caller reports the source). Problems point at the dataset's SQL (the
// line of the unknown table when it can be found), the widget field reading an unknown column or
// summing text, or the filter target.
func Data(ctx context.Context, dashboards []*dashboard.Dashboard, sources map[string]datasource.Source, v rls.Viewer) []Problem {
	var out []Problem
	for _, d := range dashboards {
		out = append(out, dataOne(ctx, d, sources, v)...)
	}
	return out
}

func dataOne(ctx context.Context, d *dashboard.Dashboard, sources map[string]datasource.Source, v rls.Viewer) []Problem {
	var out []Problem
	errNoSource := errors.New("no such source")
	plan := compile.NewPlan(d, func(name string) (datasource.Dialect, error) {
		if s, ok := sources[name]; ok {
			return s.Dialect(), nil
		}
		return nil, errNoSource
	})
	for _, pp := range plan.Problems() {
		if errors.Is(pp.Err, errNoSource) {
			continue
		}
		out = append(out, at(d, pp.Path, CodeDefinition, strings.TrimPrefix(pp.Err.Error(), compile.ErrDefinition.Error()+": "), ""))
	}

	// Datasets: describe each; remember their columns for the widget and filter checks.
	columns := map[string]map[string]string{} // dataset -> column -> type
	for i := range d.Datasets {
		ds := &d.Datasets[i]
		src, ok := sources[sourceOf(ds)]
		if !ok {
			continue
		}
		q, err := plan.Dataset(ds.Name, v)
		if err != nil {
			if !errors.Is(err, compile.ErrDefinition) { // definition errors are reported above
				out = append(out, rlsProblem(d, i, err))
			}
			continue
		}
		res, err := describe(ctx, src, q)
		if err != nil {
			out = append(out, datasetProblem(d, i, err))
			continue
		}
		cols := map[string]string{}
		for _, c := range res.Columns {
			cols[c.Name] = c.Type
		}
		columns[ds.Name] = cols
	}

	// Widgets: fields against the dataset's columns, then the widget's own query.
	for i := range d.Widgets {
		w := &d.Widgets[i]
		cols, ok := columns[w.Dataset]
		if !ok {
			continue
		}
		fieldProblems := checkFields(d, i, cols)
		out = append(out, fieldProblems...)
		wp, err := plan.Widget(w.Name)
		if len(fieldProblems) > 0 || err != nil || wp.Err() != nil {
			continue
		}
		q, err := wp.Bind(v, nil, 1)
		if err != nil {
			out = append(out, at(d, fmt.Sprintf("widgets.%d", i), CodeRLS, fmt.Sprintf("widget %q: %v", w.Name, err), ""))
			continue
		}
		if _, err := describe(ctx, sources[wp.Source], q); err != nil {
			code, msg, _ := explain(err)
			out = append(out, at(d, fmt.Sprintf("widgets.%d", i), code, fmt.Sprintf("widget %q: %s", w.Name, msg), engineMessage(err)))
		}
	}

	// Filters: every target column exists; the option query describes.
	for i := range d.Filters {
		f := &d.Filters[i]
		bad := false
		for j, t := range f.Targets {
			cols, ok := columns[t.Dataset]
			if !ok {
				bad = true
				continue
			}
			if _, ok := cols[t.Column]; !ok {
				bad = true
				out = append(out, at(d, fmt.Sprintf("filters.%d.targets.%d.column", i, j), CodeUnknownColumn,
					fmt.Sprintf("filter %q: dataset %q has no column %q%s", f.Name, t.Dataset, t.Column, suggestColumn(t.Column, cols)), ""))
			}
		}
		fp, err := plan.Filter(f.Name)
		if bad || err != nil || fp.Err() != nil {
			continue
		}
		q, err := fp.Bind(v, compile.FilterOptionsLimit)
		if err != nil {
			continue // the dataset's RLS problem is reported already
		}
		if _, err := describe(ctx, sources[fp.Source], q); err != nil {
			code, msg, _ := explain(err)
			out = append(out, at(d, fmt.Sprintf("filters.%d", i), code, fmt.Sprintf("filter %q: its options query %s", f.Name, msg), engineMessage(err)))
		}
	}
	return out
}

func sourceOf(ds *dashboard.Dataset) string {
	if ds.Source == "" {
		return "default"
	}
	return ds.Source
}

// describe has the engine plan q and return its columns, reading no rows.
func describe(ctx context.Context, src datasource.Source, q compile.Query) (*datasource.Result, error) {
	return src.Query(ctx, datasource.Query{
		SQL:     "SELECT * FROM (\n" + q.SQL + "\n) AS inlay_check LIMIT 0",
		Args:    q.Args,
		MaxRows: 1,
		Timeout: DescribeTimeout,
	})
}

// numericTypes are the column types sum and avg accept.
var numericTypes = []string{datasource.TypeInteger, datasource.TypeFloat, datasource.TypeDecimal}

// checkFields finds widget fields reading a column the dataset does not have, or summing or
// averaging a column that is not a number.
func checkFields(d *dashboard.Dashboard, i int, cols map[string]string) []Problem {
	w := &d.Widgets[i]
	var out []Problem
	for _, fp := range d.FieldPaths(i) {
		e, err := dashboard.ParseExpr(fp.Field.Expr)
		if err != nil || e.Column == "" {
			continue
		}
		typ, ok := cols[e.Column]
		switch {
		case !ok:
			out = append(out, at(d, fp.Path, CodeUnknownColumn,
				fmt.Sprintf("widget %q: dataset %q has no column %q%s", w.Name, w.Dataset, e.Column, suggestColumn(e.Column, cols)), ""))
		case e.Kind == dashboard.ExprAggregate && (e.Func == "sum" || e.Func == "avg") && typ != datasource.TypeOther && !slices.Contains(numericTypes, typ):
			out = append(out, at(d, fp.Path, CodeTypeMismatch,
				fmt.Sprintf("widget %q: %s(%s) needs numbers, but column %q holds %s values", w.Name, e.Func, e.Column, e.Column, typeWords(typ)), ""))
		case e.Kind == dashboard.ExprBucket && typ != datasource.TypeTimestamp && typ != datasource.TypeDate && typ != datasource.TypeOther:
			out = append(out, at(d, fp.Path, CodeTypeMismatch,
				fmt.Sprintf("widget %q: %s(%s) needs a date or timestamp, but column %q holds %s values", w.Name, e.Func, e.Column, e.Column, typeWords(typ)), ""))
		}
	}
	return out
}

func typeWords(t string) string {
	switch t {
	case datasource.TypeString:
		return "text"
	case datasource.TypeBoolean:
		return "true/false"
	case datasource.TypeTimestamp:
		return "timestamp"
	case datasource.TypeDate:
		return "date"
	}
	return t
}

// suggestColumn proposes the closest column name, or lists them when there are few.
func suggestColumn(name string, cols map[string]string) string {
	names := make([]string, 0, len(cols))
	for c := range cols {
		names = append(names, c)
	}
	slices.Sort(names)
	if best, ok := yamlpos.Closest(name, names); ok {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	if len(names) <= 12 {
		return " (it has " + strings.Join(names, ", ") + ")"
	}
	return ""
}

// datasetProblem positions a dataset's failure: at an RLS rule whose column is unknown, at the
// line of the dataset SQL (or sql_file) naming the unknown table or column, else at the SQL.
func datasetProblem(d *dashboard.Dashboard, i int, err error) Problem {
	ds := &d.Datasets[i]
	code, msg, name := explain(err)
	detail := engineMessage(err)
	full := fmt.Sprintf("dataset %q: %s", ds.Name, msg)
	if code == CodeUnknownColumn {
		for j, r := range ds.RLS {
			if strings.EqualFold(r.Column, name) {
				return at(d, fmt.Sprintf("datasets.%d.rls.%d.column", i, j), code,
					fmt.Sprintf("dataset %q: the rls rule's column %q is not in the dataset's rows", ds.Name, r.Column), detail)
			}
		}
	}
	if ds.SQLFile != "" {
		p := Problem{File: filepath.Join(filepath.Dir(d.File), ds.SQLFile), Line: 1, Code: code, Message: full, Detail: detail}
		if line, col, ok := find(ds.SQL, name); ok {
			p.Line, p.Column = line, col
		}
		return p
	}
	path := fmt.Sprintf("datasets.%d.sql", i)
	p := at(d, path, code, full, detail)
	if line, col, ok := find(ds.SQL, name); ok {
		pos := d.At(path)
		if pos.Block {
			p.Line, p.Column = pos.Line+line, 0 // a block's indentation is not kept
		} else if line == 1 {
			p.Column = pos.Column + col - 1
		}
	}
	return p
}

func rlsProblem(d *dashboard.Dashboard, i int, err error) Problem {
	return at(d, fmt.Sprintf("datasets.%d", i), CodeRLS,
		fmt.Sprintf("dataset %q: %v (give the sample viewer's values with --external-value and --attr)", d.Datasets[i].Name, err), "")
}

// find locates name as a word in sql: 1-based line and column.
func find(sql, name string) (line, col int, ok bool) {
	if name == "" {
		return 0, 0, false
	}
	re, err := regexp.Compile(`(?i)(^|[^A-Za-z0-9_])` + regexp.QuoteMeta(name) + `($|[^A-Za-z0-9_])`)
	if err != nil {
		return 0, 0, false
	}
	loc := re.FindStringSubmatchIndex(sql)
	if loc == nil {
		return 0, 0, false
	}
	off := loc[3] // end of the leading boundary
	line = 1 + strings.Count(sql[:off], "\n")
	col = off - strings.LastIndexByte(sql[:off], '\n')
	return line, col, true
}

// Engine messages, DuckDB's and PostgreSQL's, recognised to say what is wrong in plain words.
var (
	reDuckTable   = regexp.MustCompile(`Table with name ([^ !]+) does not exist`)
	rePgRelation  = regexp.MustCompile(`relation "([^"]+)" does not exist`)
	reDuckColumn  = regexp.MustCompile(`Referenced column "?([^" ]+)"? not found`)
	rePgColumn    = regexp.MustCompile(`column "?([^" ]+)"? does not exist`)
	reDuckFunc    = regexp.MustCompile(`No function matches the given name and argument types '(\w+)\(([^)]*)\)'`)
	rePgFunc      = regexp.MustCompile(`function (\w+)\(([^)]*)\) does not exist`)
	reSyntax      = regexp.MustCompile(`syntax error at or near "?([^"\n]*)"?`)
	reConversion  = regexp.MustCompile(`(?:Could not convert string '([^']*)' to (\w+))|(?:invalid input syntax for type (\w+): "([^"]*)")`)
	reSourcePrefx = regexp.MustCompile(`^.*?datasource: invalid query: `)
)

// explain turns an engine error into a problem code, a message in plain words and the name it
// is about (table or column), if any.
func explain(err error) (code, msg, name string) {
	if errors.Is(err, datasource.ErrUnavailable) {
		return CodeUnavailable, "the data source could not be reached", ""
	}
	if errors.Is(err, datasource.ErrTimeout) {
		return CodeQueryFailed, "took longer than " + DescribeTimeout.String() + " just to be described", ""
	}
	s := err.Error()
	if m := reDuckTable.FindStringSubmatch(s); m != nil {
		return CodeUnknownTable, fmt.Sprintf("table %q does not exist", m[1]), m[1]
	}
	if m := rePgRelation.FindStringSubmatch(s); m != nil {
		return CodeUnknownTable, fmt.Sprintf("table %q does not exist", m[1]), m[1]
	}
	if m := reDuckColumn.FindStringSubmatch(s); m != nil {
		return CodeUnknownColumn, fmt.Sprintf("column %q does not exist", m[1]), m[1]
	}
	if m := rePgColumn.FindStringSubmatch(s); m != nil {
		return CodeUnknownColumn, fmt.Sprintf("column %q does not exist", m[1]), m[1]
	}
	if m := reDuckFunc.FindStringSubmatch(s); m != nil {
		return CodeTypeMismatch, fmt.Sprintf("%s() cannot take a value of type %s", m[1], m[2]), ""
	}
	if m := rePgFunc.FindStringSubmatch(s); m != nil {
		return CodeTypeMismatch, fmt.Sprintf("%s() cannot take a value of type %s", m[1], m[2]), ""
	}
	if m := reConversion.FindStringSubmatch(s); m != nil {
		val, typ := m[1], m[2]
		if typ == "" {
			typ, val = m[3], m[4]
		}
		return CodeTypeMismatch, fmt.Sprintf("the value %q cannot be read as %s (a sample RLS value? set it with --external-value or --attr)", val, typ), ""
	}
	if m := reSyntax.FindStringSubmatch(s); m != nil {
		return CodeSQLSyntax, fmt.Sprintf("SQL syntax error near %q", m[1]), m[1]
	}
	return CodeQueryFailed, "the query failed", ""
}

// engineMessage is the engine's own words, without Inlay's wrapping.
func engineMessage(err error) string {
	lines := strings.Split(strings.TrimSpace(reSourcePrefx.ReplaceAllString(err.Error(), "")), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " \t")
	}
	return strings.Join(lines, "\n")
}
