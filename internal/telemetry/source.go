package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/inlay/inlay/internal/datasource"
)

// TracerName is the instrumentation scope of Inlay's spans.
const TracerName = "github.com/inlay/inlay"

// Source counts, times and traces every query of a data source. The span names the source and
// the engine, and records rows, truncation and the outcome; never the SQL, its arguments, or the
// engine's error text (which can quote values).
type Source struct {
	datasource.Source
	name    string
	metrics *Metrics
	tracer  trace.Tracer
}

var _ datasource.Source = (*Source)(nil)

// ObserveSource wraps src. metrics and tp may be nil.
func ObserveSource(name string, src datasource.Source, metrics *Metrics, tp trace.TracerProvider) *Source {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return &Source{Source: src, name: name, metrics: metrics, tracer: tp.Tracer(TracerName)}
}

// Query runs q on the wrapped source inside a "datasource.query" span.
func (s *Source) Query(ctx context.Context, q datasource.Query) (*datasource.Result, error) {
	ctx, span := s.tracer.Start(ctx, "datasource.query", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("inlay.source", s.name),
			attribute.String("db.system.name", s.Dialect().Name()),
			attribute.Int("inlay.query.args", len(q.Args)),
		))
	defer span.End()
	start := time.Now()
	res, err := s.Source.Query(ctx, q)
	s.metrics.ObserveQuery(s.name, err, time.Since(start))
	outcome := Outcome(err)
	span.SetAttributes(attribute.String("inlay.outcome", outcome))
	if err != nil {
		span.SetStatus(codes.Error, outcome)
		return nil, err
	}
	span.SetAttributes(attribute.Int("inlay.rows", len(res.Rows)), attribute.Bool("inlay.truncated", res.Truncated))
	return res, nil
}

// Unwrap returns the wrapped source.
func (s *Source) Unwrap() datasource.Source { return s.Source }
