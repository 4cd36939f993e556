package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/inlay/inlay/internal/api"
	"github.com/inlay/inlay/internal/audit"
	"github.com/inlay/inlay/internal/config"
	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/databricks"
	"github.com/inlay/inlay/internal/datasource/duckdb"
	"github.com/inlay/inlay/internal/datasource/postgres"
	"github.com/inlay/inlay/internal/health"
	"github.com/inlay/inlay/internal/looker"
	"github.com/inlay/inlay/internal/principal"
	"github.com/inlay/inlay/internal/query"
	"github.com/inlay/inlay/internal/rcache"
	"github.com/inlay/inlay/internal/secret"
	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/storage/memory"
	pgstate "github.com/inlay/inlay/internal/storage/postgres"
	"github.com/inlay/inlay/internal/storage/sqlite"
	"github.com/inlay/inlay/internal/telemetry"
	"github.com/inlay/inlay/internal/token"
)

// sourceOpeners names every data-source implementation: the only place concrete engines appear.
var sourceOpeners = map[string]func(context.Context, config.DataSourceConfig) (datasource.Source, error){
	config.TypeDuckDB: func(ctx context.Context, c config.DataSourceConfig) (datasource.Source, error) {
		return duckdb.Open(ctx, duckdb.Config{Path: c.Path, InitSQL: c.InitSQL, Dir: c.Dir,
			Sandbox: !c.ExternalAccess, AllowedDirectories: c.AllowedDirectories})
	},
	config.TypeDatabricks: func(ctx context.Context, c config.DataSourceConfig) (datasource.Source, error) {
		return databricks.Open(ctx, databricks.Config{Host: c.Host, HTTPPath: c.HTTPPath, Catalog: c.Catalog, Schema: c.Schema,
			AccessToken: c.Token.Reveal(), RequireCredential: c.OAuthIntegration != "", MaxConnsPerOwner: c.MaxConns})
	},
	config.TypePostgres: func(ctx context.Context, c config.DataSourceConfig) (datasource.Source, error) {
		return postgres.Open(ctx, postgres.Config{DSN: c.DSN.Reveal(), MaxConns: int32(c.MaxConns)})
	},
}

// stateOpeners names every state-store implementation.
var stateOpeners = map[string]func(context.Context, config.StateConfig) (storage.Store, error){
	config.StateSQLite: func(ctx context.Context, c config.StateConfig) (storage.Store, error) {
		if err := os.MkdirAll(filepath.Dir(c.Path), 0o700); err != nil {
			return nil, err
		}
		return sqlite.Open(ctx, c.Path)
	},
	config.StateMemory: func(ctx context.Context, c config.StateConfig) (storage.Store, error) {
		return memory.New(), nil
	},
	config.StatePostgres: func(ctx context.Context, c config.StateConfig) (storage.Store, error) {
		return pgstate.Open(ctx, pgstate.Config{DSN: c.DSN.Reveal(), MaxConns: int32(c.MaxConns)})
	},
}

// openSources opens every configured data source; on failure it closes the ones opened.
func openSources(ctx context.Context, cfg *config.Config) (map[string]datasource.Source, error) {
	out := map[string]datasource.Source{}
	for name, dc := range cfg.DataSources {
		open, ok := sourceOpeners[dc.Type]
		if !ok {
			closeSources(out)
			return nil, fmt.Errorf("data source %q: unknown type %q", name, dc.Type)
		}
		src, err := open(ctx, dc)
		if err != nil {
			closeSources(out)
			return nil, fmt.Errorf("data source %q: %w", name, err)
		}
		out[name] = src
	}
	return out, nil
}

func closeSources(m map[string]datasource.Source) {
	for _, s := range m {
		_ = s.Close()
	}
}

func openState(ctx context.Context, cfg *config.Config) (storage.Store, error) {
	open, ok := stateOpeners[cfg.State.Driver]
	if !ok {
		return nil, fmt.Errorf("state: unknown driver %q", cfg.State.Driver)
	}
	return open(ctx, cfg.State)
}

