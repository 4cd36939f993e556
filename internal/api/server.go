// Package api is Inlay's HTTP surface: the Databricks-compatible token flow, the embed API the
// viewer calls, the viewer page itself, and the admin API. Handlers return errors; one adapter per
// error shape writes them.
package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/inlay/inlay/internal/audit"
	"github.com/inlay/inlay/internal/compile"
	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/looker"
	"github.com/inlay/inlay/internal/oauth"
	"github.com/inlay/inlay/internal/principal"
	"github.com/inlay/inlay/internal/query"
	"github.com/inlay/inlay/internal/secret"
	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/token"
)

// Options are the settings the API needs from Inlay's config.
type Options struct {
	// Issuer is Inlay's public base URL (the "iss" of its tokens).
	Issuer string
	// AllowedOrigins may frame the viewer and call the embed API from a browser.
	AllowedOrigins []string
	// DefaultCapabilities are granted to embed tokens whose tokeninfo call names none.
	DefaultCapabilities []string
	EmbedTTL            time.Duration
	MaxEmbedTTL         time.Duration
	ServiceTTL          time.Duration
	// AdminKey enables the admin API when non-empty.
	AdminKey string
	// MaxBodyBytes bounds request bodies (default 1 MiB).
	MaxBodyBytes int64
	// MaxFilterValues bounds the values of one filter in a request (default
	// DefaultMaxFilterValues); more is a 400 too_many_filter_values.
	MaxFilterValues int
	// RequestTimeout bounds the whole of an embed API request (compile, bind, queue and
	// engine); 0 means only the engine's per-query timeout applies.
	RequestTimeout time.Duration
	// OAuthSources maps every data source name to the OAuth integration its queries run with
	// ("" for none).
	OAuthSources map[string]string
}

// Deps are the services the API is built on.
type Deps struct {
	// Dashboards, when not nil, are compiled into the Engine's catalog by New. The API serves
	// the engine's current catalog, so a reload that publishes a new one (Engine.Publish) takes
	// effect without rebuilding the Server.
	Dashboards []*dashboard.Dashboard
	Engine     *query.Engine
	Principals *principal.Service
	Issuer     *token.Issuer
	Verifier   *token.Verifier
	Grants     *token.GrantSealer
	Keys       *token.KeyRing
	Store      storage.Store
	Audit      *audit.Writer
	Logger     *slog.Logger
	Now        func() time.Time
	// Reload serves POST /api/v1/admin/reload; nil disables it.
	Reload ReloadFunc
	// Health answers /readyz; nil means always ready.
	Health Readiness
	// Observer receives request, token and refusal events for metrics; nil records nothing.
	Observer Observer
	// Tracer traces requests and widget queries; nil traces nothing.
	Tracer trace.Tracer
	// TokenLimiter limits token requests per service principal, QueryLimiter embed API requests
	// per embed token; nil means no limit.
	TokenLimiter Limiter
	QueryLimiter Limiter
	// ExchangeLimiter limits OAuth credential exchanges per content API key; nil means no limit.
	ExchangeLimiter Limiter
	// Metrics serves GET /metrics when set.
	Metrics http.Handler
	// Secrets enables Looker-compatible embedding (docs/looker.md): its sessions' tokens are
	// keyed and its embed secrets sealed with them. nil leaves it off.
	Secrets *secret.Keys
	// OAuth brokers OAuth integrations (nil disables the integrations API).
	OAuth *oauth.Broker
}

// Server serves the HTTP API.
type Server struct {
	Deps
	opts   Options
	looker *looker.Service
	// exchange applies the token exchange's rules.
	exchange *token.Exchange
}

// New checks the options and builds a Server.
func New(opts Options, deps Deps) (*Server, error) {
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxFilterValues <= 0 {
		opts.MaxFilterValues = DefaultMaxFilterValues
	}
	if opts.EmbedTTL <= 0 || opts.ServiceTTL <= 0 || opts.MaxEmbedTTL < opts.EmbedTTL {
		return nil, fmt.Errorf("api: token lifetimes must be positive and embed_ttl ≤ max_embed_ttl")
	}
	// The key ring keeps a retired key published for its longest token: a lifetime beyond it
	// would fail every token request, so refuse to start instead.
	if deps.Keys != nil {
		if max := deps.Keys.MaxTokenTTL(); opts.ServiceTTL > max || opts.MaxEmbedTTL > max {
			return nil, fmt.Errorf("api: service_ttl (%v) and max_embed_ttl (%v) must be at most the key ring's token lifetime (%v)",
				opts.ServiceTTL, opts.MaxEmbedTTL, max)
		}
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Observer == nil {
		deps.Observer = nopObserver{}
	}
	if deps.Tracer == nil {
		deps.Tracer = noop.NewTracerProvider().Tracer("")
	}
	s := &Server{Deps: deps, opts: opts,
		exchange: &token.Exchange{Grants: deps.Grants, Redeemed: deps.Store, Policy: token.Policy{
			EmbedTTL: opts.EmbedTTL, MaxEmbedTTL: opts.MaxEmbedTTL, DefaultCapabilities: opts.DefaultCapabilities}}}
	if deps.Dashboards != nil {
		c, _, err := deps.Engine.Compile(deps.Dashboards)
		if err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
		deps.Engine.Publish(c)
	}
	if deps.Secrets != nil {
		lk, err := looker.New(deps.Store, deps.Secrets, deps.Now)
		if err != nil {
			return nil, err
		}
		s.looker = lk
	}
	return s, nil
}

// plan returns the current plan of dashboard id. A request takes it once and keeps it, so a
// reload while it runs does not change the dashboard under it.
func (s *Server) plan(id string) (*compile.Plan, bool) {
	return s.Engine.Catalog().Plan(id)
}

// dashboard returns the current definition of dashboard id.
func (s *Server) dashboard(id string) (*dashboard.Dashboard, bool) {
	p, ok := s.plan(id)
	if !ok {
		return nil, false
	}
	return p.Dashboard, true
}

// allowedOrigin reports whether origin may embed dashboard d (d may be nil for instance-wide).
func (s *Server) allowedOrigin(origin string, d *dashboard.Dashboard) bool {
	if origin == "" {
		return false
	}
	if slices.Contains(s.opts.AllowedOrigins, origin) {
		return true
	}
	return d != nil && slices.Contains(d.AllowedOrigins, origin)
}

// frameAncestors lists the origins that may frame dashboard d.
func (s *Server) frameAncestors(d *dashboard.Dashboard) []string {
	out := slices.Clone(s.opts.AllowedOrigins)
	for _, o := range d.AllowedOrigins {
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}
