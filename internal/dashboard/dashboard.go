// Package dashboard is the dashboards-as-code model: the YAML format an analytics engineer writes,
// its parsing with file and line positions, and its validation. It imports no HTTP, storage or
// database code.
package dashboard

// Dashboard is one dashboard file (dashboards/<id>.yaml).
type Dashboard struct {
	ID          string `yaml:"id" json:"id"`
	Title       string `yaml:"title" json:"title"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// AllowedOrigins adds embed origins for this dashboard on top of the instance's list.
	AllowedOrigins []string  `yaml:"allowed_origins,omitempty" json:"-"`
	Datasets       []Dataset `yaml:"datasets" json:"-"`
	Filters        []Filter  `yaml:"filters,omitempty" json:"filters"`
	// Pages split the widgets into tabs; when given, every widget names its page. Filters
	// stay dashboard-wide.
	Pages   []Page   `yaml:"pages,omitempty" json:"pages,omitempty"`
	Widgets []Widget `yaml:"widgets" json:"widgets"`

	// Model is the LookML-style model the dashboard belongs to: a Looker embed user may open it
	// only when their models include it (docs/looker.md). Optional; without it, Looker embed
	// users cannot open the dashboard.
	Model string `yaml:"model,omitempty" json:"-"`

	// TimeZone is the IANA zone relative date presets resolve in ("last 7 days" starts at
	// midnight there); empty means UTC.
	TimeZone string `yaml:"time_zone,omitempty" json:"time_zone,omitempty"`

	// File is the path the dashboard was loaded from (for error messages).
	File string `yaml:"-" json:"-"`
	// positions maps dotted paths to where they are written in File (see At).
	positions map[string]Position
}

// Page is one tab of a dashboard: widgets name it in their page key.
type Page struct {
	Name  string `yaml:"name" json:"name"`
	Title string `yaml:"title,omitempty" json:"title"`
}

// Dataset is a named SQL query over one data source. Its SQL may use the bare identifier
// __aibi_external_value, which stands for the viewer token's external value.
type Dataset struct {
	Name   string `yaml:"name"`
	Source string `yaml:"source,omitempty"` // data source name from inlay.yaml; "" means "default"
	SQL    string `yaml:"sql,omitempty"`
	// SQLFile is a path relative to the dashboard file, used instead of SQL.
	SQLFile string `yaml:"sql_file,omitempty"`
	// RLS rules are ANDed around the dataset query.
	RLS []RLSRule `yaml:"rls,omitempty"`
}

// RLSRule filters a dataset on a viewer attribute carried by the embed token: with Operator
// "eq" (default) column = the attribute's single value, with "in" column IN the attribute's list.
// A token without the attribute makes every query on the dataset fail (fail closed).
type RLSRule struct {
	Column    string `yaml:"column"`
	Attribute string `yaml:"attribute"`
	Operator  string `yaml:"operator,omitempty"` // "eq" | "in"
}

// Filter kinds.
const (
	FilterSingleSelect = "single_select"
	FilterMultiSelect  = "multi_select"
	FilterDateRange    = "date_range"
	FilterNumericRange = "numeric_range"
)

// Filter is a dashboard-level control bound to one or more dataset columns.
type Filter struct {
	Name  string `yaml:"name" json:"name"`
	Title string `yaml:"title,omitempty" json:"title"`
	Type  string `yaml:"type" json:"type"`
	// Targets are the dataset columns this filter restricts. The first one also supplies the
	// option list of select filters.
	Targets []FilterTarget `yaml:"targets" json:"-"`
	// Default is the initial value: a string for single_select, a list for multi_select,
	// {from, to} for ranges. Optional.
	Default any `yaml:"default,omitempty" json:"default,omitempty"`
}

// FilterTarget binds a filter to a dataset column.
type FilterTarget struct {
	Dataset string `yaml:"dataset"`
	Column  string `yaml:"column"`
}

// Widget kinds.
const (
	WidgetCounter = "counter"
	WidgetBar     = "bar"
	WidgetLine    = "line"
	WidgetArea    = "area"
	WidgetPie     = "pie"
	WidgetTable   = "table"
	WidgetPivot   = "pivot"
	WidgetText    = "text"
)

// Widget is one tile. Which field lists apply depends on Type:
//
//	counter:         Value
//	bar, line, area: X, Y (one or more), optional Series (breakdown)
//	pie:             Label, Value
//	table:           Columns (dimensions and/or aggregates; all plain columns means raw rows)
//	pivot:           Rows, PivotColumns, Values
//	text:            Content (Markdown; no dataset, no query)
type Widget struct {
	Name    string  `yaml:"name" json:"name"`
	Title   string  `yaml:"title,omitempty" json:"title"`
	Type    string  `yaml:"type" json:"type"`
	Dataset string  `yaml:"dataset" json:"-"`
	Value   *Field  `yaml:"value,omitempty" json:"value,omitempty"`
	X       *Field  `yaml:"x,omitempty" json:"x,omitempty"`
	Y       []Field `yaml:"y,omitempty" json:"y,omitempty"`
	Series  *Field  `yaml:"series,omitempty" json:"series,omitempty"`
	Label   *Field  `yaml:"label,omitempty" json:"label,omitempty"`
	Columns []Field `yaml:"columns,omitempty" json:"columns,omitempty"`
	Rows    []Field `yaml:"rows,omitempty" json:"rows,omitempty"`
	// PivotColumns are the pivot's column dimensions (YAML key "pivot_columns").
	PivotColumns []Field `yaml:"pivot_columns,omitempty" json:"pivot_columns,omitempty"`
	Values       []Field `yaml:"values,omitempty" json:"values,omitempty"`
	Sort         []Sort  `yaml:"sort,omitempty" json:"-"`
	Limit        int     `yaml:"limit,omitempty" json:"limit,omitempty"`
	Layout       Layout  `yaml:"layout" json:"layout"`
	// Stacked draws bar/area series stacked.
	Stacked bool `yaml:"stacked,omitempty" json:"stacked,omitempty"`
	// Horizontal draws bars horizontally.
	Horizontal bool `yaml:"horizontal,omitempty" json:"horizontal,omitempty"`
	// Compare (counters): "previous_period" also runs the counter over the period just before
	// the one the date filter selects, and the viewer shows the change.
	Compare string `yaml:"compare,omitempty" json:"compare,omitempty"`
	// Direction (with compare): "up" (default) when a rise is good, "down" when a fall is.
	Direction string `yaml:"direction,omitempty" json:"direction,omitempty"`
	// Content (text widgets) is Markdown. It is rendered once, when the dashboard loads, to
	// sanitized HTML (HTML), which is what the viewer receives.
	Content string `yaml:"content,omitempty" json:"-"`
	// Sparkline (counters) draws the counter's value over a time bucket under it.
	Sparkline *Sparkline `yaml:"sparkline,omitempty" json:"sparkline,omitempty"`
	// Page is the name of the page (tab) the widget is on; required when the dashboard has pages.
	Page string `yaml:"page,omitempty" json:"page,omitempty"`
	HTML string `yaml:"-" json:"html,omitempty"`
}

// Queried reports whether the widget runs a query (every type but text).
func (w *Widget) Queried() bool { return w.Type != WidgetText }

// Sparkline is a counter's small trend line: its value by X (a time bucket such as month(ts), or
// a column), queried like a line widget through the same plan and row-level security.
type Sparkline struct {
	X *Field `yaml:"x" json:"x"`
}

// SparklineSuffix names the line widget a counter's sparkline runs as ("revenue.sparkline"); no
// widget name contains a dot, so it cannot clash.
const SparklineSuffix = ".sparkline"

// SparklineWidget returns the line widget that computes w's sparkline (nil without one): the
// counter's value by the sparkline's x, in x order, on the same dataset.
func (w *Widget) SparklineWidget() *Widget {
	if w.Type != WidgetCounter || w.Sparkline == nil || w.Sparkline.X == nil || w.Value == nil {
		return nil
	}
	x := *w.Sparkline.X
	return &Widget{Name: w.Name + SparklineSuffix, Type: WidgetLine, Dataset: w.Dataset, X: &x, Y: []Field{*w.Value},
		Sort: []Sort{{Field: x.Expr}}, Layout: w.Layout, Page: w.Page}
}

// Counter comparisons and their directions.
const (
	ComparePreviousPeriod = "previous_period"
	DirectionUp           = "up"
	DirectionDown         = "down"
)

// Field is a widget field: an expression over dataset columns, written in YAML either as a plain
// string ("sum(amount)") or as a mapping {expr, label, format}.
//
// Expressions: a column name (region), an aggregate (sum|avg|min|max|count(column), count(*),
// count(distinct column)), or a time bucket (hour|day|week|month|quarter|year(column)).
type Field struct {
	Expr   string `yaml:"expr" json:"expr"`
	Label  string `yaml:"label,omitempty" json:"label"`
	Format string `yaml:"format,omitempty" json:"format,omitempty"`
	// Key is the result column name of this field, assigned by the compiler (stable, derived
	// from Expr), so the viewer can match fields to result columns.
	Key string `yaml:"-" json:"key"`
}

// Number formats a Field may carry; the viewer renders them. Any other string is a d3-style
// pattern passed through (e.g. ",.2f").
const (
	FormatNumber   = "number"   // 1,234,567
	FormatCompact  = "compact"  // 1.2M
	FormatCurrency = "currency" // $1,234.57
	FormatPercent  = "percent"  // 12.3% (value 0.123)
	FormatInteger  = "integer"  // 1,235
)

// Sort orders a widget's result by one of its fields (by expression or key), ascending unless
// Desc.
type Sort struct {
	Field string `yaml:"field"`
	Desc  bool   `yaml:"desc,omitempty"`
}

// Layout places a widget on a 12-column grid; H is in grid rows.
type Layout struct {
	X int `yaml:"x" json:"x"`
	Y int `yaml:"y" json:"y"`
	W int `yaml:"w" json:"w"`
	H int `yaml:"h" json:"h"`
}