// masterKey returns the configured master key or, when none is configured, the one kept in the
// project's .inlay/master.key (created on first use), so a local project works out of the box.
func masterKey(cfg *config.Config, projectDir string, logger *slog.Logger) ([]byte, error) {
	if cfg.Secret.IsSet() {
		return cfg.MasterKey()
	}
	path := filepath.Join(projectDir, ".inlay", "master.key")
	if b, err := os.ReadFile(path); err == nil {
		return b, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k, err := secret.GenerateMasterKey()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, k, 0o600); err != nil {
		return nil, err
	}
	logger.Warn("no secret configured: generated a master key file; configure `secret` for production", "path", path)
	return k, nil
}

// service is a running Inlay: everything the HTTP API needs. What it starts is closed by the
// lifecycle it was built with.
type service struct {
	handler    http.Handler
	engine     *query.Engine
	principals *principal.Service
	audit      *audit.Writer
	keys       *token.KeyRing
	store      storage.Store
	sources    map[string]datasource.Source
	shared     *rcache.Cache // nil without cache.redis
	// reload re-reads the dashboards and swaps in their plans (SIGHUP, the admin API, dev).
	reload api.ReloadFunc
	health *health.Checker
	// looker manages embed secrets (the demo makes one); the API builds its own over the same
	// store and keys.
	looker *looker.Service
}

// newService builds the API over an opened store and data sources (which the caller registered
// with lc). What it starts itself (the audit writer) it registers with lc at once, so a failure
// later in the start is cleaned up by closing lc.
func newService(ctx context.Context, lc *lifecycle, cfg *config.Config, master []byte, store storage.Store,
	sources map[string]datasource.Source, dashboards []*dashboard.Dashboard, logger *slog.Logger) (*service, error) {
	keys, err := secret.NewKeys(master)
	if err != nil {
		return nil, err
	}
	ring, err := token.NewKeyRing(ctx, store, keys, token.KeyRingOptions{
		RotateEvery: cfg.Tokens.KeyRotation, MaxTokenTTL: cfg.Tokens.LongestTTL()})
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	inst, err := newInstruments(ctx, cfg, sources)
	if err != nil {
		return nil, err
	}
	lc.add("tracing", inst.stopTracing)
	sources = inst.observedSource
	shared, err := openSharedCache(cfg, keys, logger)
	if err != nil {
		return nil, err
	}
	var sharedCache query.SharedCache // a nil *rcache.Cache must stay a nil interface
	if shared != nil {
		sharedCache = shared
		lc.addCloser("shared cache", shared)
	}
	broker, oauthSources, err := newBroker(ctx, cfg, store, keys, logger)
	if err != nil {
		return nil, err
	}
	engine := query.New(sources, query.Options{
		Timeout: cfg.Query.Timeout, MaxRows: cfg.Query.MaxRows, ExportMaxRows: cfg.Query.ExportMaxRows,
		CacheTTL: cfg.Query.CacheTTL, CacheMaxBytes: cfg.Query.CacheMaxBytes, Shared: sharedCache,
		Credentials: broker.QueryCredentials(oauthSources), CredentialedSources: credentialed(oauthSources)})
	lc.addCloser("query engine", engine)
	principals := principal.NewService(store, keys, time.Now)
	aw := audit.NewWriter(store, logger, audit.Options{})
	lc.add("audit writer", aw.Close)
	reload := newReloader(cfg, engine, logger)
	checker := health.New(store, healthSources(sources), 0)
	srv, err := api.New(api.Options{
		MaxBodyBytes:        cfg.Limits.MaxRequestBytes,
		MaxFilterValues:     cfg.Limits.MaxFilterValues,
		RequestTimeout:      cfg.EffectiveRequestTimeout(),
		Issuer:              cfg.PublicURL,
		AllowedOrigins:      cfg.Embed.AllowedOrigins,
		DefaultCapabilities: []string{"download"},
		EmbedTTL:            cfg.Tokens.EmbedTTL,
		MaxEmbedTTL:         cfg.Tokens.MaxEmbedTTL,
		ServiceTTL:          cfg.Tokens.ServiceTTL,
		AdminKey:            cfg.AdminKey.Reveal(),
		OAuthSources:        oauthSources,
	}, api.Deps{
		Dashboards:   dashboards,
		Engine:       engine,
		Principals:   principals,
		Issuer:       token.NewIssuer(ring, cfg.PublicURL),
		Verifier:     token.NewVerifier(ring, cfg.PublicURL, 30*time.Second),
		Grants:       token.NewGrantSealer(keys, nil),
		Keys:         ring,
		Store:        store,
		Audit:        aw,
		Logger:       logger,
		Health:       checker,
		Observer:     inst.observer(),
		Tracer:       inst.tracer.Tracer(telemetry.TracerName),
		TokenLimiter: inst.tokenLimiterOrNil(),
		QueryLimiter: inst.queryLimiterOrNil(),
		Metrics:      inst.metricsHandler(),
		Reload:       reload,
		Secrets:      keys,
		OAuth:        broker,

		ExchangeLimiter: inst.exchangeLimiterOrNil(),
	})
	if err != nil {
		return nil, err
	}
	lk, err := looker.New(store, keys, time.Now)
	if err != nil {
		return nil, err
	}
	if inst.metrics != nil {
		inst.metrics.WatchEngine(engine.Stats)
		inst.metrics.WatchAuditQueue(aw.Queued)
	}
	return &service{handler: inst.metrics.InFlight(srv.Handler()), engine: engine, principals: principals, audit: aw, keys: ring, store: store, sources: sources, health: checker, reload: reload, looker: lk, shared: shared}, nil
}

