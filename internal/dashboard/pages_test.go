package dashboard_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/inlay/inlay/internal/dashboard"
)

const paged = `id: sales
title: Sales
datasets:
  - name: sales
    sql: SELECT * FROM sales
pages:
  - { name: overview, title: Overview }
  - { name: details, title: Details }
widgets:
  - name: revenue
    type: counter
    dataset: sales
    value: sum(amount)
    page: overview
    layout: { x: 0, y: 0, w: 3, h: 2 }
  - name: orders
    type: counter
    dataset: sales
    value: count(*)
    page: details
    layout: { x: 0, y: 0, w: 3, h: 2 }
`

func TestPagesValid(t *testing.T) {
	d, problems := dashboard.Parse("dashboards/sales.yaml", []byte(paged))
	for _, p := range problems {
		t.Error(p) // the two widgets share a place, each on its own page
	}
	if d == nil || len(d.Pages) != 2 || d.Widgets[1].Page != "details" {
		t.Fatalf("parsed %+v", d)
	}
	b, _ := json.Marshal(d)
	for _, want := range []string{`"pages":[{"name":"overview","title":"Overview"}`, `"page":"details"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("dashboard JSON lacks %s: %s", want, b)
		}
	}
}

func TestPagesProblems(t *testing.T) {
	for _, c := range []struct{ name, doc string }{
		{"unknown page, missing page, duplicate page, overlap on one page", `id: sales
title: Sales
datasets:
  - name: sales
    sql: SELECT * FROM sales
pages:
  - { name: overview, title: Overview }
  - { name: overview, title: Again } # want: another page is already named "overview"
  - { name: bad-name } # want: page "bad-name": name "bad-name" must be an identifier
  - { name: details, titel: Details } # want: unknown field "titel"
widgets:
  - name: revenue
    type: counter
    dataset: sales
    value: sum(amount)
    page: overveiw # want: widget "revenue": no page is named "overveiw"
    layout: { x: 0, y: 0, w: 3, h: 2 }
  - name: orders # want: widget "orders": page is required
    type: counter
    dataset: sales
    value: count(*)
    layout: { x: 4, y: 0, w: 3, h: 2 }
  - name: customers
    type: counter
    dataset: sales
    value: count(distinct customer)
    page: overview
    layout: { x: 0, y: 0, w: 3, h: 2 }
  - name: average
    type: counter
    dataset: sales
    value: avg(amount)
    page: overview
    layout: { x: 1, y: 0, w: 3, h: 2 } # want: layout overlaps widget "customers"
`},
		{"page without pages", `id: sales
title: Sales
datasets:
  - name: sales
    sql: SELECT * FROM sales
widgets:
  - name: revenue
    type: counter
    dataset: sales
    value: sum(amount)
    page: overview # want: the dashboard declares no pages
    layout: { x: 0, y: 0, w: 3, h: 2 }
`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, problems := dashboard.Parse("dashboards/sales.yaml", []byte(c.doc))
			checkProblems(t, problems, wants(t, c.doc))
		})
	}
}

func TestSparklineProblems(t *testing.T) {
	doc := `id: sales
title: Sales
datasets:
  - name: sales
    sql: SELECT * FROM sales
widgets:
  - name: revenue
    type: counter
    dataset: sales
    value: sum(amount)
    sparkline: { x: month(ts) }
    layout: { x: 0, y: 0, w: 3, h: 2 }
  - name: orders
    type: counter
    dataset: sales
    value: count(*)
    sparkline: { x: sum(amount) } # want: sparkline.x: "sum(amount)" must be a column or a time bucket
    layout: { x: 3, y: 0, w: 3, h: 2 }
  - name: customers
    type: counter
    dataset: sales
    value: count(distinct customer)
    sparkline: { y: month(ts) } # want: sparkline: x is required && unknown field "y"
    layout: { x: 6, y: 0, w: 3, h: 2 }
  - name: by_region
    type: bar
    dataset: sales
    x: region
    y: [sum(amount)]
    sparkline: { x: month(ts) } # want: sparkline applies only to counter widgets
    layout: { x: 0, y: 2, w: 6, h: 3 }
`
	d, problems := dashboard.Parse("dashboards/sales.yaml", []byte(doc))
	checkProblems(t, problems, wants(t, doc))
	if w, _ := d.Widget("revenue"); w.SparklineWidget() == nil || w.Sparkline.X.Key != "month_ts" {
		t.Errorf("revenue sparkline = %+v", w.Sparkline)
	}
}
