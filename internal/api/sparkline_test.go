package api_test

import (
	"math"
	"testing"
)

// A counter's sparkline comes with its result: its value by month, through the same filters and
// row-level security as the counter (alice's rows are the Sales department's only).
func TestCounterSparkline(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, who := range []struct{ viewer, dept string }{{"alice@example.com", "Sales"}, {"bob@example.com", "Engineering"}} {
		tok := e.embedToken("overview", who.viewer, who.dept, nil)
		r := e.query(tok, "overview", `{"widgets":["revenue","orders"],"filters":{"region":["East","West"]}}`)
		revenue := widgetValue(t, r, "revenue")
		results := r.json(t)["results"].(map[string]any)
		if _, has := results["orders"].(map[string]any)["sparkline"]; has {
			t.Errorf("orders has no sparkline in the dashboard, got one")
		}
		sp, ok := results["revenue"].(map[string]any)["sparkline"].(map[string]any)
		if !ok {
			t.Fatalf("%s: revenue has no sparkline: %s", who.viewer, r.body)
		}
		rows := sp["rows"].([]any)
		const where = "FROM sales WHERE department = ? AND region IN ('East', 'West')"
		months := e.scalar("SELECT count(DISTINCT date_trunc('month', ts)) "+where, who.dept)
		if float64(len(rows)) != months || months < 2 {
			t.Errorf("%s: %d sparkline points, want %v months", who.viewer, len(rows), months)
		}
		sum, prev := 0.0, ""
		for _, row := range rows {
			cells := row.([]any)
			if ts := cells[0].(string); ts <= prev {
				t.Errorf("%s: sparkline not in month order: %q after %q", who.viewer, ts, prev)
			} else {
				prev = ts
			}
			sum += number(t, cells[1])
		}
		if math.Abs(sum-revenue) > 0.01*math.Max(1, math.Abs(revenue)) || revenue != e.scalar("SELECT sum(amount) "+where, who.dept) {
			t.Errorf("%s: sparkline sums to %v, revenue %v", who.viewer, sum, revenue)
		}
	}
}
