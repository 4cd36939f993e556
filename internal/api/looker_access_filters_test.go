package api_test

import (
	"net/http"
	"testing"
)

// TestLookerAccessFiltersAloneDecideRows: two users whose definitions differ only in
// access_filters see different rows, on both sample dashboards: on sales (whose rule is the
// external value) an access filter on the sales model sets external_value over the user
// attribute; on operations (structured rules) the regions filter decides. A multi-valued
// external_value filter gives no external value: the query fails closed.
func TestLookerAccessFiltersAloneDecideRows(t *testing.T) {
	l := newLookerEnv(t, envOptions{})
	query := func(c *http.Cookie, dash, widget string) response {
		return l.send("POST", "/api/v1/embed/dashboards/"+dash+"/query", cookieHeader(c), `{"widgets":["`+widget+`"]}`)
	}
	user := func(id string, filters obj) signUser {
		u := alice()
		u.ExternalUserID, u.AccessFilters = id, filters
		return u
	}
	sales := func(ev any) obj { return obj{{"sales", obj{{"external_value", ev}}}} }

	// sales: same user_attributes (external_value Sales); the access filter differs.
	plain := l.login(user("pat", nil), salesTarget, false)
	filtered := l.login(user("quinn", sales("Engineering")), salesTarget, false)
	wantSales := l.scalar("SELECT sum(amount) FROM sales WHERE department = 'Sales'")
	wantEng := l.scalar("SELECT sum(amount) FROM sales WHERE department = 'Engineering'")
	if wantSales == wantEng {
		t.Fatal("sample data does not tell the departments apart")
	}
	if got := widgetValue(t, query(plain, "sales", "revenue"), "revenue"); got != wantSales {
		t.Fatalf("pat (no access filter) sees revenue %v, want %v (Sales)", got, wantSales)
	}
	if got := widgetValue(t, query(filtered, "sales", "revenue"), "revenue"); got != wantEng {
		t.Fatalf("quinn (access_filters sales.external_value Engineering) sees revenue %v, want %v", got, wantEng)
	}
	// An access filter of another model does not apply to sales.
	other := l.login(user("rae", obj{{"operations", obj{{"external_value", "Engineering"}, {"department", "Sales"}, {"regions", []any{"East"}}}}}), salesTarget, false)
	if got := widgetValue(t, query(other, "sales", "revenue"), "revenue"); got != wantSales {
		t.Fatalf("rae (operations filter only) sees sales revenue %v, want %v", got, wantSales)
	}
	// Two values cannot be one external value: no rows, an error.
	both := l.login(user("sid", sales([]any{"Sales", "Engineering"})), salesTarget, false)
	r := query(both, "sales", "revenue")
	res := r.json(t)["results"].(map[string]any)["revenue"].(map[string]any)
	if e, _ := res["error"].(map[string]any); e == nil || e["code"] != "rls_value_missing" || len(res["rows"].([]any)) > 0 {
		t.Fatalf("a two-valued external_value filter: %s; want an error and no rows", r.body)
	}

	// operations: only the regions access filter differs.
	ops := "/embed/dashboards/operations?embed_domain=" + hostOrigin + "&sdk=3"
	east := l.login(user("tess", obj{{"operations", obj{{"department", "Sales"}, {"regions", []any{"East"}}}}}), ops, false)
	west := l.login(user("uri", obj{{"operations", obj{{"department", "Sales"}, {"regions", []any{"West"}}}}}), ops, false)
	wantEast := l.scalar("SELECT count(*) FROM sales WHERE department = 'Sales' AND region = 'East'")
	wantWest := l.scalar("SELECT count(*) FROM sales WHERE department = 'Sales' AND region = 'West'")
	if wantEast == wantWest {
		t.Fatal("sample data does not tell the regions apart")
	}
	if got := widgetValue(t, query(east, "operations", "order_count"), "order_count"); got != wantEast {
		t.Fatalf("tess (East) sees %v orders, want %v", got, wantEast)
	}
	if got := widgetValue(t, query(west, "operations", "order_count"), "order_count"); got != wantWest {
		t.Fatalf("uri (West) sees %v orders, want %v", got, wantWest)
	}
}
