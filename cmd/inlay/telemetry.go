package main

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/trace"

	"github.com/inlay/inlay/internal/api"
	"github.com/inlay/inlay/internal/config"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/guard"
	"github.com/inlay/inlay/internal/ratelimit"
	"github.com/inlay/inlay/internal/telemetry"
)

// instruments is what the service observes itself with.
type instruments struct {
	metrics        *telemetry.Metrics // nil when telemetry.metrics is false
	tracer         trace.TracerProvider
	stopTracing    func(context.Context) error
	tokenLimiter   *ratelimit.Limiter // nil when off
	queryLimiter   *ratelimit.Limiter
	exchLimiter    *ratelimit.Limiter // OAuth credential exchanges per content API key
	observedSource map[string]datasource.Source
}

// newInstruments builds metrics, the tracer provider (OTLP only when configured) and the rate
// limiters, and wraps every source so that its queries are counted, timed and traced.
func newInstruments(ctx context.Context, cfg *config.Config, sources map[string]datasource.Source) (*instruments, error) {
	in := &instruments{observedSource: map[string]datasource.Source{}}
	if cfg.Telemetry.MetricsEnabled() {
		in.metrics = telemetry.NewMetrics()
	}
	name := cfg.Telemetry.ServiceName
	if name == "" {
		name = config.DefaultServiceName
	}
	tp, stop, err := telemetry.NewTracerProvider(ctx, telemetry.TracingConfig{OTLPEndpoint: cfg.Telemetry.OTLPEndpoint, ServiceName: name})
	if err != nil {
		return nil, err
	}
	in.tracer, in.stopTracing = tp, stop
	if l := cfg.Limits; l.TokenRate > 0 {
		in.tokenLimiter = ratelimit.New(l.TokenRate, l.TokenBurst, nil)
	}
	if l := cfg.Limits; l.QueryRate > 0 {
		in.queryLimiter = ratelimit.New(l.QueryRate, l.QueryBurst, nil)
	}
	if l := cfg.Limits; l.OAuthExchangeRate > 0 {
		in.exchLimiter = ratelimit.New(l.OAuthExchangeRate, l.OAuthExchangeBurst, nil)
	}
	for _, n := range sortedNames(sources) {
		src := sources[n]
		in.observedSource[n] = telemetry.ObserveSource(n, src, in.metrics, tp)
		if lim, ok := src.(*guard.Limited); ok && in.metrics != nil {
			in.metrics.WatchSourceQueue(n, lim.Running, lim.Queued)
		}
	}
	return in, nil
}

// The API takes interfaces: a nil pointer must become a nil interface, not a typed nil.

func (in *instruments) observer() api.Observer {
	if in.metrics == nil {
		return nil
	}
	return in.metrics
}

func (in *instruments) metricsHandler() http.Handler {
	if in.metrics == nil {
		return nil
	}
	return in.metrics.Handler()
}

func (in *instruments) tokenLimiterOrNil() api.Limiter {
	if in.tokenLimiter == nil {
		return nil
	}
	return in.tokenLimiter
}

func (in *instruments) exchangeLimiterOrNil() api.Limiter {
	if in.exchLimiter == nil {
		return nil
	}
	return in.exchLimiter
}

func (in *instruments) queryLimiterOrNil() api.Limiter {
	if in.queryLimiter == nil {
		return nil
	}
	return in.queryLimiter
}
