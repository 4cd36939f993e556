package config

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestOperationsSettings(t *testing.T) {
	dir := writeProject(t, `data_sources:
  default:
    type: duckdb
    allowed_directories: [data, /srv/shared]
    max_concurrent_queries: 4
    max_queued_queries: 10
limits:
  max_request_bytes: 65536
  max_filter_values: 50
  request_timeout: 45s
  token_rate: 2.5
  token_burst: 5
  query_rate: 0
  oauth_exchange_rate: 3
  oauth_exchange_burst: 7
server:
  shutdown_timeout: 5s
telemetry:
  metrics: false
  otlp_endpoint: http://collector:4318
`)
	c, err := Load(dir, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	ds := c.DataSources["default"]
	if want := []string{filepath.Join(dir, "data"), "/srv/shared"}; !reflect.DeepEqual(ds.AllowedDirectories, want) {
		t.Errorf("allowed_directories %v, want %v (relative to the project)", ds.AllowedDirectories, want)
	}
	if ds.MaxConcurrentQueries != 4 || ds.MaxQueuedQueries != 10 || ds.ExternalAccess {
		t.Errorf("data source %+v", ds)
	}
	want := LimitsConfig{MaxRequestBytes: 65536, MaxFilterValues: 50, RequestTimeout: 45 * time.Second, TokenRate: 2.5, TokenBurst: 5, QueryRate: 0, QueryBurst: DefaultQueryBurst,
		OAuthExchangeRate: 3, OAuthExchangeBurst: 7}
	if c.Limits != want {
		t.Errorf("limits %+v, want %+v", c.Limits, want)
	}
	if c.Server.ShutdownTimeout != 5*time.Second || c.Telemetry.MetricsEnabled() || c.Telemetry.OTLPEndpoint != "http://collector:4318" {
		t.Errorf("server %+v telemetry %+v", c.Server, c.Telemetry)
	}
}

func TestOperationsDefaults(t *testing.T) {
	c := Default(t.TempDir())
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Limits.MaxFilterValues != 1000 || c.Limits.MaxRequestBytes != 1<<20 || c.EffectiveRequestTimeout() != c.Query.Timeout ||
		c.Limits.OAuthExchangeRate != DefaultOAuthExchangeRate || c.Limits.OAuthExchangeBurst != DefaultOAuthExchangeBurst {
		t.Errorf("limits %+v", c.Limits)
	}
	if !c.Telemetry.MetricsEnabled() || c.Telemetry.OTLPEndpoint != "" || c.Server.ShutdownTimeout != DefaultShutdownTimeout {
		t.Errorf("server %+v telemetry %+v", c.Server, c.Telemetry)
	}
}

func TestOperationsValidation(t *testing.T) {
	c, err := Load(writeProject(t, `data_sources:
  pg:
    type: postgres
    dsn: postgres://x@127.0.0.1/db
    allowed_directories: [data]
    max_concurrent_queries: -1
  local:
    type: duckdb
    external_access: true
    allowed_directories: [data]
    max_queued_queries: -2
limits:
  max_request_bytes: 10
  max_filter_values: 0
  request_timeout: 10s
  token_rate: -1
  query_rate: 5
  query_burst: 0
  oauth_exchange_rate: -2
server:
  shutdown_timeout: 0s
telemetry:
  otlp_endpoint: collector:4318
`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, p := range problemsOf(t, c.Validate()) {
		keys = append(keys, p.Key)
		if p.Line == 0 {
			t.Errorf("%s: no line", p)
		}
	}
	want := []string{
		"limits.max_request_bytes", "limits.max_filter_values", "limits.request_timeout",
		"limits.token_rate", "limits.query_burst", "limits.oauth_exchange_rate", "server.shutdown_timeout", "telemetry.otlp_endpoint",
		"data_sources.local.max_queued_queries", "data_sources.local.allowed_directories",
		"data_sources.pg.max_concurrent_queries", "data_sources.pg.allowed_directories",
	}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("problem keys\n got %v\nwant %v", keys, want)
	}
}
