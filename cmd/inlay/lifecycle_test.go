package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestLifecycleClosesNewestFirstAndReportsEveryFailure(t *testing.T) {
	var lc lifecycle
	var order []string
	for _, name := range []string{"store", "source", "audit"} {
		lc.add(name, func(context.Context) error {
			order = append(order, name)
			if name != "source" {
				return errors.New(name + " failed")
			}
			return nil
		})
	}
	err := lc.close(t.Context())
	if got := strings.Join(order, ","); got != "audit,source,store" {
		t.Errorf("closed in order %s, want audit,source,store", got)
	}
	for _, want := range []string{"closing audit: audit failed", "closing store: store failed"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("close error %v does not say %q", err, want)
		}
	}
	if err := lc.close(t.Context()); err != nil || len(order) != 3 {
		t.Errorf("a second close closed again (%v, %v)", err, order)
	}
}

func TestLifecycleRunStopsEveryTaskWhenOneFails(t *testing.T) {
	var lc lifecycle
	boom := errors.New("listener died")
	stopped := make(chan struct{})
	err := lc.run(t.Context(),
		func(ctx context.Context) error { <-ctx.Done(); close(stopped); return nil },
		func(context.Context) error { return boom })
	if !errors.Is(err, boom) {
		t.Errorf("run = %v, want %v", err, boom)
	}
	select {
	case <-stopped:
	default:
		t.Error("run returned before the other task stopped")
	}
	// Ending the context is a clean stop, not a failure.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := lc.run(ctx, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }); err != nil {
		t.Errorf("run after cancel = %v, want nil", err)
	}
}

// TestServeFailingHalfwayClosesWhatItOpened: serve opens the state store, a data source and the
// audit writer, then cannot listen (the port is taken). It must report that, and leave no
// goroutine behind (the audit writer's, the database pools').
func TestServeFailingHalfwayClosesWhatItOpened(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "inlay.yaml"), "data_sources:\n  default: {type: duckdb, path: w.duckdb}\n")
	write(t, filepath.Join(dir, "dashboards", "d.yaml"), `id: d
title: D
datasets:
  - {name: n, sql: SELECT 1 AS x}
widgets:
  - {name: w, type: counter, dataset: n, value: sum(x), layout: {x: 0, y: 0, w: 3, h: 2}}
`)
	getenv := func(string) string { return "" }

	var out, errb bytes.Buffer
	err = run(t.Context(), []string{"serve", "--project", dir, "--addr", taken.Addr().String()}, getenv, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("serve on a taken port = %v, want address already in use; stderr: %s", err, errb.String())
	}
	// Goroutines end asynchronously after Close returns: give them a generous while (the bound
	// only keeps a leak from hanging the suite), then show the ones left.
	for i := 0; ; i++ {
		left := serviceGoroutines()
		if len(left) == 0 {
			return
		}
		if i == 1000 {
			t.Fatalf("goroutines left after serve failed:\n%s", strings.Join(left, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// serviceGoroutines returns the stacks of running goroutines that a started service owns: its
// own code, the result cache's clean-up, database pools.
func serviceGoroutines() []string {
	buf := make([]byte, 4<<20)
	var out []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "TestServeFailingHalfwayClosesWhatItOpened") || strings.Contains(g, "testing.tRunner") && !strings.Contains(g, "inlay/internal") {
			continue
		}
		for _, owned := range []string{"github.com/inlay/inlay/internal/", "maypok86/otter", "database/sql.(*DB).connectionOpener"} {
			if strings.Contains(g, owned) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}
