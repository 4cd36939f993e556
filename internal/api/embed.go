package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/inlay/inlay/internal/compile"
	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/query"
	"github.com/inlay/inlay/internal/rls"
	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/token"
)

func viewerOf(c *token.Claims) rls.Viewer {
	return rls.Viewer{ID: c.ViewerID, ExternalValue: c.ExternalValue, Attributes: c.Attributes}
}

type filterJSON struct {
	dashboard.Filter
	Options []any      `json:"options,omitempty"`
	Range   *rangeJSON `json:"range,omitempty"`
}

type rangeJSON struct {
	Min any `json:"min"`
	Max any `json:"max"`
}

type dashboardJSON struct {
	ID          string             `json:"id"`
	Title       string             `json:"title"`
	Description string             `json:"description,omitempty"`
	Filters     []filterJSON       `json:"filters"`
	Widgets     []dashboard.Widget `json:"widgets"`
	Pages       []dashboard.Page   `json:"pages,omitempty"`
}

// handleGetDashboard is GET /api/v1/embed/dashboards/{id}: layout, widgets and filter options
// (computed with the viewer's row-level security), never SQL or data-source details.
func (s *Server) handleGetDashboard(w http.ResponseWriter, r *http.Request, c *token.Claims, p *compile.Plan) error {
	d := p.Dashboard
	ctx, cancel := s.withDeadline(r.Context())
	defer cancel()
	opts, err := within(ctx, func(ctx context.Context) (map[string]query.FilterOptions, error) {
		return s.Engine.FilterOptions(ctx, p, viewerOf(c))
	})
	if err != nil {
		return err
	}
	out := dashboardJSON{ID: d.ID, Title: d.Title, Description: d.Description,
		Filters: make([]filterJSON, 0, len(d.Filters)), Widgets: d.Widgets, Pages: d.Pages}
	if out.Widgets == nil {
		out.Widgets = []dashboard.Widget{}
	}
	for _, f := range d.Filters {
		fj := filterJSON{Filter: f}
		if o, ok := opts[f.Name]; ok {
			if o.Err != nil {
				return o.Err // fail closed: e.g. the token lacks a value the options need
			}
			if f.Type == dashboard.FilterSingleSelect || f.Type == dashboard.FilterMultiSelect {
				fj.Options = o.Values
				if fj.Options == nil {
					fj.Options = []any{}
				}
			} else {
				fj.Range = &rangeJSON{Min: jsonValue(o.Min), Max: jsonValue(o.Max)}
			}
		}
		out.Filters = append(out.Filters, fj)
	}
	caps := c.Capabilities
	if caps == nil {
		caps = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"dashboard":  out,
		"viewer":     map[string]any{"id": c.ViewerID, "capabilities": caps},
		"expires_at": c.ExpiresAt.UTC().Format(time.RFC3339),
	})
	return nil
}

type queryRequest struct {
	Widgets []string                   `json:"widgets"`
	Filters map[string]json.RawMessage `json:"filters"`
	// Defaults starts from the dashboard's filter defaults, with Filters on top (null clears
	// one). The viewer's first run uses it, so it need not wait for the definition.
	Defaults bool `json:"defaults"`
	// PageSize serves every table widget a page at a time (the first page of this size);
	// Pages asks for a given page (and sort) of named table widgets. See pages.go.
	PageSize int                 `json:"page_size"`
	Pages    map[string]pageJSON `json:"pages"`
	// Tab, with no widgets named, runs only the widgets of that dashboard page (tab); an
	// unknown or empty name means the first page. See tabs.go.
	Tab *string `json:"tab"`
}

// widgetResultJSON is one widget's result. columns, rows and truncated are always present
// (empty lists and false when there is nothing, or when error says why).
type widgetResultJSON struct {
	Columns    []datasource.Column `json:"columns"`
	Rows       [][]any             `json:"rows"`
	Truncated  bool                `json:"truncated"`
	TotalRows  *int                `json:"total_rows,omitempty"` // paged tables: rows in all
	Offset     *int                `json:"offset,omitempty"`     // paged tables: the page's first row
	Previous   *previousJSON       `json:"previous,omitempty"`   // compared counters: the previous period
	Sparkline  *sparklineJSON      `json:"sparkline,omitempty"`  // counters with a sparkline
	DurationMS float64             `json:"duration_ms"`
	Cached     bool                `json:"cached"`
	Error      *envelopeBody       `json:"error,omitempty"`
}

