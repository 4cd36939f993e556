package dashboard_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/inlay/inlay/internal/dashboard"
)

// wantRE marks an expected problem on the line it ends: "# want: text the message contains".
var wantRE = regexp.MustCompile(`#\s*want:\s*(.+)$`)

type want struct {
	line int
	text string
}

// wants reads the expected problems from a YAML document's "# want:" comments, so the expected
// line numbers are the real lines of the text under test.
func wants(t *testing.T, doc string) []want {
	t.Helper()
	var out []want
	for i, line := range strings.Split(doc, "\n") {
		for _, part := range wantRE.FindAllStringSubmatch(line, -1) {
			for _, w := range strings.Split(part[1], " && ") {
				out = append(out, want{line: i + 1, text: strings.TrimSpace(w)})
			}
		}
	}
	return out
}

// checkProblems asserts a one-to-one match: every expected problem is reported on its line,
// and nothing else is reported.
func checkProblems(t *testing.T, got []dashboard.Problem, expected []want) {
	t.Helper()
	used := make([]bool, len(got))
	for _, w := range expected {
		found := false
		for i, p := range got {
			if !used[i] && p.Line == w.line && strings.Contains(p.Message, w.text) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("missing problem on line %d containing %q", w.line, w.text)
		}
	}
	for i, p := range got {
		if !used[i] {
			t.Errorf("unexpected problem: %s", p)
		}
	}
}

// base is a valid dashboard the bad cases below are variations of.
const base = `id: sales
title: Sales
datasets:
  - name: sales
    sql: SELECT * FROM sales
widgets:
  - name: revenue
    type: counter
    dataset: sales
    value: sum(amount)
    layout: { x: 0, y: 0, w: 3, h: 2 }
`

func TestParseValid(t *testing.T) {
	d, problems := dashboard.Parse("dashboards/sales.yaml", []byte(base))
	for _, p := range problems {
		t.Error(p)
	}
	if d == nil || d.ID != "sales" || len(d.Widgets) != 1 || d.Widgets[0].Value.Key != "sum_amount" {
		t.Fatalf("parsed %+v", d)
	}
	if d.File != "dashboards/sales.yaml" {
		t.Errorf("File = %q", d.File)
	}
}

