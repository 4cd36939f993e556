// Package lvdash converts Databricks AI/BI dashboard exports (.lvdash.json: datasets with SQL,
// pages of widgets with their query fields and encodings, filter widgets) into Inlay dashboards.
// What has no Inlay equivalent is left out and listed, each with its widget and the reason.
// It imports no HTTP, storage or database code.
package lvdash

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/inlay/inlay/internal/dashboard"
)

// Note is something the conversion left out or changed, for the author to review.
type Note struct {
	Page   string // the Databricks page's display name; "" for dataset-level notes
	Widget string // the widget's title or name; "" for dataset-level notes
	// Dataset names the dataset a dataset-level note is about.
	Dataset string
	Reason  string
	// Dropped is true when the widget (or filter) is not in the result at all.
	Dropped bool
}

func (n Note) String() string {
	var where string
	switch {
	case n.Widget != "" && n.Page != "":
		where = fmt.Sprintf("widget %q (page %q)", n.Widget, n.Page)
	case n.Widget != "":
		where = fmt.Sprintf("widget %q", n.Widget)
	case n.Dataset != "":
		where = fmt.Sprintf("dataset %q", n.Dataset)
	default:
		where = "dashboard"
	}
	return where + ": " + n.Reason
}

// Result is a converted dashboard and what the conversion could not carry over.
type Result struct {
	Dashboard *dashboard.Dashboard
	Notes     []Note
}

// The export's JSON, as far as the conversion reads it.
type export struct {
	Datasets []struct {
		Name        string            `json:"name"`
		DisplayName string            `json:"displayName"`
		Query       string            `json:"query"`
		QueryLines  []string          `json:"queryLines"`
		AssetName   string            `json:"asset_name"` // a metric view the dataset reads, instead of SQL
		Catalog     string            `json:"catalog"`
		Schema      string            `json:"schema"`
		Parameters  []json.RawMessage `json:"parameters"`
	} `json:"datasets"`
	Pages []struct {
		Name        string `json:"name"`
		DisplayName string `json:"displayName"`
		PageType    string `json:"pageType"`
		Layout      []struct {
			Widget   widget `json:"widget"`
			Position struct {
				X      int `json:"x"`
				Y      int `json:"y"`
				Width  int `json:"width"`
				Height int `json:"height"`
			} `json:"position"`
		} `json:"layout"`
	} `json:"pages"`
}

type widget struct {
	Name    string `json:"name"`
	Queries []struct {
		Name  string `json:"name"`
		Query struct {
			DatasetName string `json:"datasetName"`
			Fields      []struct {
				Name       string `json:"name"`
				Expression string `json:"expression"`
			} `json:"fields"`
			Disaggregated bool `json:"disaggregated"`
		} `json:"query"`
	} `json:"queries"`
	Spec *struct {
		WidgetType string                     `json:"widgetType"`
		Encodings  map[string]json.RawMessage `json:"encodings"`
		Frame      struct {
			Title       string `json:"title"`
			ShowTitle   bool   `json:"showTitle"`
			Description string `json:"description"`
		} `json:"frame"`
	} `json:"spec"`
	TextboxSpec string `json:"textbox_spec"`
	Multiline   *struct {
		Lines []string `json:"lines"`
	} `json:"multilineTextboxSpec"`
}

// text is a text box's markdown.
func (w widget) text() string {
	if w.Multiline != nil {
		return strings.Join(w.Multiline.Lines, "")
	}
	return w.TextboxSpec
}

// encoding is one channel of a widget's encodings (x, y, color, angle, value, a column).
type encoding struct {
	FieldName     string `json:"fieldName"`
	DisplayName   string `json:"displayName"`
	Title         string `json:"title"`
	QueryName     string `json:"queryName"`
	ParameterName string `json:"parameterName"`
	Scale         struct {
		Type string `json:"type"`
	} `json:"scale"`
	Fields []encoding `json:"fields"`
}

// Options name the converted dashboard.
type Options struct {
	ID string // the dashboard id (a slug)
	// Title is the dashboard's title; "" takes a heading-only text box at the top of the first page, else the ID.
	Title string
	// Source is the data source (in inlay.yaml) the datasets read; "" means the default one.
	Source string
}

