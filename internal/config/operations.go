package config

import (
	"path/filepath"
	"time"
)

// Settings for running Inlay in production: request bounds and rate limits, shutdown, metrics and
// traces. They live in their own blocks of inlay.yaml (limits, server, telemetry) and in the
// data sources' own keys (max_concurrent_queries, max_queued_queries, allowed_directories,
// external_access).

// LimitsConfig bounds what one client may cost.
type LimitsConfig struct {
	// MaxRequestBytes bounds the body of an API request (default 1 MiB).
	MaxRequestBytes int64 `yaml:"max_request_bytes" json:"max_request_bytes"`
	// MaxFilterValues bounds the values of one filter in a query or export request (default 1000).
	MaxFilterValues int `yaml:"max_filter_values" json:"max_filter_values"`
	// RequestTimeout bounds a whole embed API request: compiling, binding, waiting for a query
	// slot and the engine (default: query.timeout).
	RequestTimeout time.Duration `yaml:"request_timeout" json:"request_timeout"`
	// TokenRate is the sustained rate of token requests (POST /oidc/v1/token and tokeninfo) per
	// service principal, per second and per replica; TokenBurst the burst allowed above it.
	// A rate of 0 turns the limit off.
	TokenRate  float64 `yaml:"token_rate" json:"token_rate"`
	TokenBurst int     `yaml:"token_burst" json:"token_burst"`
	// QueryRate is the sustained rate of embed API requests per embed token, per second and per
	// replica; QueryBurst the burst allowed above it. A rate of 0 turns the limit off.
	QueryRate  float64 `yaml:"query_rate" json:"query_rate"`
	QueryBurst int     `yaml:"query_burst" json:"query_burst"`
	// OAuthExchangeRate is the sustained rate of OAuth credential exchanges (POST
	// /__api__/v1/oauth/integrations/credentials) per content API key, per second and per
	// replica; OAuthExchangeBurst the burst allowed above it. A rate of 0 turns the limit off.
	OAuthExchangeRate  float64 `yaml:"oauth_exchange_rate" json:"oauth_exchange_rate"`
	OAuthExchangeBurst int     `yaml:"oauth_exchange_burst" json:"oauth_exchange_burst"`
}

// ServerConfig tunes the HTTP server.
type ServerConfig struct {
	// ShutdownTimeout is how long a stopping server waits for in-flight requests (default 25s,
	// inside Kubernetes' default 30 s grace period).
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout" json:"shutdown_timeout"`
}

// TelemetryConfig sets up metrics and traces.
type TelemetryConfig struct {
	// Metrics serves Prometheus metrics at /metrics (default true).
	Metrics *bool `yaml:"metrics" json:"metrics"`
	// OTLPEndpoint, when set, exports traces over OTLP/HTTP to this URL
	// (e.g. http://otel-collector:4318). Unset: no traces leave the process.
	OTLPEndpoint string `yaml:"otlp_endpoint" json:"otlp_endpoint"`
	// ServiceName names this service in traces (default "inlay").
	ServiceName string `yaml:"service_name" json:"service_name"`
}

// MetricsEnabled reports whether /metrics is served.
func (t TelemetryConfig) MetricsEnabled() bool { return t.Metrics == nil || *t.Metrics }

// Defaults of the operations settings.
const (
	DefaultMaxRequestBytes      = 1 << 20
	DefaultMaxFilterValues      = 1000
	DefaultShutdownTimeout      = 25 * time.Second
	DefaultTokenRate            = 50
	DefaultTokenBurst           = 200
	DefaultQueryRate            = 20
	DefaultQueryBurst           = 100
	DefaultOAuthExchangeRate    = 50
	DefaultOAuthExchangeBurst   = 200
	DefaultMaxQueuedQueries     = 256
	DefaultServiceName          = "inlay"
	maxConcurrentQueriesCeiling = 10_000
)

