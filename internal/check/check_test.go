package check

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/duckdb"
	"github.com/inlay/inlay/internal/datasource/postgres"
)

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

const salesYAML = `id: sales
title: Sales
datasets:
  - name: orders
    sql: |
      SELECT *
      FROM orderz
  - name: good
    sql: SELECT * FROM orders
  - name: far
    source: warehouse
    sql: SELECT 1 AS x
  - name: mine
    sql: SELECT * FROM orders
    rls:
      - {column: tenant, attribute: tenant}
filters:
  - name: c
    type: multi_select
    targets: [{dataset: good, column: contry}]
widgets:
  - name: total
    type: counter
    dataset: good
    value: sum(product)
    layout: {x: 0, y: 0, w: 3, h: 2}
  - name: by_country
    type: bar
    dataset: good
    x: contry
    y: [sum(amount)]
    layout: {x: 3, y: 0, w: 6, h: 4}
  - name: fine
    type: bar
    dataset: good
    x: country
    y: [sum(amount)]
    layout: {x: 3, y: 4, w: 6, h: 4}
`

// project writes a project whose inlay.yaml has an unknown key and whose dashboards have one
// problem of every kind the checks find, plus a dashboard with a YAML syntax error.
func project(t *testing.T) string {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "inlay.yaml"), `listen: 127.0.0.1:8470
bogus_key: 1
data_sources:
  default:
    type: duckdb
    path: ":memory:"
    init_sql:
      - CREATE TABLE orders AS SELECT * FROM (VALUES ('FR', 'a', 10), ('DE', 'b', 20)) AS t(country, product, amount)
`)
	write(t, filepath.Join(dir, "dashboards", "sales.yaml"), salesYAML)
	write(t, filepath.Join(dir, "dashboards", "syntax.yaml"), "id: syntax\ntitle: Broken\nwidgets:\n  - name: a\n    type: [counter\n")
	return dir
}

func render(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "%s [%s]\n", p.String(), p.Code)
	}
	return b.String()
}

func contains(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// TestStaticReportsConfigAndDashboardsTogether: an unknown key in inlay.yaml does not hide the
// dashboards' problems, and each is at its line.
func TestStaticReportsConfigAndDashboardsTogether(t *testing.T) {
	dir := project(t)
	proj, problems := Static(dir, func(string) string { return "" })
	Sort(problems)
	out := render(problems)
	contains(t, out,
		"inlay.yaml:2:1: bogus_key: unknown key (expected one of",
		`sales.yaml:11:13: dataset "far" uses data source "warehouse", which inlay.yaml does not define (it defines default) [unknown_data_source]`,
		"syntax.yaml:5:", "[dashboard]",
	)
	if len(proj.Dashboards) != 1 || proj.Dashboards[0].ID != "sales" {
		t.Errorf("dashboards read: %d", len(proj.Dashboards))
	}
}

// TestDataOnDuckDB: with the data, unknown tables, unknown columns and sums over text are found
// at the line that names them, in plain words, the engine's message kept as detail.
func TestDataOnDuckDB(t *testing.T) {
	dir := project(t)
	proj, _ := Static(dir, func(string) string { return "" })
	dc := proj.Config.DataSources["default"]
	src, err := duckdb.Open(t.Context(), duckdb.Config{Path: dc.Path, InitSQL: dc.InitSQL})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	v := SampleViewer(proj.Dashboards, "check", nil)
	problems := Data(t.Context(), proj.Dashboards, map[string]datasource.Source{"default": src}, v)
	Sort(problems)
	out := render(problems)
	contains(t, out,
		// The unknown table, on the line of the block that names it.
		`sales.yaml:7: dataset "orders": table "orderz" does not exist`, "Table with name orderz does not exist", "[unknown_table]",
		`sales.yaml:16:18: dataset "mine": the rls rule's column "tenant" is not in the dataset's rows`,
		`sales.yaml:20:39: filter "c": dataset "good" has no column "contry" (did you mean "country"?) [unknown_column]`,
		`sales.yaml:25:12: widget "total": sum(product) needs numbers, but column "product" holds text values [type_mismatch]`,
		`sales.yaml:30:8: widget "by_country": dataset "good" has no column "contry" (did you mean "country"?) [unknown_column]`,
	)
	if strings.Contains(out, `"fine"`) || strings.Contains(out, `"far"`) {
		t.Errorf("a correct widget, or a dataset on an unopened source, was reported:\n%s", out)
	}
	if len(problems) != 5 {
		t.Errorf("%d problems, want 5:\n%s", len(problems), out)
	}
}

// TestDataCleanProject: a correct project gives no problems, and nothing was read: LIMIT 0.
func TestDataCleanProject(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "inlay.yaml"), "data_sources:\n  default: {type: duckdb}\n")
	write(t, filepath.Join(dir, "dashboards", "ok.yaml"), `id: ok
title: OK
datasets:
  - name: d
    sql: SELECT * FROM range(10) AS t(n) WHERE n::VARCHAR <> __aibi_external_value
filters:
  - {name: n, type: numeric_range, targets: [{dataset: d, column: n}]}
widgets:
  - {name: total, type: counter, dataset: d, value: sum(n), layout: {x: 0, y: 0, w: 3, h: 2}}
`)
	proj, problems := Static(dir, func(string) string { return "" })
	if len(problems) > 0 {
		t.Fatal(render(problems))
	}
	src, err := duckdb.Open(t.Context(), duckdb.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if ps := Data(t.Context(), proj.Dashboards, map[string]datasource.Source{"default": src}, SampleViewer(proj.Dashboards, "x", nil)); len(ps) > 0 {
		t.Fatal(render(ps))
	}
}

