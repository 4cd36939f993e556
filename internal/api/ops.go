package api

import (
	"context"
	"net/http"

	"github.com/inlay/inlay/internal/health"
)

// Readiness is what /readyz asks: whether this replica can serve, and the state of each part.
type Readiness interface {
	Check(ctx context.Context) health.Report
}

// handleLive is GET /livez: the process is up and its HTTP server answers. It checks nothing
// else, so an orchestrator restarts a replica only when it is truly stuck.
func (s *Server) handleLive(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// handleReady is GET /readyz (and /healthz): 200 while the replica can serve (status "ok", or
// "degraded" when some data source is down), 503 when it cannot (state store down, no data
// source up, or shutting down). Each data source's state is listed; causes stay in the log.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	if s.Health == nil {
		writeJSON(w, http.StatusOK, map[string]string{"status": health.StatusOK})
		return nil
	}
	rep := s.Health.Check(r.Context())
	status := http.StatusOK
	if !rep.Ready() {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, rep)
	return nil
}

// startedWriter records whether the response has started (status line or body sent), so that an
// error returned after that point is logged rather than written into the middle of a response.
type startedWriter struct {
	http.ResponseWriter
	started bool
}

func (w *startedWriter) WriteHeader(code int) {
	if code >= 200 { // 1xx informational responses do not start the response
		w.started = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *startedWriter) Write(b []byte) (int, error) {
	w.started = true
	return w.ResponseWriter.Write(b)
}

func (w *startedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// adapt runs h and writes its error with write, unless the response had already started: then a
// second status line and an error body would corrupt what the client is reading, so the error is
// logged and the response is cut short (http.ErrAbortHandler), which tells the client it is
// incomplete instead of letting a truncated CSV pass for a whole one.
func (s *Server) adapt(w http.ResponseWriter, r *http.Request, h handlerFunc, write func(http.ResponseWriter, *http.Request, error)) {
	sw := &startedWriter{ResponseWriter: w}
	err := h(sw, r)
	if err == nil {
		return
	}
	if !sw.started {
		write(w, r, err)
		return
	}
	s.Logger.ErrorContext(r.Context(), "request failed after the response started; response cut short",
		"request_id", RequestID(r.Context()), "path", r.URL.Path, "err", err)
	panic(http.ErrAbortHandler)
}

// RequestID is the request id the middleware gave the request ("" outside a request).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}
