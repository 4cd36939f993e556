package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/inlay/inlay/internal/api"
	"github.com/inlay/inlay/internal/config"
	"github.com/inlay/inlay/internal/principal"
	"github.com/inlay/inlay/internal/secret"
	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/token"
)

// adminState is a project's state store and key material, for the admin commands.
type adminState struct {
	cfg   *config.Config
	store storage.Store
	keys  *secret.Keys
}

func openAdmin(ctx context.Context, e *env, p projectFlags) (*adminState, error) {
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg, err := config.Load(p.project, e.getenv)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.State.Driver == config.StateMemory {
		return nil, fmt.Errorf("state.driver is memory: nothing persists between commands")
	}
	master, err := masterKey(cfg, p.project, logger)
	if err != nil {
		return nil, err
	}
	keys, err := secret.NewKeys(master)
	if err != nil {
		return nil, err
	}
	store, err := openState(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &adminState{cfg: cfg, store: store, keys: keys}, nil
}

func runPrincipal(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "usage: inlay principal create --name NAME [--json] | list [--json] | delete CLIENT_ID")
		return errUsage
	}
	fs := flag.NewFlagSet("principal "+args[0], flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var p projectFlags
	p.register(fs)
	name := fs.String("name", "", "a name for the principal (create)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	st, err := openAdmin(ctx, e, p)
	if err != nil {
		return err
	}
	defer st.store.Close()
	svc := principal.NewService(st.store, st.keys, time.Now)
	switch args[0] {
	case "create":
		if *name == "" {
			return fmt.Errorf("principal create: --name is required")
		}
		id, sec, err := svc.Create(ctx, *name)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(e.stdout).Encode(map[string]string{"client_id": id, "client_secret": sec, "name": *name})
		}
		fmt.Fprintf(e.stdout, "Client id:      %s\nClient secret:  %s\n\nThe secret is shown only now; Inlay keeps only a hash of it.\n", id, sec)
		return nil
	case "list":
		ps, err := svc.List(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			type item struct {
				ClientID  string    `json:"client_id"`
				Name      string    `json:"name"`
				CreatedAt time.Time `json:"created_at"`
			}
			out := make([]item, 0, len(ps))
			for _, p := range ps {
				out = append(out, item{p.ClientID, p.Name, p.CreatedAt.UTC()})
			}
			return json.NewEncoder(e.stdout).Encode(out)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLIENT ID\tNAME\tCREATED")
		for _, p := range ps {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", p.ClientID, p.Name, p.CreatedAt.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	case "delete":
		if fs.NArg() != 1 {
			return fmt.Errorf("principal delete: give one client id")
		}
		if err := svc.Delete(ctx, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "deleted %s\n", fs.Arg(0))
		return nil
	}
	return fmt.Errorf("principal: unknown subcommand %q", args[0])
}

func runAudit(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var p projectFlags
	p.register(fs)
	var f storage.AuditFilter
	fs.StringVar(&f.Kind, "kind", "", "token.minted or dashboard.query")
	fs.StringVar(&f.ViewerID, "viewer", "", "external viewer id")
	fs.StringVar(&f.DashboardID, "dashboard", "", "dashboard id")
	since := fs.Duration("since", 0, "only events newer than this (e.g. 24h)")
	fs.IntVar(&f.Limit, "limit", 100, "most events to show")
	asJSON := fs.Bool("json", false, "print JSON lines")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *since > 0 {
		f.Since = time.Now().Add(-*since)
	}
	st, err := openAdmin(ctx, e, p)
	if err != nil {
		return err
	}
	defer st.store.Close()
	events, err := st.store.ListAudit(ctx, f)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		for _, ev := range events {
			if err := enc.Encode(api.AuditJSON(ev)); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tKIND\tVIEWER\tDASHBOARD\tWIDGET\tMS\tROWS\tOUTCOME")
	for _, ev := range events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", ev.Time.UTC().Format(time.RFC3339), ev.Kind, ev.ViewerID,
			ev.DashboardID, ev.Widget, ev.DurationMS, ev.Rows, ev.Outcome)
	}
	return tw.Flush()
}

func runKeys(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "rotate" {
		fmt.Fprintln(e.stderr, "usage: inlay keys rotate [--project DIR]")
		return errUsage
	}
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var p projectFlags
	p.register(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	st, err := openAdmin(ctx, e, p)
	if err != nil {
		return err
	}
	defer st.store.Close()
	ring, err := token.NewKeyRing(ctx, st.store, st.keys, token.KeyRingOptions{
		RotateEvery: st.cfg.Tokens.KeyRotation, MaxTokenTTL: st.cfg.Tokens.LongestTTL()})
	if err != nil {
		return err
	}
	if err := ring.Rotate(ctx); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "rotated: new tokens are signed with a new key; the previous key stays published until its tokens expire.\n"+
		"A running `inlay serve` on this state store signs with the new key within %v (it reloads keys that often); restart it to switch at once.\n",
		keyRefreshEvery)
	if err := resealOAuth(ctx, e, st); err != nil {
		return err
	}
	return nil
}