func defaultLimits() LimitsConfig {
	return LimitsConfig{
		MaxRequestBytes: DefaultMaxRequestBytes,
		MaxFilterValues: DefaultMaxFilterValues,
		TokenRate:       DefaultTokenRate,
		TokenBurst:      DefaultTokenBurst,
		QueryRate:       DefaultQueryRate,
		QueryBurst:      DefaultQueryBurst,

		OAuthExchangeRate:  DefaultOAuthExchangeRate,
		OAuthExchangeBurst: DefaultOAuthExchangeBurst,
	}
}

// EffectiveRequestTimeout is limits.request_timeout, or query.timeout when unset.
func (c *Config) EffectiveRequestTimeout() time.Duration {
	if c.Limits.RequestTimeout > 0 {
		return c.Limits.RequestTimeout
	}
	return c.Query.Timeout
}

// resolveOperationPaths makes DuckDB allowed_directories relative to the project folder.
func (c *Config) resolveOperationPaths(dir string) {
	for name, ds := range c.DataSources {
		for i, p := range ds.AllowedDirectories {
			if p != "" && !filepath.IsAbs(p) {
				ds.AllowedDirectories[i] = filepath.Join(dir, p)
			}
		}
		c.DataSources[name] = ds
	}
}

// validateOperations checks the operations settings; bad reports one problem.
func (c *Config) validateOperations(bad func(key, format string, args ...any)) {
	l := c.Limits
	if l.MaxRequestBytes < 1024 {
		bad("limits.max_request_bytes", "must be at least 1024, got %d", l.MaxRequestBytes)
	}
	if l.MaxFilterValues < 1 {
		bad("limits.max_filter_values", "must be at least 1, got %d", l.MaxFilterValues)
	}
	if l.RequestTimeout < 0 {
		bad("limits.request_timeout", "must not be negative (unset means query.timeout)")
	}
	if l.RequestTimeout > 0 && c.Query.Timeout > l.RequestTimeout {
		bad("limits.request_timeout", "%v is shorter than query.timeout (%v): every slow query would be cut by the request deadline first", l.RequestTimeout, c.Query.Timeout)
	}
	rate := func(key string, r float64, burstKey string, burst int) {
		if r < 0 {
			bad(key, "must not be negative (0 turns the limit off)")
		}
		if r > 0 && burst < 1 {
			bad(burstKey, "must be at least 1 when %s is set", key)
		}
	}
	rate("limits.token_rate", l.TokenRate, "limits.token_burst", l.TokenBurst)
	rate("limits.query_rate", l.QueryRate, "limits.query_burst", l.QueryBurst)
	rate("limits.oauth_exchange_rate", l.OAuthExchangeRate, "limits.oauth_exchange_burst", l.OAuthExchangeBurst)
	if c.Server.ShutdownTimeout <= 0 {
		bad("server.shutdown_timeout", "must be a positive duration, got %v", c.Server.ShutdownTimeout)
	}
	if e := c.Telemetry.OTLPEndpoint; e != "" {
		if err := checkBaseURL(e); err != nil {
			bad("telemetry.otlp_endpoint", "%v", err)
		}
	}
	for _, name := range sortedKeys(c.DataSources) {
		ds := c.DataSources[name]
		key := "data_sources." + name
		if ds.MaxConcurrentQueries < 0 || ds.MaxConcurrentQueries > maxConcurrentQueriesCeiling {
			bad(key+".max_concurrent_queries", "must be between 0 (the default) and %d", maxConcurrentQueriesCeiling)
		}
		if ds.MaxQueuedQueries < 0 {
			bad(key+".max_queued_queries", "must not be negative (0 means %d)", DefaultMaxQueuedQueries)
		}
		if ds.Type != TypeDuckDB {
			if len(ds.AllowedDirectories) > 0 {
				bad(key+".allowed_directories", "is for duckdb sources")
			}
			if ds.ExternalAccess {
				bad(key+".external_access", "is for duckdb sources")
			}
			continue
		}
		for i, p := range ds.AllowedDirectories {
			if p == "" {
				bad(key+".allowed_directories", "entry %d is empty", i+1)
			}
		}
		if ds.ExternalAccess && len(ds.AllowedDirectories) > 0 {
			bad(key+".allowed_directories", "has no effect with external_access: true (every file and URL is readable)")
		}
	}
}