// Convert reads an export and returns the Inlay dashboard it amounts to, with notes on what was
// left out or changed. The dashboard may still fail validation when nothing could be converted.
func Convert(data []byte, opts Options) (*Result, error) {
	var ex export
	if err := json.Unmarshal(data, &ex); err != nil {
		return nil, fmt.Errorf("not a Databricks dashboard export: %w", err)
	}
	if len(ex.Datasets) == 0 && len(ex.Pages) == 0 {
		return nil, fmt.Errorf("not a Databricks dashboard export: no datasets and no pages")
	}
	c := &converter{
		res:         &Result{Dashboard: &dashboard.Dashboard{ID: opts.ID, Title: opts.Title}},
		datasets:    map[string]*dsInfo{},
		unqueryable: map[string]string{},
		widgetNs:    map[string]bool{},
		filterNs:    map[string]bool{},
	}
	c.convertDatasets(&ex, opts.Source)
	c.convertPages(&ex)
	c.finishDatasets()
	if c.res.Dashboard.Title == "" {
		c.res.Dashboard.Title = opts.ID
	}
	return c.res, nil
}

// dsInfo is a converted dataset: its Inlay name and the columns widgets read whose names are not
// plain identifiers (renamed in a wrapping SELECT).
type dsInfo struct {
	index   int
	name    string
	renamed map[string]string // original column -> identifier
	order   []string
}

type converter struct {
	res      *Result
	datasets map[string]*dsInfo // by the export's dataset name
	// unqueryable says why a dataset of the export (by its name) was left out: it has no SQL.
	unqueryable map[string]string
	widgetNs    map[string]bool
	filterNs    map[string]bool
}

func (c *converter) note(n Note) { c.res.Notes = append(c.res.Notes, n) }

var paramRE = regexp.MustCompile(`(?:^|[^:\w]):([A-Za-z_]\w*)`)

func (c *converter) convertDatasets(ex *export, source string) {
	used := map[string]bool{}
	for i, ds := range ex.Datasets {
		sql := ds.Query
		if sql == "" {
			sql = strings.Join(ds.QueryLines, "")
		}
		if strings.TrimSpace(sql) == "" {
			// A dataset on a metric view (asset_name) has no SQL: Inlay cannot run it, and an
			// empty dataset would fail the check, so it and what reads it are left out.
			label := firstNonEmpty(ds.DisplayName, ds.Name)
			c.unqueryable[ds.Name] = fmt.Sprintf("dataset %q, which has no SQL", label)
			reason := "left out: it has no SQL"
			if ds.AssetName != "" {
				c.unqueryable[ds.Name] = fmt.Sprintf("dataset %q, a metric view Inlay cannot query", label)
				reason = fmt.Sprintf("left out: it reads metric view %s, which Inlay cannot query (write the SQL it stands for as a dataset)", ds.AssetName)
			}
			c.note(Note{Dataset: label, Reason: reason})
			continue
		}
		name := uniqueIdent(firstNonEmpty(ds.DisplayName, ds.Name), "dataset", used)
		c.datasets[ds.Name] = &dsInfo{index: i, name: name, renamed: map[string]string{}}
		c.res.Dashboard.Datasets = append(c.res.Dashboard.Datasets, dashboard.Dataset{Name: name, Source: source, SQL: strings.TrimSpace(sql)})
		if len(ds.Parameters) > 0 || paramRE.MatchString(stripStrings(sql)) {
			c.note(Note{Dataset: name, Reason: "the SQL uses query parameters (:name), which Inlay does not have: replace them with dashboard filters or fixed values"})
		}
		if ds.Catalog != "" || ds.Schema != "" {
			c.note(Note{Dataset: name, Reason: fmt.Sprintf("Databricks ran it with default catalog %q and schema %q: qualify table names for your data source", ds.Catalog, ds.Schema)})
		}
	}
}

