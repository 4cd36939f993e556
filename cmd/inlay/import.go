package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/lvdash"
)

var slugRE = regexp.MustCompile(`[^a-z0-9_-]+`)

// runImport is `inlay import databricks FILE.lvdash.json --out DIR`: it converts a Databricks
// AI/BI dashboard export into a dashboard file, lists what it could not convert, and checks the
// result.
func runImport(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "databricks" {
		fmt.Fprintln(e.stderr, "usage: inlay import databricks FILE.lvdash.json [--out DIR] [--id ID] [--title TITLE] [--source NAME] [--force]")
		return errUsage
	}
	fs := flag.NewFlagSet("import databricks", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	out := fs.String("out", "dashboards", "folder to write ID.yaml into")
	id := fs.String("id", "", "dashboard id (default: from the file name)")
	title := fs.String("title", "", "dashboard title (default: the export's first heading, else the file name)")
	force := fs.Bool("force", false, "overwrite an existing dashboard file")
	source := fs.String("source", "", "data source (from inlay.yaml) the datasets read (default: the one named default)")
	// Flags may come before or after the file.
	var files []string
	rest := args[1:]
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return errUsage
		}
		rest = fs.Args()
		if len(rest) > 0 {
			files = append(files, rest[0])
			rest = rest[1:]
		}
	}
	if len(files) != 1 {
		fmt.Fprintln(e.stderr, "usage: inlay import databricks FILE.lvdash.json [--out DIR] [--id ID] [--title TITLE] [--source NAME] [--force]")
		return errUsage
	}
	src := files[0]
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(src), ".json"), ".lvdash")
	if *id == "" {
		*id = strings.Trim(slugRE.ReplaceAllString(strings.ToLower(base), "-"), "-_")
	}
	res, err := lvdash.Convert(data, lvdash.Options{ID: *id, Title: *title, Source: *source})
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	if res.Dashboard.Title == *id { // no title given nor found in the export
		res.Dashboard.Title = strings.TrimSpace(strings.NewReplacer("_", " ", "-", " ").Replace(base))
	}
	text, err := res.YAML(filepath.Base(src))
	if err != nil {
		return err
	}
	dest := filepath.Join(*out, *id+".yaml")
	// Check before writing: a file that would not load is not written.
	_, problems := dashboard.Parse(dest, text)
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(e.stderr, p)
		}
		return fmt.Errorf("the converted dashboard does not pass the check (%d problem(s)); nothing written", len(problems))
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if *force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(dest, flags, 0o644)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists (use --force to overwrite)", dest)
	} else if err != nil {
		return err
	}
	if _, err := f.Write(text); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	d := res.Dashboard
	fmt.Fprintf(e.stdout, "wrote %s: %d widget(s), %d filter(s), %d dataset(s)\n", dest, len(d.Widgets), len(d.Filters), len(d.Datasets))
	if len(res.Notes) > 0 {
		fmt.Fprintln(e.stdout, "not converted or changed (also listed at the top of the file):")
		for _, n := range res.Notes {
			fmt.Fprintln(e.stdout, "  "+n.String())
		}
	}
	fmt.Fprintln(e.stdout, "dataset SQL is kept as Databricks wrote it: run `inlay check` and adapt it to your data source")
	return nil
}