func TestParseProblems(t *testing.T) {
	cases := []struct {
		name string
		doc  string
	}{
		{"typo in a field mapping", `id: sales
title: Sales
datasets:
  - name: sales
    sql: SELECT * FROM sales
widgets:
  - name: revenue
    type: counter
    dataset: sales
    value: { expr: sum(amount), lable: Revenue } # want: widget "revenue": value: unknown field "lable" (did you mean "label"?)
    layout: { x: 0, y: 0, w: 3, h: 2 }
`},
		{"typo in a widget key also leaves the counter without value", `id: sales
title: Sales
datasets:
  - name: sales
    sql: SELECT * FROM sales
widgets:
  - name: revenue # want: a counter widget needs value
    type: counter
    dataset: sales
    expression: sum(amount) # want: widget "revenue": unknown field "expression"
    layout: { x: 0, y: 0, w: 3, h: 2 }
`},
		{"bad expression", `id: sales
title: Sales
datasets:
  - name: sales
    sql: SELECT * FROM sales
widgets:
  - name: revenue
    type: counter
    dataset: sales
    value: sum(amount # want: widget "revenue": value: "sum(amount" is not a field expression
    layout: { x: 0, y: 0, w: 3, h: 2 }
`},
		{"unknown function in mapping form points at expr", `id: sales
title: Sales
datasets:
  - name: sales
    sql: SELECT * FROM sales
widgets:
  - name: revenue
    type: counter
    dataset: sales
    value:
      label: Revenue
      expr: median(amount) # want: unknown function "median"
    layout: { x: 0, y: 0, w: 3, h: 2 }
`},
		{"missing dataset", `id: sales
title: Sales
datasets:
  - name: sales
    sql: SELECT * FROM sales
filters:
  - name: region
    type: multi_select
    targets:
      - dataset: sale # want: filter "region": targets[0]: no dataset is named "sale"
        column: region
widgets:
  - name: revenue
    type: counter
    dataset: orders # want: widget "revenue": no dataset is named "orders"
    value: sum(amount)
    layout: { x: 0, y: 0, w: 3, h: 2 }
`},
		{"duplicate names", `id: sales
title: Sales
datasets:
  - name: sales
    sql: SELECT * FROM sales
  - name: sales # want: another dataset is already named "sales" (line 4)
    sql: SELECT 1
widgets:
  - name: revenue
    type: counter
    dataset: sales
    value: sum(amount)
    layout: { x: 0, y: 0, w: 3, h: 2 }
  - name: revenue # want: another widget is already named "revenue" (line 9)
    type: counter
    dataset: sales
    value: count(*)
    layout: { x: 3, y: 0, w: 3, h: 2 }
`},
		{"three problems reported together", `id: Sales Board # want: id "Sales Board" must be a slug
title: Sales
datasets:
  - name: sales
    sql: SELECT * FROM sales
filters:
  - name: region
    type: dropdown # want: filter "region": type "dropdown" is not a filter type
    targets: [{ dataset: sales, column: region }]
widgets:
  - name: revenue
    type: counter
    dataset: sales
    value: sum(amount)
    layout: { x: 10, y: 0, w: 3, h: 2 } # want: x + w = 13 goes past the 12-column grid
`},
		{"wrong shapes do not cascade", `id: sales
title: Sales
datasets:
  - name: sales
    sql: SELECT * FROM sales
widgets:
  - name: revenue
    type: counter
    dataset: sales
    value: sum(amount)
    limit: ten # want: limit: expected an integer, found "ten"
    layout: wide # want: layout: expected a mapping, found "wide"
`},
		{"aggregates and dimensions in the wrong slots", `id: sales
title: Sales
datasets:
  - name: sales
    sql: SELECT * FROM sales
widgets:
  - name: by_region
    type: bar
    dataset: sales
    x: sum(amount) # want: x: "sum(amount)" must be a column or a time bucket
    y: [region] # want: y[0]: "region" must be an aggregate such as sum(region)
    layout: { x: 0, y: 0, w: 6, h: 4 }
`},
		{"foreign fields and options", `id: sales
title: Sales
datasets:
  - name: sales
    sql: SELECT * FROM sales
widgets:
  - name: revenue
    type: counter
    dataset: sales
    value: sum(amount)
    x: region # want: a counter widget does not use x
    stacked: true # want: stacked applies only to bar and area widgets
    layout: { x: 0, y: 0, w: 3, h: 2 }
`},
		{"pivot and pie need their fields", `id: sales
title: Sales
datasets:
  - name: sales
    sql: SELECT * FROM sales
widgets:
  - name: share # want: a pie widget needs label
    type: pie
    dataset: sales
    value: sum(amount)
    layout: { x: 0, y: 0, w: 4, h: 4 }
  - name: grid # want: a pivot widget needs pivot_columns && a pivot widget needs values
    type: pivot
    dataset: sales
    rows: [region]
    layout: { x: 4, y: 0, w: 8, h: 4 }
  - name: nothing
    type: gauge # want: type "gauge" is not a widget type
    dataset: sales
    layout: { x: 0, y: 4, w: 4, h: 4 }
`},
		{"sort, limit and duplicate fields", `id: sales
title: Sales
datasets:
  - name: sales
    sql: SELECT * FROM sales
widgets:
  - name: top
    type: table
    dataset: sales
    columns:
      - customer
      - sum(amount)
      - SUM(amount) # want: columns[2]: "SUM(amount)" repeats columns[1]
    sort:
      - field: sum_amount
      - field: revenue # want: sort[1]: "revenue" is not one of this widget's fields
    limit: -1 # want: limit -1 must be 0 (no limit) or more
    layout: { x: 0, y: 0, w: 12, h: 4 }
`},
		{"datasets and rls", `id: sales
title: Sales
datasets:
  - name: a # want: give the query as sql or sql_file
  - name: b
    sql: SELECT * FROM sales
    sql_file: b.sql # want: give either sql or sql_file, not both
  - name: 2c # want: name "2c" must be an identifier
    sql: SELECT * FROM sales
    rls:
      - column: "region; DROP TABLE x" # want: rls[0]: column "region; DROP TABLE x" must be a plain column name
        attribute: regions
        operator: within # want: rls[0]: operator "within" must be "eq" or "in"
      - column: department
        attribute: "" # want: rls[1]: attribute "" must be a viewer attribute name
widgets:
  - name: revenue
    type: counter
    dataset: b
    value: sum(amount)
    layout: { x: 0, y: 0, w: 3, h: 2 }
`},
		{"formats, filters, layout overlap and origins", `id: sales
title: Sales
allowed_origins:
  - https://app.example.com
  - app.example.com # want: allowed_origins: "app.example.com" is not an origin
datasets:
  - name: sales
    sql: SELECT * FROM sales
filters:
  - name: period
    type: date_range
    default: { from: 2024-01-01, until: 2024-02-01 } # want: a date_range default is {from, to}, not "until"
    targets: [{ dataset: sales, column: ts }]
  - name: amount
    type: numeric_range
    targets: [] # want: filter "amount": at least one target
  - name: product
    type: multi_select
    default: Widgets # want: a multi_select default is a list of values
    targets: [{ dataset: sales, column: product }]
widgets:
  - name: revenue
    type: counter
    dataset: sales
    value: { expr: sum(amount), format: dollars } # want: format "dollars" is neither one of number, compact, currency, percent, integer
    layout: { x: 0, y: 0, w: 3, h: 2 }
  - name: orders
    type: counter
    dataset: sales
    value: { expr: count(*), format: ",.0f" }
    layout: { x: 2, y: 1, w: 3, h: 2 } # want: layout overlaps widget "revenue"
`},
		{"missing layout and top-level keys", `id: sales # want: title is required
datasets:
  - name: sales
    sql: SELECT * FROM sales
widgets:
  - name: revenue # want: layout {x, y, w, h} is required
    type: counter
    dataset: sales
    value: sum(amount)
dashbaord_filters: [] # want: unknown field "dashbaord_filters"
`},
		{"a repeated key is reported alone", `id: sales
title: Sales
datasets:
  - name: sales
    sql: SELECT * FROM sales
    sql: SELECT 1 # want: dataset "sales": "sql" is given twice (first on line 5)
widgets:
  - name: revenue
    type: counter
    dataset: sales
    value: sum(amount)
    layout: { x: 0, y: 0, w: 3, h: 2 }
`},
		{"list where a mapping goes", `id: sales
title: Sales
datasets:
  - name: sales
    sql: SELECT * FROM sales
widgets:
  - just a string # want: widget #1: expected a mapping, found "just a string"
`},
		{"yaml syntax error", `id: sales
title: Sales
subtitle: Sales: by region # want: YAML: mapping values are not allowed in this context
`},
		{"empty file", "# want: the file is empty\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, problems := dashboard.Parse("dashboards/sales.yaml", []byte(tc.doc))
			for _, p := range problems {
				if p.File != "dashboards/sales.yaml" {
					t.Errorf("problem names file %q: %s", p.File, p)
				}
			}
			checkProblems(t, problems, wants(t, tc.doc))
		})
	}
}

