package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/inlay/inlay/internal/looker"
)

// runEmbedSecret manages the embed secrets Looker signed URLs are verified with.
func runEmbedSecret(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "usage: inlay embed-secret create [--json] | list [--json] | revoke ID   (--project DIR)")
		return errUsage
	}
	fs := flag.NewFlagSet("embed-secret "+args[0], flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var p projectFlags
	p.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	st, err := openAdmin(ctx, e, p)
	if err != nil {
		return err
	}
	defer st.store.Close()
	svc, err := looker.New(st.store, st.keys, time.Now)
	if err != nil {
		return err
	}
	switch args[0] {
	case "create":
		es, value, err := svc.CreateSecret(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(e.stdout).Encode(map[string]any{"id": es.ID, "secret": value, "created_at": es.CreatedAt})
		}
		fmt.Fprintf(e.stdout, "Embed secret id:  %s\nEmbed secret:     %s\n\nThe secret is shown only now; Inlay keeps it sealed. Sign Looker embed URLs with it.\n", es.ID, value)
		return nil
	case "list":
		list, err := svc.ListSecrets(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(e.stdout).Encode(list)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCREATED")
		for _, s := range list {
			fmt.Fprintf(tw, "%s\t%s\n", s.ID, s.CreatedAt.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return fmt.Errorf("embed-secret revoke: give one id")
		}
		err := svc.RevokeSecret(ctx, fs.Arg(0))
		if errors.Is(err, looker.ErrSecretNotFound) {
			return fmt.Errorf("embed-secret revoke: no embed secret %q", fs.Arg(0))
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "revoked %s: URLs signed with it no longer verify\n", fs.Arg(0))
		return nil
	}
	return fmt.Errorf("embed-secret: unknown subcommand %q", args[0])
}