// keyRefreshEvery is how often a running server reloads its signing keys from the state store:
// how long another replica's rotation, or `inlay keys rotate`, takes to reach its signing.
const keyRefreshEvery = time.Minute

// maintain rotates signing keys on schedule and drops keys whose tokens have all expired. It
// runs every keyRefreshEvery so that replicas sharing a store pick up another replica's rotation quickly.
func (s *service) maintain(ctx context.Context, logger *slog.Logger) error {
	t := time.NewTicker(keyRefreshEvery)
	defer t.Stop()
	for {
		if err := s.keys.MaybeRotate(ctx); err != nil {
			logger.Error("key rotation", "err", err)
		}
		if _, err := s.store.DeleteExpiredSigningKeys(ctx, time.Now()); err != nil {
			logger.Error("expired key clean-up", "err", err)
		}
		// Expired records (used tokeninfo grants, nonces, one-time tokens) are invisible already;
		// this only reclaims their space.
		if _, err := s.store.DeleteExpiredRecords(ctx, time.Now()); err != nil {
			logger.Error("expired record clean-up", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// registerSources registers every source of m with lc.
func registerSources(lc *lifecycle, m map[string]datasource.Source) {
	for _, name := range slices.Sorted(maps.Keys(m)) {
		lc.addCloser("data source "+name, m[name])
	}
}

// serveHTTP serves h on ln until ctx ends, then shuts down gracefully.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	return serveHTTPDraining(ctx, ln, h, logger, 10*time.Second, nil)
}

// serveHTTPDraining serves h on ln until ctx ends. Then it calls drain (readiness turns 503, so
// a load balancer stops sending requests), stops accepting connections, and waits up to
// shutdownTimeout for the requests in flight to finish; what is still running after that is cut.
func serveHTTPDraining(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger, shutdownTimeout time.Duration, drain func()) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if drain != nil {
		drain()
	}
	logger.Info("shutting down: draining requests in flight", "timeout", shutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: requests still running after %v were cut: %w", shutdownTimeout, err)
	}
	return nil
}

// newLogger logs JSON, or text when asked (a terminal).
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return slog.New(slog.NewJSONHandler(w, opts)), nil
}

func listen(addr string) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	return ln, "http://" + ln.Addr().String(), nil
}
