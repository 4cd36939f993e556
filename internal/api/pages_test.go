package api_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/inlay/inlay/internal/compile"
	"github.com/inlay/inlay/internal/dashboard"
)

// Tables are served a page at a time through the query path, with the count of all their rows:
// pages walk exactly the rows the widget shows (its limit applies), in its order or a column's.
func TestTablePages(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.embedToken(salesDash, "alice@example.com", "Sales", nil)
	result := func(body, widget string) map[string]any {
		t.Helper()
		r := e.query(tok, salesDash, body)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", body, r.status, r.body)
		}
		return r.json(t)["results"].(map[string]any)[widget].(map[string]any)
	}
	rowsOf := func(res map[string]any) []any {
		t.Helper()
		if res["error"] != nil {
			t.Fatalf("error: %v", res["error"])
		}
		return res["rows"].([]any)
	}

	all := rowsOf(result(`{"widgets":["top_customers"]}`, "top_customers"))
	if len(all) != 10 {
		t.Fatalf("unpaged top_customers: %d rows, want its limit 10", len(all))
	}

	// page_size pages every table; other widgets run as before.
	first := result(`{"page_size":3}`, "top_customers")
	if got := first["total_rows"]; got != float64(10) {
		t.Errorf("total_rows = %v, want 10", got)
	}
	if got := first["offset"]; got != float64(0) {
		t.Errorf("offset = %v, want 0", got)
	}
	if got := rowsOf(first); !reflect.DeepEqual(got, all[:3]) {
		t.Errorf("first page = %v, want %v", got, all[:3])
	}
	if v := widgetValue(t, e.query(tok, salesDash, `{"page_size":3}`), "revenue"); v <= 0 {
		t.Errorf("revenue next to a paged table = %v", v)
	}

	// A later page, then the last (short) one.
	if got := rowsOf(result(`{"widgets":["top_customers"],"pages":{"top_customers":{"offset":3,"limit":3}}}`, "top_customers")); !reflect.DeepEqual(got, all[3:6]) {
		t.Errorf("second page = %v, want %v", got, all[3:6])
	}
	if got := rowsOf(result(`{"widgets":["top_customers"],"pages":{"top_customers":{"offset":9,"limit":3}}}`, "top_customers")); !reflect.DeepEqual(got, all[9:]) {
		t.Errorf("last page = %v, want %v", got, all[9:])
	}

	// Sorted by a column on the server: the whole (limited) set is ordered, not just the page.
	cols := first["columns"].([]any)
	ordersKey := cols[1].(map[string]any)["name"].(string)
	sorted := rowsOf(result(fmt.Sprintf(`{"widgets":["top_customers"],"pages":{"top_customers":{"offset":0,"limit":10,"sort":%q,"desc":false}}}`, ordersKey), "top_customers"))
	for i := 1; i < len(sorted); i++ {
		a, b := number(t, jsonNumber(sorted[i-1].([]any)[1])), number(t, jsonNumber(sorted[i].([]any)[1]))
		if a > b {
			t.Fatalf("rows not ascending by %s at %d: %v > %v", ordersKey, i, a, b)
		}
	}
	if len(sorted) != 10 {
		t.Errorf("sorted: %d rows, want 10", len(sorted))
	}

	// Bad requests: a clear code, per widget or for the request.
	bad := result(`{"widgets":["top_customers"],"pages":{"top_customers":{"offset":0,"limit":3,"sort":"x; DROP TABLE sales"}}}`, "top_customers")
	if code := bad["error"].(map[string]any)["code"]; code != "invalid_page" {
		t.Errorf("unknown sort column: %v", code)
	}
	notTable := result(`{"widgets":["revenue"],"pages":{"revenue":{"offset":0,"limit":3}}}`, "revenue")
	if code := notTable["error"].(map[string]any)["code"]; code != "invalid_page" {
		t.Errorf("page of a counter: %v", code)
	}
	for _, body := range []string{`{"page_size":100000}`, `{"widgets":["revenue"],"pages":{"top_customers":{"limit":3}}}`} {
		r := e.query(tok, salesDash, body)
		if r.status != http.StatusBadRequest || r.errorCode(t) != "invalid_page" {
			t.Errorf("%s: %d %s", body, r.status, r.body)
		}
	}
}

// Exports use the labels the viewer shows and spreadsheet-readable times, not internal keys
// and RFC 3339 strings.
func TestExportLabels(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.embedToken(salesDash, "alice@example.com", "Sales", nil)
	export := func(widget string) [][]string {
		t.Helper()
		r := e.do("POST", "/api/v1/embed/dashboards/sales/widgets/"+widget+"/export",
			map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}, strings.NewReader(`{"filters":{}}`))
		if r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		records, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
		if err != nil || len(records) < 2 {
			t.Fatalf("%s export: %v, %d records", widget, err, len(records))
		}
		return records
	}
	if got, want := export("top_customers")[0], []string{"Customer", "Orders", "Revenue", "Largest order"}; !reflect.DeepEqual(got, want) {
		t.Errorf("header = %q, want %q", got, want)
	}
	if cell := export("by_month")[1][0]; strings.Contains(cell, "T") || strings.HasSuffix(cell, "Z") {
		t.Errorf("a month bucket exports as %q, want a plain date", cell)
	}
}