// finishDatasets wraps datasets whose columns had to be renamed.
func (c *converter) finishDatasets() {
	for _, info := range c.datasets {
		if len(info.order) == 0 {
			continue
		}
		ds := &c.res.Dashboard.Datasets[info.index]
		var cols []string
		for _, orig := range info.order {
			cols = append(cols, quoteIdent(orig)+" AS "+info.renamed[orig])
		}
		ds.SQL = "SELECT *, " + strings.Join(cols, ", ") + " FROM (\n" + ds.SQL + "\n) AS imported"
		c.note(Note{Dataset: info.name, Reason: "columns renamed to plain identifiers: " + describeRenames(info)})
	}
}

func describeRenames(info *dsInfo) string {
	var parts []string
	for _, orig := range info.order {
		parts = append(parts, fmt.Sprintf("%q as %s", orig, info.renamed[orig]))
	}
	return strings.Join(parts, ", ")
}

// globalFilters says whether a Databricks page is the global filters page: its filters apply to
// every page and it has no canvas of its own.
func globalFilters(pageType string) bool {
	return strings.Contains(strings.ToUpper(pageType), "GLOBAL_FILTERS")
}

func (c *converter) convertPages(ex *export) {
	// Several canvas pages become Inlay pages (tabs), each with its own grid; a single one needs
	// no page. The global filters page is no page: its filters are dashboard filters.
	var canvas []int
	for i, p := range ex.Pages {
		if !globalFilters(p.PageType) {
			canvas = append(canvas, i)
		}
	}
	pageNames := make([]string, len(ex.Pages))
	if len(canvas) > 1 {
		used := map[string]bool{}
		for _, i := range canvas {
			p := ex.Pages[i]
			name := uniqueIdent(firstNonEmpty(p.DisplayName, p.Name), "page", used)
			pageNames[i] = name
			c.res.Dashboard.Pages = append(c.res.Dashboard.Pages, dashboard.Page{Name: name, Title: firstNonEmpty(p.DisplayName, p.Name)})
		}
	}
	filtersAcrossPages := false
	for i, p := range ex.Pages {
		global := globalFilters(p.PageType)
		page := firstNonEmpty(p.DisplayName, p.Name)
		// Databricks' canvas is 6 columns wide (older and hand-written exports use 12): each
		// page is scaled to Inlay's 12-column grid on its own.
		widest := 0
		for _, l := range p.Layout {
			widest = max(widest, l.Position.X+l.Position.Width)
		}
		scale := 1
		if widest <= 6 {
			scale = 2
		}
		for _, l := range p.Layout {
			w := l.Widget
			title := w.Name
			if w.Spec != nil && w.Spec.Frame.Title != "" {
				title = w.Spec.Frame.Title
			}
			layout := dashboard.Layout{
				X: l.Position.X * scale, Y: l.Position.Y,
				W: l.Position.Width * scale, H: max(l.Position.Height, 1),
			}
			layout.W = max(1, min(layout.W, dashboard.GridColumns-min(layout.X, dashboard.GridColumns-1)))
			layout.X = min(layout.X, dashboard.GridColumns-1)
			isFilter := w.Spec != nil && (strings.HasPrefix(w.Spec.WidgetType, "filter-") || w.Spec.WidgetType == "range-slider")
			if global && !isFilter {
				c.note(Note{Page: page, Widget: title, Reason: "only filters are converted from the global filters page", Dropped: true})
				continue
			}
			if isFilter && !global && len(canvas) > 1 {
				filtersAcrossPages = true
			}
			first := len(canvas) > 0 && i == canvas[0]
			c.convertWidget(page, pageNames[i], first, title, w, layout)
		}
	}
	if filtersAcrossPages {
		c.note(Note{Reason: "filters of a canvas page now apply to every page (Inlay filters are dashboard-wide)"})
	}
}

