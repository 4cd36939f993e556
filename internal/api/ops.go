package api

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/inlay/inlay/internal/health"
	"github.com/inlay/inlay/internal/query"
	"github.com/inlay/inlay/internal/token"
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

// Observer receives what the API does, for metrics. Implementations must be cheap and safe for
// concurrent use; labels must not carry request values.
type Observer interface {
	// RequestDone reports a served request by its route pattern (never the raw path).
	RequestDone(route, method string, status int, elapsed time.Duration)
	TokenMinted(kind string)
	RLSRefused()
	RateLimited(limit string)
}

type nopObserver struct{}

func (nopObserver) RequestDone(string, string, int, time.Duration) {}
func (nopObserver) TokenMinted(string)                             {}
func (nopObserver) RLSRefused()                                    {}
func (nopObserver) RateLimited(string)                             {}

// Limiter allows or refuses one event for a key (a principal, an embed token's id).
type Limiter interface {
	Allow(key string) (ok bool, retryAfter time.Duration)
}

// retryAfterSeconds is Retry-After for a wait of d: whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// codeRateLimited is the code of a 429 (REQUEST_LIMIT_EXCEEDED in Databricks' shape).
const codeRateLimited = "rate_limited"

// limitToken applies the per-principal limit of the token endpoints. When it refuses, it sets
// Retry-After on w (every error shape gets it) and returns a 429.
func (s *Server) limitToken(w http.ResponseWriter, principalID string) error {
	if s.TokenLimiter == nil {
		return nil
	}
	ok, wait := s.TokenLimiter.Allow(principalID)
	if ok {
		return nil
	}
	s.Observer.RateLimited("token")
	secs := retryAfterSeconds(wait)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return &Error{Status: http.StatusTooManyRequests, Code: codeRateLimited,
		Message: "too many token requests for this service principal; retry after " + strconv.Itoa(secs) + "s"}
}

// limitQuery applies the per-embed-token limit of the embed API.
func (s *Server) limitQuery(c *token.Claims) error {
	if s.QueryLimiter == nil {
		return nil
	}
	ok, wait := s.QueryLimiter.Allow(c.ID)
	if ok {
		return nil
	}
	s.Observer.RateLimited("query")
	secs := retryAfterSeconds(wait)
	return &Error{Status: http.StatusTooManyRequests, Code: codeRateLimited,
		Message: "too many requests with this embed token; retry after " + strconv.Itoa(secs) + "s",
		Details: map[string]any{"retry_after_seconds": secs}, RetryAfter: secs}
}

// traceWidgets records one span per widget query of a request, from the engine's timings (the
// engine runs widgets concurrently and reports each one's duration). Attributes name the
// dashboard and widget and the outcome: no filter values, RLS values or SQL.
func (s *Server) traceWidgets(ctx context.Context, dashboardID string, results map[string]query.WidgetResult) {
	end := time.Now()
	for name, res := range results {
		outcome := "ok"
		if res.Err != nil {
			outcome = toAPIError(res.Err).Code
		}
		_, span := s.Tracer.Start(ctx, "widget.query", trace.WithTimestamp(end.Add(-res.Duration)),
			trace.WithAttributes(
				attribute.String("inlay.dashboard", dashboardID),
				attribute.String("inlay.widget", name),
				attribute.Bool("inlay.cached", res.Cached),
				attribute.String("inlay.outcome", outcome),
			))
		if res.Err != nil {
			span.SetStatus(codes.Error, outcome)
		}
		span.End(trace.WithTimestamp(end))
	}
}
