package compile

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
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

// Page compiles one page of a table widget and the count of all the rows the widget shows (its
// own limit or the row cap applies first, so pages walk exactly the rows the widget would show):
//
//	SELECT * FROM (<widget query>) AS p ORDER BY <sort>, <every column> LIMIT n OFFSET m
//	SELECT count(*) FROM (<widget query>) AS p
//
// Every column breaks ties, so pages neither repeat nor skip rows.
func Page(d *dashboard.Dashboard, widgetName string, dialect datasource.Dialect, v rls.Viewer, f FilterValues, opts Options, p PageRequest) (page, count Query, err error) {
	w := findWidget(d, widgetName)
	if w == nil {
		return Query{}, Query{}, &UnknownWidgetError{Widget: widgetName}
	}
	if w.Type != "table" {
		return Query{}, Query{}, &PageError{Widget: w.Name, Reason: "only table widgets have pages"}
	}
	if p.Offset < 0 || p.Limit < 1 || p.Limit > MaxPageSize {
		return Query{}, Query{}, &PageError{Widget: w.Name, Reason: fmt.Sprintf("a page needs offset >= 0 and 1 <= limit <= %d", MaxPageSize)}
	}
	s, err := widgetShape(w)
	if err != nil {
		return Query{}, Query{}, fmt.Errorf("widget %q: %w", w.Name, err)
	}
	keys := make([]string, 0, len(s.dims)+len(s.measures))
	for _, fl := range append(append([]field(nil), s.dims...), s.measures...) {
		keys = append(keys, fl.key)
	}
	inner, err := Widget(d, widgetName, dialect, v, f, opts)
	if err != nil {
		return Query{}, Query{}, err
	}
	var order []string
	if p.Sort != "" {
		found := false
		for _, k := range keys {
			if k == p.Sort {
				found = true
				break
			}
		}
		if !found {
			return Query{}, Query{}, &PageError{Widget: w.Name, Reason: fmt.Sprintf("cannot sort by %q: not one of the table's columns", p.Sort)}
		}
		o := dialect.QuoteIdent(p.Sort)
		if p.Desc {
			o += " DESC"
		}
		order = append(order, o)
	} else {
		// The widget's own order, as the inner query had it.
		ok, err := orderBy(w, s)
		if err != nil {
			return Query{}, Query{}, fmt.Errorf("widget %q: %w", w.Name, err)
		}
		for _, o := range ok {
			q := dialect.QuoteIdent(o.key)
			if o.desc {
				q += " DESC"
			}
			order = append(order, q)
		}
	}
	for _, k := range keys {
		if k != p.Sort {
			order = append(order, dialect.QuoteIdent(k))
		}
	}
	// Offset and limit are checked integers, written as literals.
	page = Query{Source: inner.Source, Args: inner.Args,
		SQL: "SELECT * FROM (" + inner.SQL + ") AS p ORDER BY " + strings.Join(order, ", ") +
			" LIMIT " + strconv.Itoa(p.Limit) + " OFFSET " + strconv.Itoa(p.Offset)}
	count = Query{Source: inner.Source, Args: inner.Args, SQL: "SELECT count(*) FROM (" + inner.SQL + ") AS p"}
	return page, count, nil
}