// convertWidget converts one widget of page (its display name; pageName is its Inlay page, ""
// without pages; first says it is the first canvas page).
func (c *converter) convertWidget(page, pageName string, first bool, title string, w widget, layout dashboard.Layout) {
	if w.Spec == nil {
		c.convertText(page, pageName, first, title, w, layout)
		return
	}
	typ := w.Spec.WidgetType
	drop := func(reason string) {
		c.note(Note{Page: page, Widget: title, Reason: reason, Dropped: true})
	}
	if strings.HasPrefix(typ, "filter-") || typ == "range-slider" {
		c.convertFilter(page, title, w, typ)
		return
	}
	if len(w.Queries) == 0 {
		drop(fmt.Sprintf("a %s widget without a query", typ))
		return
	}
	q := w.Queries[0].Query
	ds, ok := c.datasets[q.DatasetName]
	if reason, no := c.unqueryable[q.DatasetName]; no {
		drop("its query reads " + reason)
		return
	}
	if !ok {
		drop(fmt.Sprintf("its query reads dataset %q, which the export does not define", q.DatasetName))
		return
	}
	fields := map[string]string{} // field name -> expression
	for _, f := range q.Fields {
		fields[f.Name] = f.Expression
	}
	enc := func(key string) (encoding, bool) {
		raw, ok := w.Spec.Encodings[key]
		if !ok {
			return encoding{}, false
		}
		var e encoding
		if json.Unmarshal(raw, &e) != nil {
			return encoding{}, false
		}
		return e, e.FieldName != "" || len(e.Fields) > 0
	}
	encList := func(key string) []encoding {
		var list []encoding
		if raw, ok := w.Spec.Encodings[key]; ok {
			_ = json.Unmarshal(raw, &list)
		}
		return list
	}
	out := dashboard.Widget{Name: uniqueIdent(title, "widget", c.widgetNs), Title: title, Dataset: ds.name, Layout: layout, Page: pageName}
	var err error
	field := func(e encoding, want need) *dashboard.Field {
		if err != nil {
			return nil
		}
		expr, ok := fields[e.FieldName]
		if !ok {
			err = fmt.Errorf("field %q is not in its query", e.FieldName)
			return nil
		}
		var f dashboard.Field
		f, err = c.convertField(ds, expr, want)
		if err != nil {
			return nil
		}
		if want == aggregate && columnRE.MatchString(strings.TrimSpace(expr)) {
			c.note(Note{Page: page, Widget: title, Reason: fmt.Sprintf("column %s is shown as %s (Inlay widgets aggregate their measures)", expr, f.Expr)})
		}
		// Table columns often repeat the field name as displayName and carry the header shown
		// in title: the label is the first of them that says more than the field name.
		for _, l := range []string{e.DisplayName, e.Title} {
			if l = strings.TrimSpace(l); l != "" && l != e.FieldName {
				f.Label = l
				break
			}
		}
		return &f
	}
	switch typ {
	case "counter":
		out.Type = dashboard.WidgetCounter
		if v, ok := enc("value"); ok {
			out.Value = field(v, aggregate)
		} else {
			err = fmt.Errorf("no value encoding")
		}
	case "bar", "line", "area":
		out.Type = typ
		x, okX := enc("x")
		y, okY := enc("y")
		if !okX || !okY {
			err = fmt.Errorf("a %s chart needs x and y encodings", typ)
			break
		}
		// Horizontal bars put the measure on x.
		if typ == "bar" && x.Scale.Type == "quantitative" && y.Scale.Type != "quantitative" {
			x, y = y, x
			out.Horizontal = true
		}
		out.X = field(x, dimension)
		ys := y.Fields
		if len(ys) == 0 {
			ys = []encoding{y}
		}
		for _, e := range ys {
			if f := field(e, aggregate); f != nil {
				out.Y = append(out.Y, *f)
			}
		}
		if col, ok := enc("color"); ok && col.FieldName != "" && col.FieldName != x.FieldName && err == nil {
			if expr := fields[col.FieldName]; isDimension(expr) {
				out.Series = field(col, dimension)
			}
		}
	case "pie":
		out.Type = dashboard.WidgetPie
		label, okL := enc("color")
		angle, okA := enc("angle")
		if !okL || !okA {
			err = fmt.Errorf("a pie needs color and angle encodings")
			break
		}
		out.Label = field(label, dimension)
		out.Value = field(angle, aggregate)
	case "table":
		out.Type = dashboard.WidgetTable
		cols := encList("columns")
		if len(cols) == 0 {
			err = fmt.Errorf("a table without columns")
		}
		for _, e := range cols {
			if f := field(e, anyExpr); f != nil {
				out.Columns = append(out.Columns, *f)
			}
		}
	case "pivot":
		out.Type = dashboard.WidgetPivot
		for _, e := range encList("rows") {
			if f := field(e, dimension); f != nil {
				out.Rows = append(out.Rows, *f)
			}
		}
		for _, e := range encList("columns") {
			if f := field(e, dimension); f != nil {
				out.PivotColumns = append(out.PivotColumns, *f)
			}
		}
		if cell, ok := enc("cell"); ok {
			cells := cell.Fields
			if len(cells) == 0 && cell.FieldName != "" {
				cells = []encoding{cell}
			}
			for _, e := range cells {
				if f := field(e, aggregate); f != nil {
					out.Values = append(out.Values, *f)
				}
			}
		}
		if err == nil && (len(out.Rows) == 0 || len(out.PivotColumns) == 0 || len(out.Values) == 0) {
			err = fmt.Errorf("a pivot needs rows, columns and cell values")
		}
	default:
		drop(fmt.Sprintf("%s widgets have no Inlay equivalent (Inlay has counter, bar, line, area, pie, table and pivot)", typ))
		return
	}
	if err != nil {
		drop(fmt.Sprintf("%s widget: %v", typ, err))
		return
	}
	if len(w.Queries) > 1 {
		c.note(Note{Page: page, Widget: title, Reason: "only its first query was converted"})
	}
	c.res.Dashboard.Widgets = append(c.res.Dashboard.Widgets, out)
}

