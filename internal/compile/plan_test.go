package compile

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/duckdb"
)

var errNoSource = errors.New("no such source")

func duckOnly(source string) (datasource.Dialect, error) {
	if source == "default" {
		return duckdb.Dialect{}, nil
	}
	return nil, errNoSource
}

// TestPlanResolvesOnceAndFailsPerWidget: a dataset on a source the server lacks breaks only the
// widgets and filters reading it, with a problem at its path; everything else binds.
func TestPlanResolvesOnceAndFailsPerWidget(t *testing.T) {
	p := NewPlan(testDashboard(), duckOnly) // "by_region" names source "warehouse"
	if got := p.Problems(); len(got) != 1 || got[0].Path != "datasets.1" || !errors.Is(got[0].Err, errNoSource) {
		t.Fatalf("problems = %+v, want the warehouse dataset's", got)
	}
	w, err := p.Widget("region_count")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Bind(testViewer(), nil, 10); !errors.Is(err, errNoSource) {
		t.Errorf("widget on the missing source: %v", err)
	}
	w, _ = p.Widget("revenue")
	if !w.Counter() || w.Dataset != "dept" || w.Source != "default" {
		t.Errorf("revenue resolved as %+v", w)
	}
	if q, err := w.Bind(testViewer(), nil, 10); err != nil || len(q.Args) != 1 || q.Args[0] != "Sales" {
		t.Errorf("revenue bound to %+v, %v", q, err)
	}
	if _, err := p.Widget("nope"); !errors.Is(err, ErrUnknownWidget) {
		t.Errorf("unknown widget: %v", err)
	}
	if _, err := p.ParseFilters(map[string]json.RawMessage{"nope": json.RawMessage(`"x"`)}); !errors.Is(err, ErrUnknownFilter) {
		t.Errorf("unknown filter: %v", err)
	}
	if !p.UsesExternalValue() {
		t.Error("the dept dataset names __aibi_external_value")
	}
	d := testDashboard()
	d.Datasets = d.Datasets[1:] // without dept
	d.Widgets, d.Filters = nil, nil
	if NewPlan(d, duckOnly).UsesExternalValue() {
		t.Error("no dataset names __aibi_external_value")
	}
}

// TestPlanIsNotChangedByBinding: binding many viewers leaves the plan's SQL as compiled (the
// plan is shared by concurrent requests).
func TestPlanIsNotChangedByBinding(t *testing.T) {
	p := NewPlan(testDashboard(), duckOnly)
	w, _ := p.Widget("by_month")
	first, err := w.Bind(testViewer(), nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	other := testViewer()
	other.ExternalValue = str("Eng")
	for range 3 {
		if _, err := w.Bind(other, FilterValues{"region": {Values: []string{"A", "B", "C"}}}, 5); err != nil {
			t.Fatal(err)
		}
	}
	again, _ := w.Bind(testViewer(), nil, 100)
	if again.SQL != first.SQL || len(again.Args) != len(first.Args) {
		t.Errorf("binding changed the plan:\n%s\n%s", first.SQL, again.SQL)
	}
}