// withDefaults returns the dashboard's filter defaults overlaid with the given filters.
func withDefaults(d *dashboard.Dashboard, given map[string]json.RawMessage) (map[string]json.RawMessage, error) {
	out := make(map[string]json.RawMessage, len(d.Filters)+len(given))
	for _, f := range d.Filters {
		if f.Default == nil {
			continue
		}
		b, err := json.Marshal(f.Default)
		if err != nil {
			return nil, fmt.Errorf("filter %q: encoding its default: %w", f.Name, err)
		}
		out[f.Name] = b
	}
	for name, v := range given {
		out[name] = v
	}
	return out, nil
}

// handleQuery is POST /api/v1/embed/dashboards/{id}/query.
func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request, c *token.Claims, p *compile.Plan) error {
	d := p.Dashboard
	start := s.Now()
	var req queryRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := checkFilterValues(req.Filters, s.opts.MaxFilterValues); err != nil {
		return err
	}
	if tabWidgets(d, &req) {
		writeJSON(w, http.StatusOK, map[string]any{"results": map[string]widgetResultJSON{}, "duration_ms": ms(s.Now().Sub(start))})
		return nil // the page holds only text tiles: nothing to run
	}
	raw, err := req.Filters, error(nil)
	if req.Defaults {
		if raw, err = withDefaults(d, req.Filters); err != nil {
			return err
		}
	}
	filters, err := p.ParseFilters(raw)
	if err != nil {
		return err
	}
	// No names means every widget; the engine checks every name before it runs anything
	// (400 unknown_widget otherwise). The request deadline covers compiling and binding as well
	// as the engine: when it passes, every widget not yet answered reports query_timeout.
	ctx, cancel := s.withDeadline(r.Context())
	defer cancel()
	// Tables asked for a page at a time run through pages.go; the rest as before.
	paged, rest, err := pagedWidgets(d, req)
	if err != nil {
		return err
	}
	results := map[string]query.WidgetResult{}
	if len(paged) == 0 || len(rest) > 0 {
		results, err = within(ctx, func(ctx context.Context) (map[string]query.WidgetResult, error) {
			return s.Engine.Run(ctx, p, viewerOf(c), rest, filters)
		})
		if err != nil && ctx.Err() != nil && r.Context().Err() == nil {
			results = timedOut(p.Dashboard, rest, err, s.Now().Sub(start))
		} else if err != nil {
			return err
		}
		s.traceWidgets(ctx, d.ID, results)
		if err := allBusy(results); err != nil && len(paged) == 0 {
			return err // every widget was refused: one 503 datasource_busy with Retry-After
		}
	}
	out := make(map[string]widgetResultJSON, len(results)+len(paged))
	for name, wr := range s.runPages(ctx, p, c, filters, paged) {
		out[name] = wr
	}
	for name, res := range results {
		wr := widgetResultJSON{DurationMS: ms(res.Duration), Cached: res.Cached, Columns: []datasource.Column{}, Rows: [][]any{}}
		ev := storage.AuditEvent{Time: start, Kind: storage.AuditDashboardQuery, PrincipalID: c.Subject,
			ViewerID: c.ViewerID, DashboardID: d.ID, Widget: name, DurationMS: res.Duration.Milliseconds(), Outcome: "ok"}
		if res.Err != nil {
			e := toAPIError(res.Err)
			if e.Code == "rls_value_missing" {
				s.Observer.RLSRefused()
			}
			if e.Status >= 500 {
				s.Logger.ErrorContext(r.Context(), "widget query failed", "dashboard", d.ID, "widget", name, "err", res.Err)
			}
			wr.Error = &envelopeBody{Code: e.Code, Message: e.Message, Details: e.Details}
			ev.Outcome = e.Code
		} else {
			if res.Result.Columns != nil {
				wr.Columns = res.Result.Columns
			}
			if rows := jsonRows(res.Result); rows != nil {
				wr.Rows = rows
			}
			wr.Truncated = res.Result.Truncated
			ev.Rows = int64(len(res.Result.Rows))
		}
		s.Audit.Record(ev)
		out[name] = wr
	}
	if len(paged) == 0 || len(rest) > 0 { // rest is nil for "every widget" only when nothing is paged
		for name, prev := range s.runComparisons(ctx, p, c, rest, filters) {
			if wr, ok := out[name]; ok && wr.Error == nil {
				wr.Previous = prev
				out[name] = wr
			}
		}
		for name, sp := range s.runSparklines(ctx, p, c, rest, filters) {
			if wr, ok := out[name]; ok && wr.Error == nil {
				wr.Sparkline = sp
				out[name] = wr
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out, "duration_ms": ms(s.Now().Sub(start))})
	return nil
}

// handleExport is POST /api/v1/embed/dashboards/{id}/widgets/{widget}/export: the widget's data
// as CSV, through the same query path (and so the same row-level security) as the widget.
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request, c *token.Claims, p *compile.Plan) error {
	d := p.Dashboard
	if !c.Has(token.CapabilityDownload) {
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "this embed token does not allow downloads",
			Details: map[string]any{"capability": token.CapabilityDownload}}
	}
	name := r.PathValue("widget")
	wd, ok := d.Widget(name)
	if !ok {
		return &Error{Status: http.StatusBadRequest, Code: "unknown_widget", Message: "unknown widget " + strconvQuote(name),
			Details: map[string]any{"widget": name}}
	}
	var req struct {
		Filters map[string]json.RawMessage `json:"filters"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := checkFilterValues(req.Filters, s.opts.MaxFilterValues); err != nil {
		return err
	}
	filters, err := p.ParseFilters(req.Filters)
	if err != nil {
		return err
	}
	start := s.Now()
	ctx, cancel := s.withDeadline(r.Context())
	defer cancel()
	res, err := within(ctx, func(ctx context.Context) (*datasource.Result, error) {
		return s.Engine.Export(ctx, p, name, viewerOf(c), filters)
	})
	ev := storage.AuditEvent{Time: start, Kind: storage.AuditDashboardQuery, PrincipalID: c.Subject, ViewerID: c.ViewerID,
		DashboardID: d.ID, Widget: name, DurationMS: s.Now().Sub(start).Milliseconds(), Outcome: "ok", Detail: "export"}
	if err != nil {
		ev.Outcome = toAPIError(err).Code
		s.Audit.Record(ev)
		return err
	}
	ev.Rows = int64(len(res.Rows))
	s.Audit.Record(ev)
	filename := strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, d.ID+"-"+wd.Name)
	if res.Truncated {
		w.Header().Set("X-Inlay-Truncated", "true")
	}
	if wantsXLSX(r.URL.Query().Get("format"), r.Header.Get("Accept")) {
		// Built in memory first: a failure is then an error answer, not a broken download.
		var buf bytes.Buffer
		if err := writeXLSX(&buf, wd.Title, res, wd); err != nil {
			return err
		}
		w.Header().Set("Content-Type", xlsxContentType)
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename + ".xlsx"}))
		_, _ = w.Write(buf.Bytes()) // the response has started: nothing to answer on failure
		return nil
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename + ".csv"}))
	return writeLabeledCSV(w, res, columnLabels(wd))
}

// csvSafe defuses spreadsheet formula injection: a cell starting with = + - @ is prefixed with a
// quote unless it is a plain number.
func csvSafe(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}

func csvText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case string:
		return x
	case json.Number:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}

// jsonRows returns the rows to encode. Results may be shared through the cache, so they are never
// modified; time.Time already encodes as RFC 3339 and json.Number as a JSON number.
func jsonRows(res *datasource.Result) [][]any {
	if res.Rows == nil {
		return [][]any{}
	}
	return res.Rows
}

func jsonValue(v any) any {
	if t, ok := v.(time.Time); ok {
		return t.UTC().Format(time.RFC3339Nano)
	}
	return v
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// decodeJSON reads a JSON body strictly: size-limited, unknown fields rejected, one value only.
// An empty body is an empty object.
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" {
			return errorf(http.StatusBadRequest, "bad_request", "the body must be application/json")
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case errors.As(err, &tooBig):
		return errorf(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than %d bytes", tooBig.Limit)
	case err != nil:
		return &Error{Status: http.StatusBadRequest, Code: "bad_request", Message: "invalid JSON body: " + err.Error()}
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "bad_request", "the body must hold one JSON object")
	}
	return nil
}
