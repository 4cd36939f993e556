package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/inlay/inlay/internal/api"
	"github.com/inlay/inlay/internal/check"
	"github.com/inlay/inlay/internal/config"
	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/query"
)

// newReloader returns serve's reload: read the dashboards folder again, check it against the
// configuration the server runs with, compile every dashboard and publish the new plans in one
// atomic swap. With problems, nothing changes and the problems are returned.
func newReloader(cfg *config.Config, engine *query.Engine, logger *slog.Logger) api.ReloadFunc {
	var mu sync.Mutex // one reload at a time
	return func(ctx context.Context) (int, []dashboard.Problem, error) {
		mu.Lock()
		defer mu.Unlock()
		ds, problems := check.Dashboards(cfg)
		if len(problems) > 0 {
			logger.WarnContext(ctx, "reload refused: the dashboards have problems; still serving the previous ones", "problems", len(problems))
			for _, p := range problems {
				logger.WarnContext(ctx, "dashboard problem", "problem", p.String())
			}
			return engine.Catalog().Len(), toDashboardProblems(problems), nil
		}
		cat, planProblems, err := engine.Compile(ds)
		if err != nil {
			return 0, nil, fmt.Errorf("reload: %w", err)
		}
		for _, pp := range planProblems {
			logger.WarnContext(ctx, "widget cannot be compiled", "dashboard", pp.Dashboard.ID, "path", pp.Path, "err", pp.Err)
		}
		engine.Publish(cat)
		logger.InfoContext(ctx, "dashboards reloaded", "dashboards", cat.Len())
		return cat.Len(), nil, nil
	}
}

func toDashboardProblems(ps []check.Problem) []dashboard.Problem {
	out := make([]dashboard.Problem, len(ps))
	for i, p := range ps {
		out[i] = dashboard.Problem{File: p.File, Line: p.Line, Column: p.Column, Message: p.Message}
	}
	return out
}

// reloadOnSIGHUP reloads the dashboards on every SIGHUP until ctx ends. The signal is caught
// from the moment it returns.
func reloadOnSIGHUP(ctx context.Context, reload api.ReloadFunc, logger *slog.Logger) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	go func() {
		defer signal.Stop(sig)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				logger.InfoContext(ctx, "SIGHUP: reloading the dashboards")
				if _, _, err := reload(ctx); err != nil {
					logger.ErrorContext(ctx, "reload failed", "err", err)
				}
			}
		}
	}()
}