func TestProblemString(t *testing.T) {
	doc := strings.Replace(base, "    value: sum(amount)\n", "    value: sum(amount)\n    expression: sum(amount)\n", 1)
	_, problems := dashboard.Parse("dashboards/sales.yaml", []byte(doc))
	if len(problems) != 1 {
		t.Fatalf("got %d problems, want 1: %v", len(problems), problems)
	}
	got := problems[0].String()
	prefix := `dashboards/sales.yaml:11:5: widget "revenue": unknown field "expression" (expected one of `
	if !strings.HasPrefix(got, prefix) {
		t.Errorf("got  %s\nwant %s...", got, prefix)
	}
	if s := (dashboard.Problem{File: "a.yaml", Message: "boom"}).String(); s != "a.yaml: boom" {
		t.Errorf("String without a line = %q", s)
	}
}

func TestFieldForms(t *testing.T) {
	doc := base + `  - name: by_month
    type: line
    dataset: sales
    x: month(ts)
    y:
      - sum(amount)
      - { expr: count(distinct customer), label: Customers, format: integer }
    series:
      expr: region
      label: Region
    layout: { x: 3, y: 0, w: 9, h: 4 }
`
	d, problems := dashboard.Parse("dashboards/sales.yaml", []byte(doc))
	for _, p := range problems {
		t.Fatal(p)
	}
	w, ok := d.Widget("by_month")
	if !ok {
		t.Fatal("widget by_month not found")
	}
	got := []dashboard.Field{*w.X, w.Y[0], w.Y[1], *w.Series}
	expected := []dashboard.Field{
		{Expr: "month(ts)", Key: "month_ts"},
		{Expr: "sum(amount)", Key: "sum_amount"},
		{Expr: "count(distinct customer)", Label: "Customers", Format: "integer", Key: "count_distinct_customer"},
		{Expr: "region", Label: "Region", Key: "region"},
	}
	for i := range expected {
		if got[i] != expected[i] {
			t.Errorf("field %d = %+v, want %+v", i, got[i], expected[i])
		}
	}
	if len(w.Fields()) != 4 {
		t.Errorf("Fields() = %d fields, want 4", len(w.Fields()))
	}
}

