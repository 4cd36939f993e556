// Command inlay serves embedded analytics dashboards. main only wires things together; each
// subcommand lives in its own file.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `inlay: embedded analytics dashboards, each viewer seeing only their rows.

Usage:
  inlay demo [--addr HOST:PORT] [--host-addr HOST:PORT] [--rows N] [--https]   sample data, dashboards and a host app
  inlay serve --project DIR [--addr HOST:PORT] [--tls-cert F --tls-key F | --tls-self-signed]   serve a project
  inlay check --project DIR [--data] [--json]                        every problem of config and dashboards, with file:line:col
  inlay dev --project DIR [--addr HOST:PORT]                          serve with live reload and a local preview page
  inlay principal create --name NAME [--json] | list | delete ID      service principals (--project DIR)
  inlay audit [--project DIR] [--kind K] [--viewer ID] [--dashboard ID] [--limit N] [--json]
  inlay keys rotate [--project DIR]                                   start signing with a new key
  inlay import databricks FILE.lvdash.json [--out DIR]                convert a Databricks AI/BI dashboard
  inlay loadtest [--phase D] [--workers N] [--faults=false]           3 replicas over PostgreSQL and Redis, with faults
  inlay embed-secret create [--json] | list | revoke ID               Looker embed secrets (--project DIR)
  inlay integration create --name N --template T [...] | list | delete N   OAuth integrations (--project DIR)
  inlay bench [--rows N]                                              the README's performance figures (built with -tags bench)

Run "inlay COMMAND -h" for a command's flags.
`

// errUsage marks errors whose message is enough (no stack of context needed).
var errUsage = errors.New("usage")

// exitCode is an error that ends the program with that status, printing nothing more: the
// command has already reported (inlay check: 1 when it found problems).
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		var ec exitCode
		switch {
		case errors.As(err, &ec):
			os.Exit(int(ec)) // the command has said what went wrong
		case errors.Is(err, errUsage):
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "inlay:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its environment passed in so tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	env := &env{getenv: getenv, stdout: stdout, stderr: stderr}
	switch args[0] {
	case "demo":
		return runDemo(ctx, env, args[1:])
	case "serve":
		return runServe(ctx, env, args[1:])
	case "check":
		return runCheck(ctx, env, args[1:])
	case "dev":
		return runDev(ctx, env, args[1:])
	case "principal":
		return runPrincipal(ctx, env, args[1:])
	case "audit":
		return runAudit(ctx, env, args[1:])
	case "bench":
		return runBench(ctx, env, args[1:])
	case "keys":
		return runKeys(ctx, env, args[1:])
	case "import":
		return runImport(ctx, env, args[1:])
	case "loadtest":
		return runLoadtest(ctx, env, args[1:])
	case "embed-secret":
		return runEmbedSecret(ctx, env, args[1:])
	case "integration":
		return runIntegration(ctx, env, args[1:])
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "inlay: unknown command %q\n\n%s", args[0], usage)
	return errUsage
}

// env is what every subcommand gets from the process.
type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}
