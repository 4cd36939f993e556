// Package api is Inlay's HTTP surface: the Databricks-compatible token flow, the embed API the
// viewer calls, the viewer page itself, and the admin API. Handlers return errors; one adapter per
// error shape writes them.
package api

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/inlay/inlay/internal/audit"
	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/oauth"
	"github.com/inlay/inlay/internal/principal"
	"github.com/inlay/inlay/internal/query"
	"github.com/inlay/inlay/internal/rls"
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
	// OAuthSources maps every data source name to the OAuth integration its queries run with
	// ("" for none).
	OAuthSources map[string]string
}

// Deps are the services the API is built on.
type Deps struct {
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
	// OAuth brokers OAuth integrations (nil disables the integrations API).
	OAuth *oauth.Broker
}

// Server serves the HTTP API.
type Server struct {
	Deps
	opts       Options
	dashboards map[string]*dashboard.Dashboard
	order      []string
	// usesExternalValue is true for dashboards with a dataset naming __aibi_external_value.
	usesExternalValue map[string]bool
	// exchange applies the token exchange's rules.
	exchange *token.Exchange
}

// New checks the options and builds a Server.
func New(opts Options, deps Deps) (*Server, error) {
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = 1 << 20
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
	s := &Server{Deps: deps, opts: opts, dashboards: map[string]*dashboard.Dashboard{}, usesExternalValue: map[string]bool{},
		exchange: &token.Exchange{Grants: deps.Grants, Policy: token.Policy{
			EmbedTTL: opts.EmbedTTL, MaxEmbedTTL: opts.MaxEmbedTTL, DefaultCapabilities: opts.DefaultCapabilities}}}
	for _, d := range deps.Dashboards {
		if _, dup := s.dashboards[d.ID]; dup {
			return nil, fmt.Errorf("api: two dashboards with id %q", d.ID)
		}
		s.dashboards[d.ID] = d
		s.usesExternalValue[d.ID] = usesExternalValue(d)
		s.order = append(s.order, d.ID)
	}
	slices.Sort(s.order)
	return s, nil
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

// usesExternalValue reports whether a dataset of d names __aibi_external_value.
func usesExternalValue(d *dashboard.Dashboard) bool {
	for _, ds := range d.Datasets {
		if _, n, err := rls.RewriteExternalValue(ds.SQL, func() string { return "NULL" }); err != nil || n > 0 {
			return true // a dataset the rewriter cannot read is treated as needing it: fail closed
		}
	}
	return false
}
