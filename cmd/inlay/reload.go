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

// toDashboardProblems hands check's problems to the API: one Problem type (yamlpos), so they
// pass as they are.
func toDashboardProblems(ps []check.Problem) []dashboard.Problem { return ps }

// reloadOnSIGHUP catches SIGHUP from the moment it returns. Its task reloads the dashboards on
// every SIGHUP until ctx ends; stop releases the signal (also when the task never ran, because
// the start failed later).
func reloadOnSIGHUP(reload api.ReloadFunc, logger *slog.Logger) (task func(context.Context) error, stop func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	task = func(ctx context.Context) error {
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-sig:
				logger.InfoContext(ctx, "SIGHUP: reloading the dashboards")
				if _, _, err := reload(ctx); err != nil {
					logger.ErrorContext(ctx, "reload failed", "err", err)
				}
			}
		}
	}
	return task, func() { signal.Stop(sig) }
}