func TestLookups(t *testing.T) {
	doc := base + `filters:
  - name: region
    type: single_select
    targets: [{ dataset: sales, column: region }]
`
	d, problems := dashboard.Parse("x.yaml", []byte(doc))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if w, ok := d.Widget("revenue"); !ok || w.Type != dashboard.WidgetCounter {
		t.Error("Widget(revenue) not found")
	}
	if f, ok := d.Filter("region"); !ok || f.Type != dashboard.FilterSingleSelect {
		t.Error("Filter(region) not found")
	}
	if ds, ok := d.Dataset("sales"); !ok || ds.SQL != "SELECT * FROM sales" {
		t.Error("Dataset(sales) not found")
	}
	if _, ok := d.Widget("nope"); ok {
		t.Error("Widget(nope) found")
	}
	if _, ok := d.Filter("nope"); ok {
		t.Error("Filter(nope) found")
	}
	if _, ok := d.Dataset("nope"); ok {
		t.Error("Dataset(nope) found")
	}
	// Lookups return the dashboard's own items, not copies.
	w, _ := d.Widget("revenue")
	w.Title = "changed"
	if d.Widgets[0].Title != "changed" {
		t.Error("Widget returned a copy")
	}
}

func TestNormalize(t *testing.T) {
	doc := strings.Replace(base, "    sql: SELECT * FROM sales\n",
		"    sql: \"SELECT * FROM sales ;\\n\"\n    rls:\n      - { column: region, attribute: region }\n", 1)
	d, problems := dashboard.Parse("x.yaml", []byte(doc))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	ds := d.Datasets[0]
	if ds.SQL != "SELECT * FROM sales" {
		t.Errorf("SQL = %q, want the trailing semicolon trimmed", ds.SQL)
	}
	if ds.RLS[0].Operator != dashboard.OperatorEq {
		t.Errorf("operator = %q, want the default eq", ds.RLS[0].Operator)
	}

	doc = base + `filters:
  - name: period
    type: date_range
    default: { from: 2024-01-01, to: "2024-03-31T12:00:00Z" }
    targets: [{ dataset: sales, column: ts }]
`
	d, problems = dashboard.Parse("x.yaml", []byte(doc))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	got, _ := json.Marshal(d.Filters[0].Default)
	if string(got) != `{"from":"2024-01-01","to":"2024-03-31T12:00:00Z"}` {
		t.Errorf("date_range default as JSON = %s", got)
	}
}

