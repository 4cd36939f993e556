package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/inlay/inlay/internal/config"
	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/duckdb"
	"github.com/inlay/inlay/internal/demo"
	"github.com/inlay/inlay/internal/demo/dashboards"
	"github.com/inlay/inlay/internal/hostapp"
	"github.com/inlay/inlay/internal/secret"
	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/storage/memory"
	"github.com/inlay/inlay/internal/tlscert"
)

// trustingClient is an HTTP client that trusts the certificate in certPath (and nothing else).
func trustingClient(certPath string) (*http.Client, error) {
	pem, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no certificate", certPath)
	}
	return &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}, nil
}

// runDemo starts Inlay on sample data with no configuration at all, plus the seed-000 host
// application on its own origin that logs users in and embeds the sales dashboard.
func runDemo(ctx context.Context, e *env, args []string) (err error) {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	addr := fs.String("addr", config.DefaultListen, "where Inlay listens")
	hostAddr := fs.String("host-addr", "127.0.0.1:8471", "where the demo host application listens (empty: none)")
	rows := fs.Int("rows", demo.DefaultRows, "rows in the sample sales table")
	embedTTL := fs.Duration("embed-ttl", time.Hour, "lifetime of embed tokens (short values exercise refresh)")
	https := fs.Bool("https", false, "serve Inlay over HTTPS with a self-signed certificate for 127.0.0.1 and localhost (the Looker Embed SDK needs it); prints the certificate's path")
	oauthIssuer := fs.String("oauth-issuer", "", "an OpenID provider: the demo registers it as the \"Databricks\" integration and runs the sample data with each viewer's credentials of it (register <Inlay URL>/__oauth__/integrations/callback there)")
	oauthClientID := fs.String("oauth-client-id", "", "the provider's client id (with --oauth-issuer)")
	oauthSecretEnv := fs.String("oauth-client-secret-env", "", "environment variable holding the client secret (with --oauth-issuer)")
	logFormat := fs.String("log-format", "text", "json or text")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *rows < 1 {
		return fmt.Errorf("--rows must be positive")
	}
	logger, err := newLogger(e.stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}

	lc := &lifecycle{}
	defer func() { err = errors.Join(err, lc.closeWithin(closeTimeout)) }()
	ln, inlayURL, err := listen(*addr)
	if err != nil {
		return err
	}
	started := false // once serving, shutting down closes the listeners
	defer func() {
		if !started {
			_ = ln.Close()
		}
	}()
	cfg := config.Default(".")
	cfg.SetListen(ln.Addr().String())
	var inlayClient *http.Client
	if *https {
		cfg.SetTLS(config.TLSConfig{SelfSigned: true})
		tln, u, err := withTLS(e, ln, cfg.TLS, ".")
		if err != nil {
			return err
		}
		ln, inlayURL = tln, u
		// The host app's backend calls Inlay: it trusts the self-signed certificate.
		if inlayClient, err = trustingClient(filepath.Join(".inlay", "tls", tlscert.CertFile)); err != nil {
			return err
		}
	}
	cfg.State.Driver = config.StateMemory
	cfg.Tokens.EmbedTTL = *embedTTL
	if cfg.Tokens.MaxEmbedTTL < *embedTTL {
		cfg.Tokens.MaxEmbedTTL = *embedTTL
	}
	var hostLn net.Listener
	hostURL := ""
	if *hostAddr != "" {
		if hostLn, hostURL, err = listen(*hostAddr); err != nil {
			return err
		}
		defer func() {
			if !started {
				_ = hostLn.Close()
			}
		}()
		cfg.Embed.AllowedOrigins = []string{hostURL}
	}

	adminKey, err := secret.GenerateMasterKey()
	if err != nil {
		return err
	}
	cfg.AdminKey = config.NewSecret(fmt.Sprintf("%x", adminKey))
	if *oauthIssuer != "" {
		if err := demoOAuth(e, cfg, *oauthIssuer, *oauthClientID, *oauthSecretEnv); err != nil {
			return err
		}
	}
	src, dashes, err := sampleData(ctx, e, *rows)
	if err != nil {
		return err
	}
	lc.addCloser("sample database", src)
	svc, err := sampleService(ctx, lc, cfg, src, dashes, logger)
	if err != nil {
		return err
	}
	clientID, clientSecret, err := svc.principals.Create(ctx, "demo host app")
	if err != nil {
		return err
	}
	embedSecretInfo, embedSecret, err := svc.looker.CreateSecret(ctx)
	if err != nil {
		return err
	}

	fmt.Fprintf(e.stdout, "Inlay:      %s\n", inlayURL)
	if hostURL != "" {
		fmt.Fprintf(e.stdout, "Host app:   %s   (log in as alice or bob)\n", hostURL)
		if *https {
			fmt.Fprintf(e.stdout, "Looker page: %s/looker   (the same dashboard with the unmodified @looker/embed-sdk)\n", hostURL)
		} else {
			fmt.Fprintf(e.stdout, "Looker page: with --https (make demo DEMO_FLAGS=--https): the Looker Embed SDK needs HTTPS\n")
		}
	}
	fmt.Fprintf(e.stdout, "Client id:      %s\nClient secret:  %s\nAdmin key:      %s\n", clientID, clientSecret, cfg.AdminKey.Reveal())
	fmt.Fprintf(e.stdout, "Embed secret:   %s   (Looker signed URLs; id %s)\n", embedSecret, embedSecretInfo.ID)
	fmt.Fprintf(e.stdout, "Looker users:   ")
	for i, u := range demo.LookerUsers {
		if i > 0 {
			fmt.Fprint(e.stdout, ", ")
		}
		fmt.Fprintf(e.stdout, "%s (%v; %v)", u.ExternalUserID, u.UserAttributes["external_value"], u.AccessFilters["operations"]["regions"])
	}
	fmt.Fprintln(e.stdout)
	fmt.Fprintf(e.stdout, "Dashboards:     ")
	for i, d := range dashes {
		if i > 0 {
			fmt.Fprint(e.stdout, ", ")
		}
		fmt.Fprint(e.stdout, d.ID)
	}
	fmt.Fprintln(e.stdout)

	tasks := []func(context.Context) error{
		func(ctx context.Context) error { return svc.maintain(ctx, logger) },
		func(ctx context.Context) error { return serveHTTP(ctx, ln, svc.handler, logger) },
	}
	if hostURL != "" {
		var lookerMode *hostapp.LookerConfig
		if *https { // the Looker Embed SDK only speaks HTTPS
			if lookerMode, err = demoLookerMode(inlayURL, hostURL, embedSecret); err != nil {
				return err
			}
		}
		app, err := hostapp.New(hostapp.Config{InlayURL: inlayURL, ClientID: clientID, ClientSecret: clientSecret,
			DashboardID: "sales", Logger: logger, HTTPClient: inlayClient, Looker: lookerMode})
		if err != nil {
			return err
		}
		tasks = append(tasks, func(ctx context.Context) error { return serveHTTP(ctx, hostLn, app.Handler(), logger) })
	}
	started = true
	return lc.run(ctx, tasks...)
}

