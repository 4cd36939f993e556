package query

import (
	"sync"
	"testing"

	"github.com/inlay/inlay/internal/dashboard"
)

// TestPublishKeepsInFlightRequestsOnTheirPlan swaps in a new catalog while a query of the old one
// runs: the running request answers from the plan it started with, the next one from the new.
func TestPublishKeepsInFlightRequestsOnTheirPlan(t *testing.T) {
	e := newEngine(t, Options{})
	v1 := testDashboard()
	// Slow enough to still be running when the new catalog is published, but finite.
	v1.Datasets[1].SQL = "SELECT a.range * 0 + 1 AS x FROM range(20000) a CROSS JOIN range(20000) b"
	old, problems, err := e.Compile([]*dashboard.Dashboard{v1})
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	e.Publish(old)

	// The request takes the plan once, at its start, as the API does.
	p, _ := e.Catalog().Plan("sales")
	var wg sync.WaitGroup
	var inFlight WidgetResult
	wg.Go(func() {
		res, err := e.Run(t.Context(), p, viewer("Sales"), []string{"slow"}, nil)
		if err != nil {
			t.Error(err)
		}
		inFlight = res["slow"]
	})
	waitFor(t, "the request to be running", func() bool { return e.Stats().InFlight == 1 })

	v2 := testDashboard()
	v2.Datasets[1].SQL = "SELECT 7 AS x"
	next, _, err := e.Compile([]*dashboard.Dashboard{v2})
	if err != nil {
		t.Fatal(err)
	}
	e.Publish(next)
	wg.Wait()

	if got := total(t, inFlight); got != "400000000" {
		t.Errorf("in-flight request got %s, want 400000000 (the plan it started with)", got)
	}
	p2, _ := e.Catalog().Plan("sales")
	if p2 == p {
		t.Fatal("the catalog still holds the old plan")
	}
	res, err := e.Run(t.Context(), p2, viewer("Sales"), []string{"slow"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := total(t, res["slow"]); got != "7" {
		t.Errorf("request after the swap got %s, want 7 (the new plan)", got)
	}
}

// TestCompileRefusesDuplicateIDs: two dashboards with one id give no catalog.
func TestCompileRefusesDuplicateIDs(t *testing.T) {
	e := newEngine(t, Options{})
	if _, _, err := e.Compile([]*dashboard.Dashboard{testDashboard(), testDashboard()}); err == nil {
		t.Fatal("compiled two dashboards with one id")
	}
}

// TestCompileReportsPlanProblems: a widget whose definition cannot compile is reported with its
// path, and fails alone per request; the others run.
func TestCompileReportsPlanProblems(t *testing.T) {
	e := newEngine(t, Options{})
	d := testDashboard()
	d.Widgets = append(d.Widgets, dashboard.Widget{Name: "bad", Type: dashboard.WidgetCounter, Dataset: "dept", Value: &dashboard.Field{Expr: "region"}})
	c, problems, err := e.Compile([]*dashboard.Dashboard{d})
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || problems[0].Path != "widgets.4" {
		t.Fatalf("problems = %+v, want one at widgets.4", problems)
	}
	p, _ := c.Plan("sales")
	res, err := e.Run(t.Context(), p, viewer("Sales"), []string{"total", "bad"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if total(t, res["total"]) != "60" || res["bad"].Err == nil {
		t.Errorf("total %+v, bad %+v", res["total"], res["bad"])
	}
}
