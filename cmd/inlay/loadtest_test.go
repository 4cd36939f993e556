package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// envRunAsInlay makes the test binary behave as the inlay command, so the load test can start
// replicas of the code under test without building it.
const envRunAsInlay = "INLAY_TEST_RUN_AS_INLAY"

func TestMain(m *testing.M) {
	if os.Getenv(envRunAsInlay) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestLoadtestShort is the CI version of `inlay loadtest`: three replicas over a private
// PostgreSQL and Redis, short phases, every answer checked, the faults injected. It asserts the
// checks, never timings.
func TestLoadtestShort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL, Redis and replicas: not in -short")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed (apt-get install redis-server)")
	}
	if _, err := exec.LookPath("initdb"); err != nil {
		if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(m) == 0 {
			t.Skip("PostgreSQL's initdb is not installed")
		}
	}
	loadtestReplicaEnv = []string{envRunAsInlay + "=1"}
	t.Cleanup(func() { loadtestReplicaEnv = nil })
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	err := run(ctx, []string{"loadtest", "--rows", "20000", "--viewers", "24", "--workers", "6",
		"--phase", "2s", "--fault-for", "12s", "--dir", filepath.Join(dir, "lt")}, os.Getenv, &out, &errb)
	t.Log(out.String())
	if err != nil {
		t.Fatalf("loadtest: %v\n%s", err, errb.String())
	}
	for _, want := range []string{"### cached load", "### uncached load", "### Faults during load", "All checks passed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}