// convertText turns a text box into a text widget with its Markdown. A text box at the top of
// the first page that is only a heading becomes the dashboard's title instead, unless a title
// was given.
func (c *converter) convertText(page, pageName string, first bool, title string, w widget, layout dashboard.Layout) {
	text := strings.Trim(w.text(), "\n")
	if strings.TrimSpace(text) == "" {
		c.note(Note{Page: page, Widget: title, Reason: "an empty text box", Dropped: true})
		return
	}
	trimmed := strings.TrimSpace(text)
	heading, isHeading := strings.CutPrefix(trimmed, "#")
	heading = strings.TrimSpace(strings.TrimLeft(heading, "#"))
	if isHeading && heading != "" && !strings.Contains(heading, "\n") && first && layout.Y == 0 && c.res.Dashboard.Title == "" {
		c.res.Dashboard.Title = heading
		c.note(Note{Page: page, Widget: title, Reason: fmt.Sprintf("its heading %q is the dashboard's title", heading), Dropped: true})
		return
	}
	name := "text"
	if isHeading && heading != "" {
		name, _, _ = strings.Cut(heading, "\n")
	}
	c.res.Dashboard.Widgets = append(c.res.Dashboard.Widgets, dashboard.Widget{
		Name: uniqueIdent(name, "text", c.widgetNs), Type: dashboard.WidgetText, Content: text, Layout: layout, Page: pageName,
	})
}

// convertFilter turns a filter widget into a dashboard filter on every dataset it targets.
func (c *converter) convertFilter(page, title string, w widget, typ string) {
	drop := func(reason string) {
		c.note(Note{Page: page, Widget: title, Reason: reason, Dropped: true})
	}
	var kind string
	switch typ {
	case "filter-single-select":
		kind = dashboard.FilterSingleSelect
	case "filter-multi-select":
		kind = dashboard.FilterMultiSelect
	case "filter-date-range-picker", "filter-date-picker":
		kind = dashboard.FilterDateRange
	case "range-slider":
		kind = dashboard.FilterNumericRange
	default:
		drop(fmt.Sprintf("%s filters have no Inlay equivalent (Inlay has single_select, multi_select, date_range and numeric_range)", typ))
		return
	}
	var fields []encoding
	if raw, ok := w.Spec.Encodings["fields"]; ok {
		_ = json.Unmarshal(raw, &fields)
	}
	queries := map[string]string{} // query name -> dataset
	for _, q := range w.Queries {
		queries[q.Name] = q.Query.DatasetName
	}
	f := dashboard.Filter{Title: title, Type: kind}
	seen := map[dashboard.FilterTarget]bool{}
	params := false
	unqueryable := ""
	for _, e := range fields {
		if e.ParameterName != "" {
			params = true
			continue
		}
		if reason, no := c.unqueryable[queries[e.QueryName]]; no {
			unqueryable = reason
			continue
		}
		ds, ok := c.datasets[queries[e.QueryName]]
		if !ok || e.FieldName == "" {
			continue
		}
		col, ok := c.column(ds, e.FieldName)
		if !ok {
			continue
		}
		t := dashboard.FilterTarget{Dataset: ds.name, Column: col}
		if !seen[t] {
			seen[t] = true
			f.Targets = append(f.Targets, t)
		}
		if f.Name == "" {
			f.Name = uniqueIdent(col, "filter", c.filterNs)
			if f.Title == w.Name || f.Title == "" {
				f.Title = firstNonEmpty(e.DisplayName, e.FieldName)
			}
		}
	}
	if len(f.Targets) == 0 {
		if unqueryable != "" {
			drop("it filters " + unqueryable)
		} else if params {
			drop("it sets query parameters, which Inlay does not have")
		} else {
			drop("it filters no dataset column")
		}
		return
	}
	if params {
		c.note(Note{Page: page, Widget: title, Reason: "the query parameters it also set were left out"})
	}
	if typ == "filter-date-picker" {
		c.note(Note{Page: page, Widget: title, Reason: "a single-date picker became a date range"})
	}
	c.res.Dashboard.Filters = append(c.res.Dashboard.Filters, f)
}