// XLSX exports carry the viewer's labels, numbers as numbers with the widget's formats, and a
// frozen header row.
func TestExportXLSX(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.embedToken(salesDash, "alice@example.com", "Sales", nil)
	r := e.do("POST", "/api/v1/embed/dashboards/sales/widgets/top_customers/export?format=xlsx",
		map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}, strings.NewReader(`{"filters":{}}`))
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("content type %q", ct)
	}
	if cd := r.header.Get("Content-Disposition"); !strings.Contains(cd, "sales-top_customers.xlsx") {
		t.Errorf("disposition %q", cd)
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheet := f.GetSheetName(0)
	if sheet != "Top customers" {
		t.Errorf("sheet %q, want the widget's title", sheet)
	}
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Customer", "Orders", "Revenue", "Largest order"}; !reflect.DeepEqual(rows[0], want) {
		t.Errorf("header %q, want %q", rows[0], want)
	}
	if len(rows) != 11 {
		t.Errorf("%d rows, want header + 10", len(rows))
	}
	// A number cell: no string type, and its raw value parses as a number.
	typ, err := f.GetCellType(sheet, "C2")
	if err != nil || typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Errorf("revenue cell type %v (%v), want a number", typ, err)
	}
	if _, err := strconv.ParseFloat(rows[1][2], 64); err != nil {
		t.Errorf("revenue raw value %q is not a number", rows[1][2])
	}
	style, err := f.GetCellStyle(sheet, "C2")
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(style)
	if err != nil || st.CustomNumFmt == nil || !strings.Contains(*st.CustomNumFmt, "$") {
		t.Errorf("revenue number format %v (%v), want currency", st, err)
	}
	shown, _ := f.GetCellValue(sheet, "C2")
	if !strings.HasPrefix(shown, "$") {
		t.Errorf("revenue shows as %q", shown)
	}
}

// A relative date preset in a query resolves on the server: "last_30_days" is the same range as
// the 30 days up to today written out (the dashboard's zone is UTC).
func TestDatePresetInQuery(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.embedToken(salesDash, "alice@example.com", "Sales", nil)
	// The sample data ends on 1 November 2026: resolve presets as if it were 20 October.
	defer func(old func() time.Time) { compile.Now = old }(compile.Now)
	today := time.Date(2026, 10, 20, 15, 0, 0, 0, time.UTC)
	compile.Now = func() time.Time { return today }
	from := today.AddDate(0, 0, -29).Format(time.DateOnly)
	preset := widgetValue(t, e.query(tok, salesDash, `{"widgets":["orders"],"filters":{"period":{"preset":"last_30_days"}}}`), "orders")
	written := widgetValue(t, e.query(tok, salesDash, fmt.Sprintf(`{"widgets":["orders"],"filters":{"period":{"from":%q,"to":%q}}}`, from, today.Format(time.DateOnly))), "orders")
	all := widgetValue(t, e.query(tok, salesDash, `{"widgets":["orders"]}`), "orders")
	if preset != written {
		t.Errorf("last_30_days = %v orders, the written-out range = %v", preset, written)
	}
	if preset <= 0 || preset >= all {
		t.Errorf("last_30_days = %v orders of %v: the sample data should have some, not all, in the last 30 days", preset, all)
	}
	r := e.query(tok, salesDash, `{"widgets":["orders"],"filters":{"period":{"preset":"someday"}}}`)
	if r.status != http.StatusBadRequest || r.errorCode(t) != "invalid_filter" {
		t.Errorf("unknown preset: %d %s", r.status, r.body)
	}
}

// A counter with compare: previous_period also answers its value over the period just before
// the selected one (same length), and nothing when no period is selected.
func TestCounterComparison(t *testing.T) {
	e := newEnv(t, envOptions{editDashboards: func(ds []*dashboard.Dashboard) {
		for _, d := range ds {
			if d.ID == salesDash {
				w, _ := d.Widget("orders")
				w.Compare = dashboard.ComparePreviousPeriod
			}
		}
	}})
	tok := e.embedToken(salesDash, "alice@example.com", "Sales", nil)
	r := e.query(tok, salesDash, `{"widgets":["orders","customers"],"filters":{"period":{"from":"2026-07-01","to":"2026-09-30"}}}`)
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	res := r.json(t)["results"].(map[string]any)
	prev, ok := res["orders"].(map[string]any)["previous"].(map[string]any)
	if !ok {
		t.Fatalf("orders has no previous: %v", res["orders"])
	}
	// 1 July to 30 September inclusive is 92 days: the previous period is the 92 days before.
	want := e.scalar("SELECT count(*) FROM sales WHERE department = 'Sales' AND ts >= TIMESTAMP '2026-03-31' AND ts < TIMESTAMP '2026-07-01'")
	if got := number(t, jsonNumber(prev["rows"].([]any)[0].([]any)[0])); got != want {
		t.Errorf("previous orders = %v, want %v", got, want)
	}
	if prev["from"] != "2026-03-31T00:00:00Z" || prev["to"] != "2026-07-01T00:00:00Z" {
		t.Errorf("previous period [%v, %v)", prev["from"], prev["to"])
	}
	if _, has := res["customers"].(map[string]any)["previous"]; has {
		t.Error("customers has no compare, so no previous")
	}
	r = e.query(tok, salesDash, `{"widgets":["orders"]}`)
	if _, has := r.json(t)["results"].(map[string]any)["orders"].(map[string]any)["previous"]; has {
		t.Error("without a period there is nothing to compare with")
	}
}
