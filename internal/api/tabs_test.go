package api_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// The overview sample dashboard has pages and text tiles: the definition carries the pages, each
// widget's page and the text tiles' sanitized HTML (never their Markdown); a query for a tab
// runs only that page's queried widgets.
func TestPagesAndTextTilesThroughTheEmbedAPI(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.embedToken("overview", "alice@example.com", "Sales", nil)
	r := e.do("GET", "/api/v1/embed/dashboards/overview", map[string]string{"Authorization": "Bearer " + tok}, nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var got struct {
		Dashboard struct {
			Pages   []struct{ Name, Title string } `json:"pages"`
			Widgets []struct {
				Name, Type, Page, HTML string
			} `json:"widgets"`
		} `json:"dashboard"`
	}
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Dashboard.Pages) != 3 || got.Dashboard.Pages[0].Name != "summary" || got.Dashboard.Pages[0].Title != "Summary" {
		t.Errorf("pages = %+v", got.Dashboard.Pages)
	}
	for _, w := range got.Dashboard.Widgets {
		if w.Page == "" {
			t.Errorf("widget %s has no page", w.Name)
		}
		if w.Name == "about" && (!strings.Contains(w.HTML, "<h3>How to read it</h3>") || strings.Contains(w.HTML, "###")) {
			t.Errorf("about html = %q", w.HTML)
		}
	}
	if strings.Contains(string(r.body), `"content"`) {
		t.Errorf("the definition carries the Markdown source: %s", r.body)
	}

	ran := func(body string) []string {
		t.Helper()
		res := e.query(tok, "overview", body)
		if res.status != 200 {
			t.Fatalf("%s: %d %s", body, res.status, res.body)
		}
		var out struct {
			Results map[string]json.RawMessage `json:"results"`
		}
		if err := json.Unmarshal(res.body, &out); err != nil {
			t.Fatal(err)
		}
		var names []string
		for n := range out.Results {
			names = append(names, n)
		}
		slices.Sort(names)
		return names
	}
	for _, c := range []struct {
		body string
		want []string
	}{
		{`{"tab":"trends"}`, []string{"by_month"}},
		{`{"tab":""}`, []string{"average_order", "orders", "revenue"}},                      // the first page
		{`{"tab":"nope"}`, []string{"average_order", "orders", "revenue"}},                  // unknown: the first page
		{`{"tab":"trends","widgets":["revenue"]}`, []string{"revenue"}},                     // named widgets win
		{`{}`, []string{"average_order", "by_month", "orders", "revenue", "top_customers"}}, // no tab: every queried widget
	} {
		if got := ran(c.body); !slices.Equal(got, c.want) {
			t.Errorf("%s ran %v, want %v", c.body, got, c.want)
		}
	}
	res := e.query(tok, "overview", `{"widgets":["about"]}`)
	if res.status != 400 || res.errorCode(t) != "unknown_widget" {
		t.Errorf("querying a text tile: %d %s", res.status, res.body)
	}
}
