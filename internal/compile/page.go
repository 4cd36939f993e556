package compile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/rls"
)

// MaxPageSize bounds the rows one page of a table may ask for.
const MaxPageSize = 500

// PageRequest asks for one page of a table widget's rows, optionally ordered by one of its
// columns (Sort is a column key as the query API returns it; empty keeps the widget's order).
type PageRequest struct {
	Offset int
	Limit  int
	Sort   string
	Desc   bool
}

// PageError is a page request the widget cannot serve (not a table, bad bounds, unknown sort
// column): the caller's mistake, not the dashboard's.
type PageError struct {
	Widget string
	Reason string
}

func (e *PageError) Error() string { return fmt.Sprintf("widget %q: %s", e.Widget, e.Reason) }

// BindPage binds one page of a table widget and the count of all the rows the widget shows (its
// own limit, or the row cap, applies first, so pages walk exactly the rows the widget shows):
//
//	SELECT * FROM (<widget query>) AS p ORDER BY <sort>, <every column> LIMIT n OFFSET m
//	SELECT count(*) FROM (<widget query>) AS p
//
// Every column breaks ties, so pages neither repeat nor skip rows.
func (w *WidgetPlan) BindPage(v rls.Viewer, f FilterValues, maxRows int, p PageRequest) (page, count Query, err error) {
	if w.err != nil {
		return Query{}, Query{}, w.err
	}
	if w.Type != dashboard.WidgetTable {
		return Query{}, Query{}, &PageError{Widget: w.Name, Reason: "only table widgets have pages"}
	}
	if p.Offset < 0 || p.Limit < 1 || p.Limit > MaxPageSize {
		return Query{}, Query{}, &PageError{Widget: w.Name, Reason: fmt.Sprintf("a page needs offset >= 0 and 1 <= limit <= %d", MaxPageSize)}
	}
	if p.Sort != "" && !slices.Contains(w.Columns, p.Sort) {
		return Query{}, Query{}, &PageError{Widget: w.Name, Reason: fmt.Sprintf("cannot sort by %q: not one of the table's columns", p.Sort)}
	}
	inner, err := w.Bind(v, f, maxRows)
	if err != nil {
		return Query{}, Query{}, err
	}
	q := w.ds.dialect.QuoteIdent
	var order []string
	used := map[string]bool{}
	add := func(key string, desc bool) {
		if used[key] {
			return
		}
		used[key] = true
		if desc {
			order = append(order, q(key)+" DESC")
		} else {
			order = append(order, q(key))
		}
	}
	if p.Sort != "" {
		add(p.Sort, p.Desc)
	}
	for _, o := range w.order {
		add(o.key, o.desc)
	}
	for _, k := range w.Columns {
		add(k, false)
	}
	// Offset and limit are checked integers, written as literals.
	page = Query{Source: inner.Source, Args: inner.Args,
		SQL: "SELECT * FROM (" + inner.SQL + ") AS p ORDER BY " + strings.Join(order, ", ") +
			" LIMIT " + strconv.Itoa(p.Limit) + " OFFSET " + strconv.Itoa(p.Offset)}
	count = Query{Source: inner.Source, Args: inner.Args, SQL: "SELECT count(*) FROM (" + inner.SQL + ") AS p"}
	return page, count, nil
}