// sampleData generates the sample table in a new in-memory DuckDB and loads the sample
// dashboards.
func sampleData(ctx context.Context, e *env, rows int) (*duckdb.Source, []*dashboard.Dashboard, error) {
	start := time.Now()
	src, err := duckdb.Open(ctx, duckdb.Config{})
	if err != nil {
		return nil, nil, err
	}
	if err := demo.Generate(ctx, src.Exec, rows, time.Now()); err != nil {
		_ = src.Close()
		return nil, nil, fmt.Errorf("generating sample data: %w", err)
	}
	fmt.Fprintf(e.stderr, "generated %d sample rows in %s\n", rows, time.Since(start).Round(time.Millisecond))
	dashes, problems := dashboard.LoadFS(dashboards.FS, ".")
	if len(problems) > 0 {
		_ = src.Close()
		return nil, nil, fmt.Errorf("sample dashboards: %v", problems)
	}
	return src, dashes, nil
}

// sampleService builds Inlay over the sample data (which the caller closes) with a fresh master
// key and an in-memory state store, registering what it starts with lc.
func sampleService(ctx context.Context, lc *lifecycle, cfg *config.Config, src *duckdb.Source, dashes []*dashboard.Dashboard, logger *slog.Logger) (*service, error) {
	return sampleServiceStore(ctx, lc, cfg, src, dashes, logger, memory.New())
}

// sampleServiceStore is sampleService over the given state store (closed with lc).
func sampleServiceStore(ctx context.Context, lc *lifecycle, cfg *config.Config, src *duckdb.Source, dashes []*dashboard.Dashboard, logger *slog.Logger, store storage.Store) (*service, error) {
	master, err := secret.GenerateMasterKey()
	if err != nil {
		return nil, err
	}
	lc.addCloser("state store", store)
	return newService(ctx, lc, cfg, master, store, map[string]datasource.Source{config.DefaultDataSource: src}, dashes, logger)
}