// need says what a widget slot takes.
type need int

const (
	anyExpr need = iota
	dimension
	aggregate
)

var (
	columnRE   = regexp.MustCompile("^`([^`]+)`$")
	aggRE      = regexp.MustCompile("(?i)^(SUM|AVG|MIN|MAX|COUNT)\\(\\s*(DISTINCT\\s+)?(`[^`]+`|\\*)\\s*\\)$")
	truncRE    = regexp.MustCompile("(?i)^DATE_TRUNC\\(\\s*[\"']([A-Z]+)[\"']\\s*,\\s*(`[^`]+`)\\s*\\)$")
	inlayGrain = map[string]string{"HOUR": "hour", "DAY": "day", "WEEK": "week", "MONTH": "month", "QUARTER": "quarter", "YEAR": "year"}
)

func isDimension(expr string) bool {
	expr = strings.TrimSpace(expr)
	return columnRE.MatchString(expr) || truncRE.MatchString(expr)
}

// convertField turns a Databricks field expression into an Inlay one: `col`, SUM|AVG|MIN|MAX|
// COUNT(`col`), COUNT(`*`), COUNT(DISTINCT `col`), DATE_TRUNC("MONTH", `col`). A plain column
// where an aggregate is needed (Databricks shows the first row, or every row when
// disaggregated) becomes sum(col).
func (c *converter) convertField(ds *dsInfo, expr string, want need) (dashboard.Field, error) {
	expr = strings.TrimSpace(expr)
	col := func(quoted string) (string, error) {
		name := strings.Trim(quoted, "`")
		id, ok := c.column(ds, name)
		if !ok {
			return "", fmt.Errorf("column %q cannot be named in Inlay", name)
		}
		return id, nil
	}
	if m := columnRE.FindStringSubmatch(expr); m != nil {
		id, err := col(m[0])
		if err != nil {
			return dashboard.Field{}, err
		}
		if want == aggregate {
			return dashboard.Field{Expr: "sum(" + id + ")"}, nil
		}
		return dashboard.Field{Expr: id}, nil
	}
	if m := truncRE.FindStringSubmatch(expr); m != nil {
		grain, ok := inlayGrain[strings.ToUpper(m[1])]
		if !ok {
			return dashboard.Field{}, fmt.Errorf("time grain %s is not one Inlay buckets by (hour, day, week, month, quarter, year)", m[1])
		}
		if want == aggregate {
			return dashboard.Field{}, fmt.Errorf("%s is a time bucket where a measure is needed", expr)
		}
		id, err := col(m[2])
		if err != nil {
			return dashboard.Field{}, err
		}
		return dashboard.Field{Expr: grain + "(" + id + ")"}, nil
	}
	if m := aggRE.FindStringSubmatch(expr); m != nil {
		if want == dimension {
			return dashboard.Field{}, fmt.Errorf("%s is a measure where a dimension is needed", expr)
		}
		fn, distinct := strings.ToLower(m[1]), m[2] != ""
		if m[3] == "*" || m[3] == "`*`" {
			if fn != "count" || distinct {
				return dashboard.Field{}, fmt.Errorf("%s is not an aggregate Inlay has", expr)
			}
			return dashboard.Field{Expr: "count(*)"}, nil
		}
		id, err := col(m[3])
		if err != nil {
			return dashboard.Field{}, err
		}
		if distinct {
			if fn != "count" {
				return dashboard.Field{}, fmt.Errorf("%s is not an aggregate Inlay has", expr)
			}
			return dashboard.Field{Expr: "count(distinct " + id + ")"}, nil
		}
		return dashboard.Field{Expr: fn + "(" + id + ")"}, nil
	}
	return dashboard.Field{}, fmt.Errorf("expression %s is not one Inlay has (a column, sum/avg/min/max/count, count distinct, or a time bucket)", expr)
}

