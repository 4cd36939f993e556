package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/api"
	"github.com/inlay/inlay/internal/dashboard"
)

// multiSelectBody is a query request whose "region" filter carries n short values (the probe
// that found this sent 205,000 values in under 1 MiB).
func multiSelectBody(n int) string {
	var b strings.Builder
	b.WriteString(`{"widgets":["revenue"],"filters":{"region":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%x"`, i%256)
	}
	b.WriteString(`]}}`)
	return b.String()
}

func TestQueryBoundsFilterValues(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.embedToken(salesDash, "alice@example.com", "Sales", nil)

	body := multiSelectBody(205_000)
	if len(body) >= 1<<20 {
		t.Fatalf("probe body is %d bytes; it must fit the 1 MiB body limit to test the value bound", len(body))
	}
	r := e.query(tok, salesDash, body)
	if r.status != http.StatusBadRequest || r.errorCode(t) != "too_many_filter_values" {
		t.Fatalf("205,000 values: %d %s, want 400 too_many_filter_values", r.status, r.body)
	}
	details := r.json(t)["error"].(map[string]any)["details"].(map[string]any)
	if details["filter"] != "region" || details["max"] != float64(api.DefaultMaxFilterValues) {
		t.Errorf("details %v, want the filter and the bound", details)
	}

	// Exactly the bound is fine.
	r = e.query(tok, salesDash, multiSelectBody(api.DefaultMaxFilterValues))
	if r.status != http.StatusOK {
		t.Fatalf("%d values: %d %s", api.DefaultMaxFilterValues, r.status, r.body)
	}
	// Exports are bounded the same way.
	r = e.do("POST", "/api/v1/embed/dashboards/"+salesDash+"/widgets/revenue/export",
		map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"},
		strings.NewReader(`{"filters":{"region":[`+strings.Repeat(`"x",`, api.DefaultMaxFilterValues)+`"x"]}}`))
	if r.status != http.StatusBadRequest || r.errorCode(t) != "too_many_filter_values" {
		t.Fatalf("export with too many values: %d %s", r.status, r.body)
	}
}

func TestQueryBoundsConfigurable(t *testing.T) {
	e := newEnv(t, envOptions{apiOptions: func(o *api.Options) { o.MaxFilterValues = 3; o.MaxBodyBytes = 4096 }})
	tok := e.embedToken(salesDash, "alice@example.com", "Sales", nil)
	if r := e.query(tok, salesDash, multiSelectBody(3)); r.status != http.StatusOK {
		t.Fatalf("3 values: %d %s", r.status, r.body)
	}
	if r := e.query(tok, salesDash, multiSelectBody(4)); r.status != http.StatusBadRequest || r.errorCode(t) != "too_many_filter_values" {
		t.Fatalf("4 values: %d %s", r.status, r.body)
	}
	// The body bound is the configured one.
	big := `{"filters":{"product":"` + strings.Repeat("x", 5000) + `"}}`
	if r := e.query(tok, salesDash, big); r.status != http.StatusRequestEntityTooLarge || r.errorCode(t) != "body_too_large" {
		t.Fatalf("5 kB body: %d %s", r.status, r.body)
	}
}

// The request deadline covers the whole request, not only each query in the engine: with a
// generous per-query timeout, a widget whose query outlasts the request deadline reports
// query_timeout.
func TestQueryRequestDeadline(t *testing.T) {
	e := newEnv(t, envOptions{
		queryTimeout: 10 * time.Minute,
		apiOptions:   func(o *api.Options) { o.RequestTimeout = 300 * time.Millisecond },
		editDashboards: func(ds []*dashboard.Dashboard) {
			for _, d := range ds {
				if d.ID == salesDash {
					// Seconds of work per query on any machine.
					d.Datasets[0].SQL = `SELECT * FROM sales WHERE department = __aibi_external_value
						AND (SELECT sum(hash(r)) FROM range(3000000000) t(r)) IS NOT NULL`
				}
			}
		},
	})
	tok := e.embedToken(salesDash, "alice@example.com", "Sales", nil)
	r := e.query(tok, salesDash, `{"widgets":["revenue"]}`)
	if r.status != http.StatusOK {
		t.Fatalf("query: %d %s", r.status, r.body)
	}
	var out struct {
		Results map[string]struct {
			Error *struct{ Code string } `json:"error"`
		} `json:"results"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	res, ok := out.Results["revenue"]
	if !ok || res.Error == nil || res.Error.Code != "query_timeout" {
		t.Fatalf("revenue: %s, want query_timeout", r.body)
	}
}
