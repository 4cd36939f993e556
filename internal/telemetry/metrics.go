// Package telemetry holds Inlay's Prometheus metrics and OpenTelemetry tracing: the registry and
// its collectors, an HTTP handler for /metrics, a data-source wrapper that counts, times and
// traces every query, and the tracer provider (OTLP when configured, none by default).
// Labels and span attributes never carry secrets, tokens, filter or RLS values, or SQL.
package telemetry

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/query"
)

// Metrics is Inlay's metrics registry. A nil *Metrics records nothing.
type Metrics struct {
	reg *prometheus.Registry

	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	inFlight      prometheus.Gauge
	queries       *prometheus.CounterVec
	queryDuration *prometheus.HistogramVec
	tokens        *prometheus.CounterVec
	rlsRefusals   prometheus.Counter
	rateLimited   *prometheus.CounterVec
}

// NewMetrics builds the registry with Go runtime and process collectors.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "inlay_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "inlay_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "inlay_http_requests_in_flight", Help: "HTTP requests being served now.",
		}),
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "inlay_datasource_queries_total", Help: "Queries sent to data sources, by source and outcome (ok, invalid_query, timeout, unavailable, busy, canceled, error).",
		}, []string{"source", "outcome"}),
		queryDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "inlay_datasource_query_duration_seconds", Help: "Data-source query latency, queueing included, by source.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"source"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "inlay_tokens_minted_total", Help: "Tokens issued, by kind (service, embed).",
		}, []string{"kind"}),
		rlsRefusals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "inlay_rls_refusals_total", Help: "Queries refused because the embed token lacks a value row-level security needs.",
		}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "inlay_rate_limited_total", Help: "Requests refused with 429, by limit (token, query, oauth_exchange).",
		}, []string{"limit"}),
	}
	reg.MustRegister(m.requests, m.duration, m.inFlight, m.queries, m.queryDuration, m.tokens, m.rlsRefusals, m.rateLimited)
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Registry is the underlying registry (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// InFlight counts the requests h is serving.
func (m *Metrics) InFlight(h http.Handler) http.Handler {
	if m == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		h.ServeHTTP(w, r)
	})
}

// RequestDone records one served request. route is the matched pattern, never the raw path.
func (m *Metrics) RequestDone(route, method string, status int, elapsed time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(elapsed.Seconds())
}

// TokenMinted counts an issued token of kind.
func (m *Metrics) TokenMinted(kind string) {
	if m != nil {
		m.tokens.WithLabelValues(kind).Inc()
	}
}

// RLSRefused counts a query refused for a missing row-level security value.
func (m *Metrics) RLSRefused() {
	if m != nil {
		m.rlsRefusals.Inc()
	}
}

// RateLimited counts a request refused by the named limit.
func (m *Metrics) RateLimited(limit string) {
	if m != nil {
		m.rateLimited.WithLabelValues(limit).Inc()
	}
}

// ObserveQuery records one data-source query.
func (m *Metrics) ObserveQuery(source string, err error, elapsed time.Duration) {
	if m == nil {
		return
	}
	m.queries.WithLabelValues(source, Outcome(err)).Inc()
	m.queryDuration.WithLabelValues(source).Observe(elapsed.Seconds())
}

// WatchEngine exports the query engine's counters: executions, cache hits, coalesced waiters,
// cancellations, executions in flight.
func (m *Metrics) WatchEngine(stats func() query.Stats) {
	counter := func(name, help string, v func(query.Stats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v(stats())) })
	}
	m.reg.MustRegister(
		counter("inlay_query_executed_total", "Queries the engine sent to a data source.", func(s query.Stats) int64 { return s.Executed }),
		counter("inlay_query_cache_hits_total", "Widget results answered from the result cache.", func(s query.Stats) int64 { return s.CacheHits }),
		counter("inlay_query_coalesced_total", "Requests that waited on an identical query already running instead of running their own.", func(s query.Stats) int64 { return s.Coalesced }),
		counter("inlay_query_canceled_total", "Executions stopped because every waiter went away.", func(s query.Stats) int64 { return s.Canceled }),
		counter("inlay_query_shared_cache_hits_total", "Widget results answered from the shared (Redis) cache, computed on another replica.", func(s query.Stats) int64 { return s.SharedHits }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "inlay_query_in_flight", Help: "Executions running now."},
			func() float64 { return float64(stats().InFlight) }),
	)
}

// WatchAuditQueue exports the audit writer's queue depth (events waiting to be stored).
func (m *Metrics) WatchAuditQueue(depth func() int) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "inlay_audit_queue_depth", Help: "Audit events waiting to be written to the state store.",
	}, func() float64 { return float64(depth()) }))
}

// WatchSourceQueue exports one source's running and queued queries.
func (m *Metrics) WatchSourceQueue(source string, running, queued func() int) {
	labels := prometheus.Labels{"source": source}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "inlay_datasource_queries_running", Help: "Queries running on the source now.", ConstLabels: labels},
			func() float64 { return float64(running()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "inlay_datasource_queries_queued", Help: "Queries waiting for a slot on the source.", ConstLabels: labels},
			func() float64 { return float64(queued()) }),
	)
}

// Outcome names a query error for labels and span attributes.
func Outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, datasource.ErrBusy):
		return "busy"
	case errors.Is(err, datasource.ErrTimeout):
		return "timeout"
	case errors.Is(err, datasource.ErrCanceled):
		return "canceled"
	case errors.Is(err, datasource.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, datasource.ErrInvalidQuery):
		return "invalid_query"
	}
	return "error"
}