// TestDataOnPostgres runs the data checks against PostgreSQL's messages.
func TestDataOnPostgres(t *testing.T) {
	dsn := os.Getenv("INLAY_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("set INLAY_TEST_POSTGRES_DSN (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the PostgreSQL checks")
	}
	src, err := postgres.Open(t.Context(), postgres.Config{DSN: dsn, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var b [4]byte
	_, _ = rand.Read(b[:])
	table := "check_orders_" + hex.EncodeToString(b[:])
	if err := src.Exec(t.Context(), "CREATE TABLE "+table+" AS SELECT * FROM (VALUES ('FR', 'a', 10), ('DE', 'b', 20)) AS t(country, product, amount)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Exec(context.Background(), "DROP TABLE "+table) })
	dir := t.TempDir()
	write(t, filepath.Join(dir, "inlay.yaml"), "data_sources:\n  default: {type: postgres, dsn: {env: PG}}\n")
	write(t, filepath.Join(dir, "dashboards", "sales.yaml"), strings.NewReplacer("orderz", table+"_nope", "FROM orders", "FROM "+table).Replace(salesYAML))
	proj, _ := Static(dir, func(k string) string {
		if k == "PG" {
			return dsn
		}
		return ""
	})
	problems := Data(t.Context(), proj.Dashboards, map[string]datasource.Source{"default": src}, SampleViewer(proj.Dashboards, "check", nil))
	Sort(problems)
	out := render(problems)
	contains(t, out,
		`sales.yaml:7: dataset "orders": table "`+table+`_nope" does not exist`, "[unknown_table]",
		`sales.yaml:16:18: dataset "mine": the rls rule's column "tenant" is not in the dataset's rows`,
		`sales.yaml:25:12: widget "total": sum(product) needs numbers`,
		`sales.yaml:30:8: widget "by_country": dataset "good" has no column "contry" (did you mean "country"?)`,
	)
}

// TestYAMLSyntaxErrorsOnTheirLine: yaml.v3 gives parser errors a 0-based line; check reports the
// line the mistake is on, in inlay.yaml and in a dashboard, both at once.
func TestYAMLSyntaxErrorsOnTheirLine(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "inlay.yaml"), "listen: 127.0.0.1:8470\nembed:\n  allowed_origins: [https://a.example.com\nquery:\n  timeout: 30s\n")
	write(t, filepath.Join(dir, "dashboards", "x.yaml"), "id: x\ntitle: X\nwidgets:\n  - name: a\n    type: [counter\n    dataset: d\n  - name: b\n")
	_, problems := Static(dir, func(string) string { return "" })
	Sort(problems)
	out := render(problems)
	contains(t, out, "inlay.yaml:3: ", "x.yaml:5: YAML: did not find expected ',' or ']'")
}

// TestDataSQLFile: an unknown table in a sql_file is reported in that file, on its line.
func TestDataSQLFile(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "inlay.yaml"), "data_sources:\n  default: {type: duckdb}\n")
	write(t, filepath.Join(dir, "dashboards", "orders.sql"), "-- the orders\nSELECT *\nFROM ordrs\nWHERE true\n")
	write(t, filepath.Join(dir, "dashboards", "d.yaml"), `id: d
title: D
datasets:
  - {name: o, sql_file: orders.sql}
widgets:
  - {name: n, type: counter, dataset: o, value: count(*), layout: {x: 0, y: 0, w: 3, h: 2}}
`)
	proj, problems := Static(dir, func(string) string { return "" })
	if len(problems) > 0 {
		t.Fatal(render(problems))
	}
	src, err := duckdb.Open(t.Context(), duckdb.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out := render(Data(t.Context(), proj.Dashboards, map[string]datasource.Source{"default": src}, SampleViewer(proj.Dashboards, "x", nil)))
	contains(t, out, filepath.Join(dir, "dashboards", "orders.sql")+`:3:6: dataset "o": table "ordrs" does not exist`)
}
