package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/inlay/inlay/internal/check"
	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/preview"
	"github.com/inlay/inlay/internal/rls"
	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/token"
	"github.com/inlay/inlay/internal/watch"
)

// runDev serves a project for its author: on loopback only, with the preview page at /dev/,
// checking the project against the data on every save and swapping in the new plans when it is
// clean.
func runDev(ctx context.Context, e *env, args []string) (err error) {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var p projectFlags
	p.register(fs)
	fs.StringVar(&p.addr, "addr", "127.0.0.1:8470", "listen address: loopback only (127.0.0.1, ::1, localhost)")
	var cf checkFlags
	cf.register(fs)
	logFormat := fs.String("log-format", "text", "json or text")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if !preview.IsLoopbackHost(p.addr) {
		fmt.Fprintf(e.stderr, "inlay dev: --addr %s is not a loopback address: the preview lets anyone who reaches it view as any viewer, so dev listens on loopback only (use inlay serve to serve others)\n", p.addr)
		return errUsage
	}
	logger, err := newLogger(e.stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}

	proj, problems := check.Static(p.project, e.getenv)
	var configProblems []check.Problem
	for _, pr := range problems {
		if pr.Code == check.CodeConfig {
			configProblems = append(configProblems, pr)
		}
	}
	if len(configProblems) > 0 {
		for _, pr := range configProblems {
			fmt.Fprintln(e.stderr, pr.String())
		}
		fmt.Fprintln(e.stderr, "inlay dev: fix inlay.yaml and start again (dashboards are reloaded as you edit; inlay.yaml is read at start)")
		return exitCode(1)
	}
	cfg := proj.Config
	ln, url, err := listen(p.addr)
	if err != nil {
		return err
	}
	defer ln.Close() // if the start fails before serving; serving closes it too
	cfg.SetListen(ln.Addr().String())
	// The preview page frames the viewer from this origin, reached by IP or as localhost.
	cfg.Embed.AllowedOrigins = append(cfg.Embed.AllowedOrigins, url)
	if _, port, err := net.SplitHostPort(ln.Addr().String()); err == nil {
		cfg.Embed.AllowedOrigins = append(cfg.Embed.AllowedOrigins, "http://localhost:"+port)
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
	sources, openProblems := openEachSource(ctx, cfg)
	registerSources(lc, sources)
	svc, err := newService(ctx, lc, cfg, master, store, sources, nil, logger)
	if err != nil {
		return err
	}

	issuer := token.NewIssuer(svc.keys, cfg.PublicURL)
	pv := preview.New(preview.Options{
		Dashboards: func() []preview.Dashboard {
			cat := svc.engine.Catalog()
			out := make([]preview.Dashboard, 0, cat.Len())
			for _, id := range cat.IDs() {
				pl, _ := cat.Plan(id)
				out = append(out, preview.Dashboard{ID: id, Title: pl.Dashboard.Title})
			}
			return out
		},
		// A real embed token, issued and verified by the same code as the token endpoint's.
		Mint: func(ctx context.Context, id string, v rls.Viewer) (string, int64, error) {
			if _, ok := svc.engine.Catalog().Plan(id); !ok {
				return "", 0, preview.UnknownDashboard(id)
			}
			raw, exp, err := issuer.Issue(token.Claims{Kind: token.KindEmbed, Subject: "inlay-dev", Scope: "dashboards.embed",
				DashboardID: id, ViewerID: v.ID, ExternalValue: v.ExternalValue, Attributes: v.Attributes,
				Capabilities: []string{"download"}}, cfg.Tokens.EmbedTTL)
			if err != nil {
				return "", 0, err
			}
			svc.audit.Record(storage.AuditEvent{Time: time.Now(), Kind: storage.AuditTokenMinted, PrincipalID: "inlay-dev",
				ViewerID: v.ID, DashboardID: id, Outcome: "ok", Detail: "dev preview"})
			return raw, int64(time.Until(exp).Round(time.Second) / time.Second), nil
		},
	})

	// recheck checks the whole project against the data and, when it is clean, publishes the
	// new plans. At start, dashboards whose files have no problem are published anyway, so the
	// preview has something to show under the problems.
	recheck := func(ctx context.Context, first bool) {
		proj, problems := check.Static(p.project, e.getenv)
		problems = append(problems, openProblems...)
		problems = append(problems, check.Data(ctx, proj.Dashboards, sources, check.SampleViewer(proj.Dashboards, cf.externalValue, cf.attrs))...)
		check.Sort(problems)
		if len(problems) == 0 || first {
			publish := proj.Dashboards
			if len(problems) > 0 {
				publish = withoutProblems(proj.Dashboards, problems)
			}
			cat, _, err := svc.engine.Compile(publish)
			if err != nil {
				problems = append(problems, check.Problem{Code: check.CodeDefinition, Message: err.Error()})
			} else {
				svc.engine.Publish(cat)
			}
		}
		pv.Publish(problems)
		if len(problems) == 0 {
			logger.Info("project checked: no problems; serving the new version", "dashboards", len(proj.Dashboards))
			return
		}
		logger.Warn("project checked: problems (the preview shows them; the last good version is served)", "problems", len(problems))
		for _, pr := range problems {
			logger.Warn(pr.String())
		}
	}
	recheck(ctx, true)
	dirs := []string{p.project}
	if st, err := os.Stat(cfg.Dashboards); err == nil && st.IsDir() {
		dirs = append(dirs, cfg.Dashboards)
	}
	watcher, err := watch.New(dirs)
	if err != nil {
		return err
	}
	lc.addCloser("file watcher", watcher)

	mux := http.NewServeMux()
	mux.Handle("/dev/", pv.Handler())
	mux.Handle("GET /{$}", http.RedirectHandler("/dev/", http.StatusFound))
	mux.Handle("/", svc.handler)
	fmt.Fprintf(e.stdout, "Inlay:      %s\n", url)
	fmt.Fprintf(e.stdout, "Preview:    %s/dev/\n", url)
	fmt.Fprintf(e.stdout, "Watching:   %s\n", strings.Join(dirs, ", "))
	return lc.run(ctx,
		func(ctx context.Context) error { return svc.maintain(ctx, logger) },
		func(ctx context.Context) error { return serveHTTP(ctx, ln, mux, logger) },
		func(ctx context.Context) error {
			return watcher.Run(ctx, 150*time.Millisecond, func() { recheck(ctx, false) })
		})
}

// withoutProblems keeps the dashboards whose files have no problem.
func withoutProblems(ds []*dashboard.Dashboard, problems []check.Problem) []*dashboard.Dashboard {
	bad := map[string]bool{}
	for _, p := range problems {
		bad[p.File] = true
	}
	out := []*dashboard.Dashboard{}
	for _, d := range ds {
		if !bad[d.File] {
			out = append(out, d)
		}
	}
	return out
}
