package api

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/inlay/inlay/internal/compile"
	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/token"
)

// pageJSON asks for one page of a table widget in a query request ("pages": {"widget": {...}}).
type pageJSON struct {
	Offset int    `json:"offset"`
	Limit  int    `json:"limit"`
	Sort   string `json:"sort"`
	Desc   bool   `json:"desc"`
}

// pagedWidgets splits the request's widgets into the table widgets served a page at a time
// (every table when page_size is given, and those named in pages) and the rest, which run as
// before. rest is nil when every widget is paged.
func pagedWidgets(d *dashboard.Dashboard, req queryRequest) (paged map[string]compile.PageRequest, rest []string, err error) {
	if req.PageSize == 0 && len(req.Pages) == 0 {
		return nil, req.Widgets, nil
	}
	if req.PageSize < 0 || req.PageSize > compile.MaxPageSize {
		return nil, nil, &Error{Status: http.StatusBadRequest, Code: "invalid_page",
			Message: fmt.Sprintf("page_size must be between 1 and %d", compile.MaxPageSize)}
	}
	names := req.Widgets
	if len(names) == 0 {
		for _, w := range d.Widgets {
			if w.Queried() {
				names = append(names, w.Name)
			}
		}
	}
	paged = map[string]compile.PageRequest{}
	for _, name := range names {
		w, ok := d.Widget(name)
		p, asked := req.Pages[name]
		switch {
		case asked:
			paged[name] = compile.PageRequest{Offset: p.Offset, Limit: p.Limit, Sort: p.Sort, Desc: p.Desc}
		case ok && w.Type == "table" && req.PageSize > 0:
			paged[name] = compile.PageRequest{Limit: req.PageSize}
		default:
			rest = append(rest, name)
		}
	}
	for name := range req.Pages {
		if _, ok := paged[name]; !ok {
			return nil, nil, &Error{Status: http.StatusBadRequest, Code: "invalid_page",
				Message: fmt.Sprintf("pages names %q, which this request does not run", name), Details: map[string]any{"widget": name}}
		}
	}
	return paged, rest, nil
}

// runPages runs every paged widget (concurrently; the engine bounds the database work).
func (s *Server) runPages(ctx context.Context, p *compile.Plan, c *token.Claims, f compile.FilterValues, paged map[string]compile.PageRequest) map[string]widgetResultJSON {
	v, d := viewerOf(c), p.Dashboard
	out := make(map[string]widgetResultJSON, len(paged))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, pr := range paged {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := s.Now()
			r := s.Engine.Page(ctx, p, name, v, f, pr)
			wr := widgetResultJSON{DurationMS: ms(r.Duration), Cached: r.Cached, Columns: []datasource.Column{}, Rows: [][]any{}}
			ev := storage.AuditEvent{Time: start, Kind: storage.AuditDashboardQuery, PrincipalID: c.Subject,
				ViewerID: c.ViewerID, DashboardID: d.ID, Widget: name, DurationMS: r.Duration.Milliseconds(), Outcome: "ok", Detail: "page"}
			if r.Err != nil {
				e := toAPIError(r.Err)
				if e.Status >= 500 {
					s.Logger.ErrorContext(ctx, "widget page failed", "dashboard", d.ID, "widget", name, "err", r.Err)
				}
				wr.Error = &envelopeBody{Code: e.Code, Message: e.Message, Details: e.Details}
				ev.Outcome = e.Code
			} else {
				ev.Rows = int64(len(r.Result.Rows))
				total, offset := r.Total, pr.Offset
				wr.Columns, wr.Rows, wr.Truncated = r.Result.Columns, jsonRows(r.Result), r.TotalTruncated
				wr.TotalRows, wr.Offset = &total, &offset
			}
			s.Audit.Record(ev)
			mu.Lock()
			out[name] = wr
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}
