package api

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/inlay/inlay/internal/compile"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/token"
)

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

type embedHandlerFunc func(w http.ResponseWriter, r *http.Request, c *token.Claims, p *compile.Plan) error

type ctxKey int

const requestIDKey ctxKey = 0

// middleware wraps every route: recovery, a request id, access logging, CORS for the embed API.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		// A caller's W3C traceparent continues its trace; the span is named for the route once
		// the mux has matched it.
		ctx = propagation.TraceContext{}.Extract(ctx, propagation.HeaderCarrier(r.Header))
		ctx, span := s.Tracer.Start(ctx, "http.request", trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("inlay.request_id", id)))
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			route := r.Pattern // set by the mux on this request
			if route == "" {
				route = "unmatched"
			}
			s.Observer.RequestDone(route, r.Method, sw.status, s.Now().Sub(start))
			span.SetName(route)
			span.SetAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", sw.status))
			if sw.status >= 500 {
				span.SetStatus(codes.Error, http.StatusText(sw.status))
			}
			span.End()
		}()
		defer func() {
			v := recover()
			if v != nil && v != http.ErrAbortHandler {
				s.Logger.ErrorContext(ctx, "panic", "request_id", id, "panic", v)
				if !sw.wrote {
					s.writeError(sw, r, errors.New("panic"))
				}
			}
			// Only the path is logged: query strings can carry external values.
			s.Logger.InfoContext(ctx, "http", "request_id", id, "method", r.Method, "path", logPath(r.URL.Path),
				"status", sw.status, "ms", float64(s.Now().Sub(start).Microseconds())/1000, "aborted", v == http.ErrAbortHandler)
			if v == http.ErrAbortHandler {
				panic(v) // net/http cuts the connection without logging a stack
			}
		}()
		if strings.HasPrefix(r.URL.Path, "/api/v1/embed/") {
			s.cors(sw, r)
		}
		next.ServeHTTP(sw, r)
	})
}

// cors allows browser calls to the embed API from the allowed embed origins only.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	w.Header().Add("Vary", "Origin")
	if origin == "" || !s.allowedOrigin(origin, s.dashboardFromPath(r.URL.Path)) {
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
	h.Set("Access-Control-Max-Age", "600")
}

// dashboardFromPath finds the dashboard named in an embed API path, for per-dashboard origins.
func (s *Server) dashboardFromPath(path string) *dashboard.Dashboard {
	rest, ok := strings.CutPrefix(path, "/api/v1/embed/dashboards/")
	if !ok {
		return nil
	}
	id, _, _ := strings.Cut(rest, "/")
	d, _ := s.dashboard(id)
	return d
}

func (s *Server) handlePreflight(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusNoContent)
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// plain adapts a handler whose errors use Inlay's envelope.
func (s *Server) plain(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		s.adapt(w, r, h, s.writeError)
	})
}

// oauth adapts a handler whose errors use RFC 6749's shape.
func (s *Server) oauth(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		s.adapt(w, r, h, s.writeOAuthError)
	})
}

// databricks adapts a handler whose errors use Databricks' REST shape.
func (s *Server) databricks(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.adapt(w, r, h, s.writeDatabricksError)
	})
}

// embed authenticates an embed token and checks it is scoped to the dashboard in the path.
func (s *Server) embed(h embedHandlerFunc) http.Handler {
	return s.plain(func(w http.ResponseWriter, r *http.Request) error {
		// Looker credentials (a cookieless API token or the session cookie), docs/looker.md.
		if c, p, handled, err := s.lookerEmbedAuth(r, r.PathValue("id")); handled {
			if err != nil {
				return err
			}
			if err := s.limitQuery(c); err != nil {
				return err
			}
			return h(w, r, c, p)
		}
		raw, ok := bearer(r)
		if !ok {
			return &Error{Status: http.StatusUnauthorized, Code: "invalid_token", Message: "an embed token is required",
				Details: map[string]any{"reason": "missing"}}
		}
		claims, err := s.Verifier.Verify(raw, token.KindEmbed)
		if err != nil {
			return &Error{Status: http.StatusUnauthorized, Code: "invalid_token", Message: "the embed token is not valid",
				Details: map[string]any{"reason": tokenReason(err)}, Cause: err}
		}
		id := r.PathValue("id")
		if claims.DashboardID != id {
			return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "the embed token is for another dashboard",
				Details: map[string]any{"reason": "other_dashboard"}}
		}
		p, ok := s.plan(id)
		if !ok {
			return errorf(http.StatusNotFound, "not_found", "no such dashboard")
		}
		if err := s.limitQuery(claims); err != nil {
			return err
		}
		return h(w, r, claims, p)
	})
}

// admin checks the admin key (compared as hashes, in constant time).
func (s *Server) admin(h handlerFunc) http.Handler {
	return s.plain(func(w http.ResponseWriter, r *http.Request) error {
		if s.opts.AdminKey == "" {
			return errorf(http.StatusNotFound, "not_found", "the admin API is disabled (set admin_key)")
		}
		raw, ok := bearer(r)
		want := sha256.Sum256([]byte(s.opts.AdminKey))
		got := sha256.Sum256([]byte(raw))
		if !ok || !hmac.Equal(want[:], got[:]) {
			return &Error{Status: http.StatusUnauthorized, Code: "invalid_token", Message: "a valid admin key is required",
				Details: map[string]any{"reason": "bad_admin_key"}}
		}
		return h(w, r)
	})
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, raw, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return "", false
	}
	return strings.TrimSpace(raw), true
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) error {
	return errorf(http.StatusNotFound, "not_found", "no such endpoint")
}

// remaining is the rest of a token's life, for responses.
func remaining(exp, now time.Time) int64 { return int64(exp.Sub(now).Round(time.Second) / time.Second) }
