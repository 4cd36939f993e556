package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/inlay/inlay/internal/loadtest"
)

// runLoadtest is `inlay loadtest`: replicas of this binary over a private PostgreSQL and Redis,
// mixed load, answers checked per viewer, faults, and a throughput report.
func runLoadtest(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var c loadtest.Config
	fs.IntVar(&c.Rows, "rows", 200_000, "demo sales rows")
	fs.IntVar(&c.Viewers, "viewers", 120, "distinct viewers (RLS values cycle through the six departments)")
	fs.IntVar(&c.Workers, "workers", 16, "concurrent clients")
	fs.DurationVar(&c.Phase, "phase", 10*time.Second, "length of each throughput phase (1, 2, 3 replicas; cached and uncached)")
	fs.Float64Var(&c.MintFrac, "mint", 0.1, "share of iterations that mint a token")
	fs.BoolVar(&c.Faults, "faults", true, "kill a replica, restart PostgreSQL and stop Redis during load")
	fs.DurationVar(&c.FaultFor, "fault-for", 24*time.Second, "length of the fault phase")
	fs.StringVar(&c.PGBin, "pg-bin", "", "folder of initdb and pg_ctl (default: found on PATH or under /usr/lib/postgresql)")
	dir := fs.String("dir", "", "work folder (default: a temporary one, removed afterwards)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	c.Exe = exe
	c.Env = loadtestReplicaEnv
	c.Dir = *dir
	if c.Dir == "" {
		if c.Dir, err = os.MkdirTemp("", "inlay-loadtest-"); err != nil {
			return err
		}
		defer os.RemoveAll(c.Dir)
	}
	c.Out, c.Log = e.stdout, e.stderr
	fmt.Fprintf(e.stdout, "Command: inlay loadtest %s\n\n", strings.Join(args, " "))
	res, err := loadtest.Run(ctx, c)
	if err != nil {
		return err
	}
	if len(res.Failures) > 0 {
		return errors.New("loadtest: checks failed (see the report)")
	}
	return nil
}

// loadtestReplicaEnv is added to the replicas' environment (tests set it to re-run the test
// binary as inlay).
var loadtestReplicaEnv []string
