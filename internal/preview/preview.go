// Package preview is the local preview of `inlay dev`: a page that lists the project's
// dashboards and renders one as a chosen viewer, through a real embed token minted for that
// viewer (so row-level security applies exactly as for an embedded viewer), reloading by itself
// when the project changes and showing the project's problems, with file:line:col, over the page
// instead of a broken dashboard. It answers only requests from and addressed to loopback, and
// only `inlay dev` mounts it.
package preview

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/inlay/inlay/internal/check"
	"github.com/inlay/inlay/internal/rls"
)

// Dashboard is one entry of the preview's list.
type Dashboard struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Options are what the preview needs from the running server.
type Options struct {
	// Dashboards lists the dashboards served now.
	Dashboards func() []Dashboard
	// Mint issues an embed token for viewer v on dashboard id, as the token endpoint would.
	Mint func(ctx context.Context, id string, v rls.Viewer) (token string, expiresIn int64, err error)
}

// Status is the outcome of the latest check of the project. Version grows with every check, so
// the page knows to render again.
type Status struct {
	Version   int             `json:"version"`
	CheckedAt time.Time       `json:"checked_at"`
	Problems  []check.Problem `json:"problems"`
}

// Preview serves the preview page and its routes under /dev/.
type Preview struct {
	opts Options

	mu     sync.Mutex
	status Status
	subs   map[chan struct{}]struct{}
}

// New returns a preview with no check done yet.
func New(opts Options) *Preview {
	return &Preview{opts: opts, status: Status{Problems: []check.Problem{}}, subs: map[chan struct{}]struct{}{}}
}

// Publish records the outcome of a check and tells every open page.
func (p *Preview) Publish(problems []check.Problem) {
	if problems == nil {
		problems = []check.Problem{}
	}
	p.mu.Lock()
	p.status = Status{Version: p.status.Version + 1, CheckedAt: time.Now().UTC(), Problems: problems}
	for ch := range p.subs {
		select {
		case ch <- struct{}{}:
		default: // already has a wake-up pending
		}
	}
	p.mu.Unlock()
}

// Status returns the latest check's outcome.
func (p *Preview) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

// Handler serves GET /dev/ (the page), GET /dev/api/status, GET /dev/api/events (server-sent
// events, one per check), GET /dev/api/dashboards and POST /dev/api/token.
func (p *Preview) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /dev/{$}", p.handlePage)
	mux.HandleFunc("GET /dev/api/status", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, p.Status()) })
	mux.HandleFunc("GET /dev/api/events", p.handleEvents)
	mux.HandleFunc("GET /dev/api/dashboards", func(w http.ResponseWriter, r *http.Request) {
		list := p.opts.Dashboards()
		if list == nil {
			list = []Dashboard{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"dashboards": list})
	})
	mux.HandleFunc("POST /dev/api/token", p.handleToken)
	mux.HandleFunc("/dev/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such preview page")
	})
	return loopbackOnly(mux)
}

// loopbackOnly refuses requests that do not come from loopback or that are addressed to another
// host name (a DNS-rebinding page would send its own).
func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			writeError(w, http.StatusForbidden, "forbidden", "the preview answers only on loopback")
			return
		}
		if !IsLoopbackHost(r.Host) {
			writeError(w, http.StatusForbidden, "forbidden", "the preview answers only to localhost or a loopback address")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// IsLoopbackHost reports whether hostport (a Host header or listen address) names loopback:
// localhost or a loopback IP.
func IsLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type tokenRequest struct {
	DashboardID   string              `json:"dashboard_id"`
	ViewerID      string              `json:"viewer_id"`
	ExternalValue *string             `json:"external_value"`
	Attributes    map[string][]string `json:"attributes"`
}

// handleToken mints an embed token for the viewer the author chose. JSON only, so a page on
// another site cannot send it without a preflight, which this route does not answer.
func (p *Preview) handleToken(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "bad_request", "send JSON")
		return
	}
	if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
		writeError(w, http.StatusForbidden, "forbidden", "the preview's token route is for the preview page only")
		return
	}
	var req tokenRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "expected {dashboard_id, viewer_id, external_value, attributes}")
		return
	}
	if req.ViewerID == "" {
		req.ViewerID = "preview"
	}
	if req.ExternalValue != nil && *req.ExternalValue == "" {
		req.ExternalValue = nil // an empty field means "no external value"
	}
	v := rls.Viewer{ID: req.ViewerID, ExternalValue: req.ExternalValue, Attributes: req.Attributes}
	tok, exp, err := p.opts.Mint(r.Context(), req.DashboardID, v)
	if err != nil {
		var nf notFound
		if errors.As(err, &nf) {
			writeError(w, http.StatusNotFound, "not_found", err.Error())
			return
		}
		writeError(w, http.StatusInternalServerError, "internal", "the token could not be minted")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"embed_token": tok, "expires_in": exp, "instance_url": "http://" + r.Host})
}

// notFound is an error the Mint function returns for an unknown dashboard.
type notFound interface{ NotFound() bool }

// UnknownDashboard is the error Mint returns for a dashboard the server does not have.
type UnknownDashboard string

func (u UnknownDashboard) Error() string  { return fmt.Sprintf("no dashboard %q", string(u)) }
func (u UnknownDashboard) NotFound() bool { return true }

// handleEvents streams the check status: one event now, one after every check.
func (p *Preview) handleEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "internal", "streaming unsupported")
		return
	}
	ch := make(chan struct{}, 1)
	p.mu.Lock()
	p.subs[ch] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.subs, ch)
		p.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	send := func() bool {
		b, _ := json.Marshal(p.Status())
		if _, err := fmt.Fprintf(w, "event: status\ndata: %s\n\n", b); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	if !send() {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-ch:
			if !send() {
				return
			}
		case <-keepAlive.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func (p *Preview) handlePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(page))
}