func TestValidateInGo(t *testing.T) {
	d := &dashboard.Dashboard{
		ID: "kpis", Title: "KPIs", File: "built-in",
		Datasets: []dashboard.Dataset{{Name: "s", SQL: "SELECT 1"}},
		Widgets: []dashboard.Widget{{Name: "n", Type: "counter", Dataset: "s",
			Value: &dashboard.Field{Expr: "count(*)"}, Layout: dashboard.Layout{W: 2, H: 2}}},
	}
	if problems := d.Validate(); len(problems) != 0 {
		t.Fatalf("valid dashboard: %v", problems)
	}
	d.Widgets[0].Value = &dashboard.Field{Expr: "amount"}
	d.Widgets[0].Layout.W = 13
	problems := d.Validate()
	if len(problems) != 2 {
		t.Fatalf("got %v, want 2 problems", problems)
	}
	for _, p := range problems {
		if p.File != "built-in" || p.Line != 0 || !strings.HasPrefix(p.Message, `widget "n": `) {
			t.Errorf("problem %+v", p)
		}
	}
}

func TestLoadFS(t *testing.T) {
	fsys := fstest.MapFS{
		"project/dashboards/a.yaml":            {Data: []byte(strings.Replace(base, "    sql: SELECT * FROM sales\n", "    sql_file: queries/sales.sql\n", 1))},
		"project/dashboards/queries/sales.sql": {Data: []byte("-- all sales\nSELECT * FROM sales\n")},
		// b.yml reuses a's id and points at missing and escaping SQL files.
		"project/dashboards/b.yml": {Data: []byte(`id: sales
title: Copy
datasets:
  - name: x
    sql_file: missing.sql
  - name: y
    sql_file: ../secrets.sql
widgets:
  - name: n
    type: counter
    dataset: x
    value: count(*)
    layout: { x: 0, y: 0, w: 3, h: 2 }
`)},
		"project/dashboards/notes.txt":  {Data: []byte("not a dashboard")},
		"project/dashboards/old/c.yaml": {Data: []byte("not: loaded")},
		"project/secrets.sql":           {Data: []byte("SELECT secret")},
	}
	ds, problems := dashboard.LoadFS(fsys, "project/dashboards")
	if len(ds) != 2 {
		t.Fatalf("loaded %d dashboards, want 2", len(ds))
	}
	if ds[0].Datasets[0].SQL != "-- all sales\nSELECT * FROM sales" {
		t.Errorf("sql_file content = %q", ds[0].Datasets[0].SQL)
	}
	got := make([]string, len(problems))
	for i, p := range problems {
		got[i] = p.String()
	}
	expected := []string{
		`project/dashboards/b.yml:1:5: dashboard id "sales" is already used by project/dashboards/a.yaml`,
		`project/dashboards/b.yml:5:15: dataset "x": sql_file "missing.sql" does not exist (paths are relative to the dashboard file)`,
		`project/dashboards/b.yml:7:15: dataset "y": sql_file "../secrets.sql" must be a relative path inside the dashboards folder`,
	}
	if strings.Join(got, "\n") != strings.Join(expected, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(expected, "\n"))
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/sales.yaml", strings.Replace(base, "    sql: SELECT * FROM sales\n", "    sql_file: sales.sql\n", 1))
	writeFile(t, dir+"/sales.sql", "SELECT * FROM sales WHERE department = __aibi_external_value;\n")
	writeFile(t, dir+"/broken.yaml", "id: broken\ntitle: [\n")
	ds, problems := dashboard.LoadDir(dir)
	if len(ds) != 1 || ds[0].Datasets[0].SQL != "SELECT * FROM sales WHERE department = __aibi_external_value" {
		t.Fatalf("dashboards = %+v", ds)
	}
	if len(problems) != 1 || problems[0].File != dir+"/broken.yaml" || problems[0].Line != 2 {
		t.Errorf("problems = %v, want one in broken.yaml on line 2", problems)
	}

	// Parse resolves sql_file next to the file it is given.
	data := strings.Replace(base, "    sql: SELECT * FROM sales\n", "    sql_file: sales.sql\n", 1)
	d, problems := dashboard.Parse(dir+"/other.yaml", []byte(data))
	if len(problems) > 0 || !strings.HasPrefix(d.Datasets[0].SQL, "SELECT * FROM sales WHERE") {
		t.Errorf("Parse with sql_file: %v %q", problems, d.Datasets[0].SQL)
	}

	if _, problems := dashboard.LoadDir(dir + "/nope"); len(problems) != 1 || !strings.Contains(problems[0].String(), "cannot read the dashboards folder") {
		t.Errorf("missing folder: %v", problems)
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
