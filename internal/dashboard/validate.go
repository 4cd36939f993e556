package dashboard

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// GridColumns is the width of the layout grid.
const GridColumns = 12

var (
	slugRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	attributeRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
	// d3PatternRE accepts d3-format specifiers: [[fill]align][sign][symbol][0][width][,][.precision][~][type].
	d3PatternRE = regexp.MustCompile(`^(?:.?[<>=^])?[-+( ]?[$#]?0?\d*,?(?:\.\d+)?~?[eEfgGrsp%bodxXcn]?$`)
)

// Validate checks a dashboard built or changed in Go, reporting every problem at once. Problems
// carry d.File but no line numbers; Parse, LoadDir and LoadFS already validate with positions.
// It does not read sql_file: SQL must be filled in.
//
// Column names are checked only for being plain identifiers: whether they exist in a dataset's
// result is known only when the query runs against the data source.
func (d *Dashboard) Validate() []Problem {
	r := &report{file: d.File, d: d}
	r.validate()
	sortProblems(r.problems)
	return r.problems
}

// modelRE is what a dashboard's model may be (Looker model names).
var modelRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$`)

func (r *report) validate() {
	d := r.d
	switch {
	case d.ID == "":
		r.at("id", "id is required")
	case !slugRE.MatchString(d.ID):
		r.at("id", "id %q must be a slug: lower-case letters, digits, _ and -, starting with a letter or digit", d.ID)
	}
	if strings.TrimSpace(d.Title) == "" {
		r.at("title", "title is required")
	}
	for i, o := range d.AllowedOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			r.at(fmt.Sprintf("allowed_origins.%d", i), "allowed_origins: %q is not an origin such as https://app.example.com", o)
		}
	}
	if d.Model != "" && !modelRE.MatchString(d.Model) {
		r.at("model", "model %q must be a name: letters, digits, _ and -, starting with a letter or digit", d.Model)
	}
	if d.TimeZone != "" {
		if _, err := time.LoadLocation(d.TimeZone); err != nil || d.TimeZone == "Local" {
			r.at("time_zone", "time_zone %q is not an IANA time zone such as Europe/Berlin", d.TimeZone)
		}
	}
	if len(d.Datasets) == 0 {
		r.at("datasets", "at least one dataset is required")
	}
	if len(d.Widgets) == 0 {
		r.at("widgets", "at least one widget is required")
	}

	datasets := map[string]bool{}
	names := make([]string, len(d.Datasets))
	for i := range d.Datasets {
		names[i] = d.Datasets[i].Name
		datasets[d.Datasets[i].Name] = true
		r.dataset(i)
	}
	r.uniqueNames("datasets", "dataset", names)

	names = make([]string, len(d.Filters))
	for i := range d.Filters {
		names[i] = d.Filters[i].Name
		r.filter(i, datasets)
	}
	r.uniqueNames("filters", "filter", names)

	names = make([]string, len(d.Pages))
	pages := map[string]bool{}
	for i := range d.Pages {
		names[i] = d.Pages[i].Name
		pages[d.Pages[i].Name] = true
	}
	r.uniqueNames("pages", "page", names)

	names = make([]string, len(d.Widgets))
	for i := range d.Widgets {
		names[i] = d.Widgets[i].Name
		r.widget(i, datasets)
		r.widgetPage(i, pages)
	}
	r.uniqueNames("widgets", "widget", names)
	r.overlaps()
}

// uniqueNames checks that every item of a list has a valid name used once.
func (r *report) uniqueNames(list, kind string, names []string) {
	first := map[string]int{}
	for i, name := range names {
		p := fmt.Sprintf("%s.%d.name", list, i)
		switch {
		case name == "":
			r.at(p, "name is required")
			continue
		case !ValidIdent(name):
			r.at(p, "name %q must be an identifier: letters, digits and _, not starting with a digit", name)
			continue
		}
		j, dup := first[name]
		if !dup {
			first[name] = i
			continue
		}
		if line, _ := r.line(fmt.Sprintf("%s.%d", list, j)); line > 0 {
			r.at(p, "another %s is already named %q (line %d)", kind, name, line)
		} else {
			r.at(p, "another %s is already named %q", kind, name)
		}
	}
}

func (r *report) dataset(i int) {
	ds := &r.d.Datasets[i]
	p := fmt.Sprintf("datasets.%d", i)
	if strings.TrimSpace(ds.SQL) == "" {
		if ds.SQLFile != "" {
			r.at(p+".sql_file", "sql_file %q is empty", ds.SQLFile)
		} else {
			r.at(p, "give the query as sql or sql_file")
		}
	}
	for j, rule := range ds.RLS {
		rp := fmt.Sprintf("%s.rls.%d", p, j)
		if !ValidIdent(rule.Column) {
			r.at(rp+".column", "rls[%d]: column %q must be a plain column name", j, rule.Column)
		}
		if !attributeRE.MatchString(rule.Attribute) {
			r.at(rp+".attribute", "rls[%d]: attribute %q must be a viewer attribute name (letters, digits, _ . -)", j, rule.Attribute)
		}
		if rule.Operator != "" && rule.Operator != OperatorEq && rule.Operator != OperatorIn {
			r.at(rp+".operator", "rls[%d]: operator %q must be %q or %q", j, rule.Operator, OperatorEq, OperatorIn)
		}
	}
}

func (r *report) filter(i int, datasets map[string]bool) {
	f := &r.d.Filters[i]
	p := fmt.Sprintf("filters.%d", i)
	if !slices.Contains(FilterTypes, f.Type) {
		if f.Type == "" {
			r.at(p+".type", "type is required (%s)", strings.Join(FilterTypes, ", "))
		} else {
			r.at(p+".type", "type %q is not a filter type (%s)", f.Type, strings.Join(FilterTypes, ", "))
		}
	}
	if len(f.Targets) == 0 {
		r.at(p+".targets", "at least one target {dataset, column} is required")
	}
	for j, t := range f.Targets {
		tp := fmt.Sprintf("%s.targets.%d", p, j)
		if t.Dataset == "" {
			r.at(tp, "targets[%d]: dataset is required", j)
		} else if !datasets[t.Dataset] {
			r.at(tp+".dataset", "targets[%d]: no dataset is named %q", j, t.Dataset)
		}
		if !ValidIdent(t.Column) {
			r.at(tp+".column", "targets[%d]: column %q must be a plain column name", j, t.Column)
		}
	}
	if f.Default != nil {
		if msg := checkDefault(f.Type, f.Default); msg != "" {
			r.at(p+".default", "default: %s", msg)
		}
	}
}

// checkDefault checks a filter's default has the shape a query request would give the filter
// (docs/api.md): a string, a list of strings, {from, to} dates, {min, max} numbers.
func checkDefault(typ string, v any) string {
	switch typ {
	case FilterSingleSelect:
		if _, ok := scalarString(v); !ok {
			return "a single_select default is one value"
		}
	case FilterMultiSelect:
		list, ok := v.([]any)
		if !ok {
			return "a multi_select default is a list of values"
		}
		for _, e := range list {
			if _, ok := scalarString(e); !ok {
				return "a multi_select default is a list of values"
			}
		}
	case FilterDateRange:
		m, ok := v.(map[string]any)
		if !ok {
			return "a date_range default is {from, to}"
		}
		for k, e := range m {
			if k != "from" && k != "to" {
				return fmt.Sprintf("a date_range default is {from, to}, not %q", k)
			}
			if !isDate(e) {
				return fmt.Sprintf("%s: %v is not a date (YYYY-MM-DD) or RFC 3339 timestamp", k, e)
			}
		}
	case FilterNumericRange:
		m, ok := v.(map[string]any)
		if !ok {
			return "a numeric_range default is {min, max}"
		}
		for k, e := range m {
			if k != "min" && k != "max" {
				return fmt.Sprintf("a numeric_range default is {min, max}, not %q", k)
			}
			switch e.(type) {
			case int, int64, uint64, float64, nil:
			default:
				return fmt.Sprintf("%s: %v is not a number", k, e)
			}
		}
	}
	return ""
}

func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int, int64, uint64, float64, bool:
		return fmt.Sprint(x), true
	}
	return "", false
}

func isDate(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case time.Time: // yaml.v3 decodes unquoted timestamps into `any` as time.Time
		return true
	case string:
		if _, err := time.Parse(time.DateOnly, x); err == nil {
			return true
		}
		_, err := time.Parse(time.RFC3339, x)
		return err == nil
	}
	return false
}

// need says which kind of expression a widget slot takes.
type need int

const (
	anyExpr   need = iota
	dimension      // a column or a time bucket: grouped by
	aggregate      // sum(amount), count(*), ...
)

// slotRule is one field list a widget type uses.
type slotRule struct {
	need     need
	required bool
}

// widgetSlots says, for each widget type, which field slots it uses (see the Widget doc).
var widgetSlots = map[string]map[string]slotRule{
	WidgetCounter: {"value": {aggregate, true}},
	WidgetBar:     {"x": {dimension, true}, "y": {aggregate, true}, "series": {dimension, false}},
	WidgetLine:    {"x": {dimension, true}, "y": {aggregate, true}, "series": {dimension, false}},
	WidgetArea:    {"x": {dimension, true}, "y": {aggregate, true}, "series": {dimension, false}},
	WidgetPie:     {"label": {dimension, true}, "value": {aggregate, true}},
	WidgetTable:   {"columns": {anyExpr, true}},
	WidgetPivot:   {"rows": {dimension, true}, "pivot_columns": {dimension, true}, "values": {aggregate, true}},
	WidgetText:    {},
}

// slot is one field slot of a widget as written: its YAML key, path and fields.
type slot struct {
	key    string
	path   string
	single bool
	fields []*Field
}

// slots lists a widget's field slots in YAML order of the Widget type. A slot is present when
// it has at least one field.
func (w *Widget) slots(p string) []slot {
	one := func(key string, f *Field) slot {
		s := slot{key: key, path: p + "." + key, single: true}
		if f != nil {
			s.fields = []*Field{f}
		}
		return s
	}
	many := func(key string, fs []Field) slot {
		s := slot{key: key, path: p + "." + key}
		for i := range fs {
			s.fields = append(s.fields, &fs[i])
		}
		return s
	}
	return []slot{
		one("value", w.Value), one("x", w.X), many("y", w.Y), one("series", w.Series),
		one("label", w.Label), many("columns", w.Columns), many("rows", w.Rows),
		many("pivot_columns", w.PivotColumns), many("values", w.Values),
	}
}

func (r *report) widget(i int, datasets map[string]bool) {
	w := &r.d.Widgets[i]
	p := fmt.Sprintf("widgets.%d", i)
	rules, known := widgetSlots[w.Type]
	if !known {
		if w.Type == "" {
			r.at(p+".type", "type is required (%s)", strings.Join(WidgetTypes, ", "))
		} else {
			r.at(p+".type", "type %q is not a widget type (%s)", w.Type, strings.Join(WidgetTypes, ", "))
		}
	}
	switch {
	case w.Type == WidgetText:
		if w.Dataset != "" {
			r.at(p+".dataset", "a text widget does not use dataset (it shows its Markdown content)")
		}
		if strings.TrimSpace(w.Content) == "" {
			r.at(p+".content", "a text widget needs content (Markdown)")
		}
	case w.Dataset == "":
		r.at(p+".dataset", "dataset is required")
	case !datasets[w.Dataset]:
		r.at(p+".dataset", "no dataset is named %q", w.Dataset)
	}
	if s := w.Sparkline; s != nil {
		sp := p + ".sparkline"
		switch {
		case known && w.Type != WidgetCounter:
			r.at(sp, "sparkline applies only to counter widgets")
		case s.X == nil:
			r.at(sp, "sparkline: x is required, e.g. {x: month(ts)}")
		default:
			if e, ok := r.field(s.X, sp+".x", "sparkline.x"); ok && e.IsAggregate() {
				r.at(sp+".x.expr", "sparkline.x: %q must be a column or a time bucket such as month(ts), not an aggregate", s.X.Expr)
			}
		}
	}
	if w.Content != "" && known && w.Type != WidgetText {
		r.at(p+".content", "content applies only to text widgets")
	}

	keys := map[string]string{} // result key -> where it was first used
	for _, s := range w.slots(p) {
		rule, uses := rules[s.key]
		switch {
		case !known:
		case len(s.fields) == 0 && rule.required:
			r.at(s.path, "a %s widget needs %s", w.Type, s.key)
		case len(s.fields) > 0 && !uses:
			r.at(s.path, "a %s widget does not use %s (it uses %s)", w.Type, s.key, slotNames(rules))
		}
		for j, f := range s.fields {
			fp, name := s.path, s.key
			if !s.single {
				fp, name = fmt.Sprintf("%s.%d", s.path, j), fmt.Sprintf("%s[%d]", s.key, j)
			}
			e, ok := r.field(f, fp, name)
			if !ok {
				continue
			}
			if known && uses {
				switch {
				case rule.need == aggregate && !e.IsAggregate():
					r.at(fp+".expr", "%s: %q must be an aggregate such as sum(%s) or count(*)", name, f.Expr, e.Column)
				case rule.need == dimension && e.IsAggregate():
					r.at(fp+".expr", "%s: %q must be a column or a time bucket such as month(ts), not an aggregate", name, f.Expr)
				}
			}
			if prev, dup := keys[e.Key()]; dup {
				r.at(fp+".expr", "%s: %q repeats %s (each field of a widget must be distinct)", name, f.Expr, prev)
			} else {
				keys[e.Key()] = name
			}
		}
	}

	for j, s := range w.Sort {
		sp := fmt.Sprintf("%s.sort.%d", p, j)
		key := s.Field
		if e, err := ParseExpr(s.Field); err == nil {
			key = e.Key()
		}
		if _, ok := keys[key]; s.Field == "" {
			r.at(sp, "sort[%d]: field is required", j)
		} else if !ok && len(keys) > 0 {
			r.at(sp+".field", "sort[%d]: %q is not one of this widget's fields (%s)", j, s.Field, sortedKeys(keys))
		}
	}
	if w.Limit < 0 {
		r.at(p+".limit", "limit %d must be 0 (no limit) or more", w.Limit)
	}
	if w.Stacked && known && w.Type != WidgetBar && w.Type != WidgetArea {
		r.at(p+".stacked", "stacked applies only to bar and area widgets")
	}
	if w.Horizontal && known && w.Type != WidgetBar {
		r.at(p+".horizontal", "horizontal applies only to bar widgets")
	}
	switch {
	case w.Compare != "" && w.Compare != ComparePreviousPeriod:
		r.at(p+".compare", "compare %q is not a comparison (%s)", w.Compare, ComparePreviousPeriod)
	case w.Compare != "" && known && w.Type != WidgetCounter:
		r.at(p+".compare", "compare applies only to counter widgets")
	}
	switch {
	case w.Direction != "" && w.Direction != DirectionUp && w.Direction != DirectionDown:
		r.at(p+".direction", "direction %q must be %s or %s", w.Direction, DirectionUp, DirectionDown)
	case w.Direction != "" && w.Compare == "":
		r.at(p+".direction", "direction applies only with compare")
	}

	l := w.Layout
	lp := p + ".layout"
	if _, written := r.pos[lp]; (r.pos != nil && !written) || l == (Layout{}) {
		r.at(lp, "layout {x, y, w, h} is required")
		return
	}
	if l.X < 0 || l.Y < 0 {
		r.at(lp, "layout: x and y must be 0 or more")
	}
	if l.W < 1 || l.H < 1 {
		r.at(lp, "layout: w and h must be 1 or more")
	}
	if l.X+l.W > GridColumns {
		r.at(lp, "layout: x + w = %d goes past the %d-column grid", l.X+l.W, GridColumns)
	}
}

// widgetPage checks a widget's page: one of the declared pages, and given on every widget when
// the dashboard has pages.
func (r *report) widgetPage(i int, pages map[string]bool) {
	w := &r.d.Widgets[i]
	p := fmt.Sprintf("widgets.%d", i)
	switch {
	case len(r.d.Pages) == 0 && w.Page != "":
		r.at(p+".page", "page %q: the dashboard declares no pages (add pages: [{name, title}])", w.Page)
	case len(r.d.Pages) == 0:
	case w.Page == "":
		r.at(p, "page is required: the dashboard has pages (%s)", pageNames(r.d.Pages))
	case !pages[w.Page]:
		r.at(p+".page", "no page is named %q (%s)", w.Page, pageNames(r.d.Pages))
	}
}

func pageNames(ps []Page) string {
	names := make([]string, len(ps))
	for i, pg := range ps {
		names[i] = pg.Name
	}
	return strings.Join(names, ", ")
}

// field checks one field's expression and format and returns its parsed expression.
func (r *report) field(f *Field, p, name string) (Expr, bool) {
	ok := true
	var e Expr
	if strings.TrimSpace(f.Expr) == "" {
		r.at(p+".expr", "%s: expr is required", name)
		ok = false
	} else {
		var err error
		if e, err = ParseExpr(f.Expr); err != nil {
			r.at(p+".expr", "%s: %v", name, err)
			ok = false
		}
	}
	if f.Format != "" && !slices.Contains(Formats, f.Format) && !d3PatternRE.MatchString(f.Format) {
		r.at(p+".format", "%s: format %q is neither one of %s nor a d3-format pattern such as \",.2f\"",
			name, f.Format, strings.Join(Formats, ", "))
	}
	return e, ok
}

// overlaps reports widgets whose layout rectangles intersect an earlier widget's on the same page.
func (r *report) overlaps() {
	ws := r.d.Widgets
	for i := range ws {
		a := ws[i].Layout
		if a.W < 1 || a.H < 1 {
			continue
		}
		for j := range i {
			if ws[i].Page != ws[j].Page {
				continue // each page has its own grid
			}
			b := ws[j].Layout
			if b.W < 1 || b.H < 1 {
				continue
			}
			if a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H {
				r.at(fmt.Sprintf("widgets.%d.layout", i), "layout overlaps %s", r.context(fmt.Sprintf("widgets.%d", j)))
				break
			}
		}
	}
}

func slotNames(rules map[string]slotRule) string {
	var names []string
	for k := range rules {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func sortedKeys(m map[string]string) string {
	var names []string
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