// column returns the identifier a dataset column goes by in Inlay, renaming (in the dataset's
// wrapping SELECT) a column whose name is not a plain identifier.
func (c *converter) column(ds *dsInfo, name string) (string, bool) {
	if dashboard.ValidIdent(name) {
		return name, true
	}
	if id, ok := ds.renamed[name]; ok {
		return id, true
	}
	taken := map[string]bool{}
	for _, id := range ds.renamed {
		taken[id] = true
	}
	id := uniqueIdent(name, "column", taken)
	ds.renamed[name] = id
	ds.order = append(ds.order, name)
	return id, true
}

// uniqueIdent makes a lower-case identifier from s, distinct from those in used (which it
// records), falling back to prefix.
func uniqueIdent(s, prefix string, used map[string]bool) string {
	var b strings.Builder
	lastUnderscore := true
	for _, r := range strings.ToLower(s) {
		if plain, ok := unaccented[r]; ok {
			r = plain
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			lastUnderscore = false
		case !lastUnderscore:
			b.WriteByte('_')
			lastUnderscore = true
		}
	}
	id := strings.Trim(b.String(), "_")
	if len(id) > 48 {
		id = strings.TrimRight(id[:48], "_")
	}
	if id == "" || (id[0] >= '0' && id[0] <= '9') {
		id = prefix + "_" + id
		id = strings.TrimRight(id, "_")
	}
	base := id
	for n := 2; used[id]; n++ {
		id = base + "_" + strconv.Itoa(n)
	}
	used[id] = true
	return id
}

// unaccented maps accented Latin letters to the plain letter, so that "Execuções" is named
// execucoes rather than losing letters.
var unaccented = func() map[rune]rune {
	m := map[rune]rune{}
	for plain, accented := range map[rune]string{
		'a': "àáâãäåā", 'c': "çćč", 'e': "èéêëēę", 'i': "ìíîïī", 'n': "ñń", 'o': "òóôõöøō",
		'u': "ùúûüū", 'y': "ýÿ", 's': "śš", 'z': "źżž", 'l': "ł", 'd': "ð",
	} {
		for _, r := range accented {
			m[r] = plain
		}
	}
	return m
}()

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func firstNonEmpty(ss ...string) string {
	if i := slices.IndexFunc(ss, func(s string) bool { return strings.TrimSpace(s) != "" }); i >= 0 {
		return strings.TrimSpace(ss[i])
	}
	return ""
}

// stripStrings blanks out SQL string literals and comments, so that ':' inside them is not
// taken for a parameter.
func stripStrings(sql string) string {
	var b strings.Builder
	for i := 0; i < len(sql); i++ {
		switch {
		case sql[i] == '\'':
			j := i + 1
			for j < len(sql) && !(sql[j] == '\'' && (j+1 >= len(sql) || sql[j+1] != '\'')) {
				if sql[j] == '\'' {
					j++
				}
				j++
			}
			i = j
			b.WriteString("''")
		case strings.HasPrefix(sql[i:], "--"):
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
			b.WriteByte('\n')
		case sql[i] == ':' && i+1 < len(sql) && sql[i+1] == ':': // a :: cast
			b.WriteString("::")
			i++
		default:
			b.WriteByte(sql[i])
		}
	}
	return b.String()
}
