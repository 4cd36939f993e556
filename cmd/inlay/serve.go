package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/inlay/inlay/internal/config"
	"github.com/inlay/inlay/internal/dashboard"
)

// projectFlags are the flags every project-reading command shares.
type projectFlags struct {
	project string
	addr    string
	// TLS flags (serve): override inlay.yaml's tls when given.
	tlsCert, tlsKey string
	tlsSelfSigned   bool
}

func (p *projectFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.project, "project", ".", "project folder holding inlay.yaml and dashboards/")
}

// loadProject reads and validates the project's config and dashboards, reporting every problem.
func loadProject(e *env, p projectFlags) (*config.Config, []*dashboard.Dashboard, error) {
	cfg, err := config.Load(p.project, e.getenv)
	if err != nil {
		return nil, nil, err
	}
	if p.addr != "" {
		cfg.SetListen(p.addr)
	}
	if p.tlsCert != "" || p.tlsKey != "" || p.tlsSelfSigned {
		cfg.SetTLS(config.TLSConfig{Cert: p.tlsCert, Key: p.tlsKey, SelfSigned: p.tlsSelfSigned})
	}
	var problems []string
	if err := cfg.Validate(); err != nil {
		problems = append(problems, err.Error())
	}
	dashboards, dprobs := dashboard.LoadDir(cfg.Dashboards)
	for _, pr := range dprobs {
		problems = append(problems, pr.String())
	}
	for _, d := range dashboards {
		for _, ds := range d.Datasets {
			src := ds.Source
			if src == "" {
				src = config.DefaultDataSource
			}
			if _, ok := cfg.DataSources[src]; !ok {
				problems = append(problems, fmt.Sprintf("%s: dataset %q uses data source %q, which inlay.yaml does not define", d.File, ds.Name, src))
			}
		}
	}
	for _, pr := range oauthProblems(cfg) {
		problems = append(problems, pr.Error())
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(e.stderr, p)
		}
		return nil, nil, fmt.Errorf("%d problem(s) in %s", len(problems), p.project)
	}
	return cfg, dashboards, nil
}

func runServe(ctx context.Context, e *env, args []string) (err error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var p projectFlags
	p.register(fs)
	fs.StringVar(&p.addr, "addr", "", "listen address HOST:PORT (overrides inlay.yaml)")
	fs.StringVar(&p.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM; with --tls-key)")
	fs.StringVar(&p.tlsKey, "tls-key", "", "the certificate's private key (PEM)")
	fs.BoolVar(&p.tlsSelfSigned, "tls-self-signed", false, "serve HTTPS with a self-signed certificate for 127.0.0.1 and localhost (kept in .inlay/tls)")
	logFormat := fs.String("log-format", "json", "json or text")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	logger, err := newLogger(e.stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	cfg, dashboards, err := loadProject(e, p)
	if err != nil {
		return err
	}
	master, err := masterKey(cfg, p.project, logger)
	if err != nil {
		return err
	}
	lc := &lifecycle{}
	defer func() { err = errors.Join(err, lc.closeWithin(closeTimeout)) }()
	store, err := openState(ctx, cfg)
	if err != nil {
		return err
	}
	lc.addCloser("state store", store)
	sources, err := superviseSources(ctx, cfg, logger)
	if err != nil {
		return err
	}
	registerSources(lc, sources)
	svc, err := newService(ctx, lc, cfg, master, store, sources, dashboards, logger)
	if err != nil {
		return err
	}
	reloadTask, stopReload := reloadOnSIGHUP(svc.reload, logger)
	defer stopReload()
	ln, url, err := listen(cfg.Listen)
	if err != nil {
		return err
	}
	tln, url, err := withTLS(e, ln, cfg.TLS, p.project)
	if err != nil {
		_ = ln.Close()
		return err
	}
	ln = tln
	logger.Info("serving", "url", url, "public_url", cfg.PublicURL, "dashboards", len(dashboards))
	fmt.Fprintf(e.stdout, "Inlay:      %s\n", url)
	return lc.run(ctx,
		func(ctx context.Context) error { return svc.maintain(ctx, logger) },
		reloadTask,
		func(ctx context.Context) error {
			return serveHTTPDraining(ctx, ln, svc.handler, logger, cfg.Server.ShutdownTimeout, svc.health.SetDraining)
		})
}
