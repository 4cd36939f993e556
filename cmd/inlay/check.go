package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/inlay/inlay/internal/check"
	"github.com/inlay/inlay/internal/config"
	"github.com/inlay/inlay/internal/datasource"
)

// attrFlag collects --attr name=v1,v2 flags.
type attrFlag map[string][]string

func (a attrFlag) String() string { return "" }

func (a attrFlag) Set(s string) error {
	name, vals, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("want name=value[,value...], got %q", s)
	}
	a[name] = strings.Split(vals, ",")
	return nil
}

// checkFlags are what check and dev share: the sample viewer --data checks as.
type checkFlags struct {
	externalValue string
	attrs         attrFlag
}

func (c *checkFlags) register(fs *flag.FlagSet) {
	c.attrs = attrFlag{}
	fs.StringVar(&c.externalValue, "external-value", "check", "the sample viewer's external value for --data (RLS)")
	fs.Var(c.attrs, "attr", "a sample viewer attribute for --data, name=v1,v2 (repeatable; unnamed RLS attributes get the external value)")
}

func runCheck(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var p projectFlags
	p.register(fs)
	var cf checkFlags
	cf.register(fs)
	data := fs.Bool("data", false, "also open the data sources and describe every dataset, widget and filter query (no rows read)")
	asJSON := fs.Bool("json", false, "print the result as JSON on stdout")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	proj, problems := checkProject(ctx, e, p.project, *data, cf)
	if *asJSON {
		if problems == nil {
			problems = []check.Problem{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(map[string]any{"ok": len(problems) == 0, "dashboards": len(proj.Dashboards), "data": *data, "problems": problems})
	} else {
		for _, pr := range problems {
			fmt.Fprintln(e.stderr, pr.String())
		}
	}
	if len(problems) > 0 {
		if !*asJSON {
			fmt.Fprintf(e.stderr, "%d problem(s) in %s\n", len(problems), p.project)
		}
		return exitCode(1)
	}
	if !*asJSON {
		what := "inlay.yaml and %d dashboard(s)"
		if *data {
			what += ", checked against the data"
		}
		fmt.Fprintf(e.stdout, "ok: "+what+"\n", len(proj.Dashboards))
	}
	return nil
}

// checkProject runs the static checks and, with data, the data checks: every problem of the
// project at once.
func checkProject(ctx context.Context, e *env, dir string, data bool, cf checkFlags) (*check.Project, []check.Problem) {
	proj, problems := check.Static(dir, e.getenv)
	if proj != nil && proj.Config != nil {
		for _, cp := range oauthProblems(proj.Config) {
			problems = append(problems, check.Problem{File: cp.File, Line: cp.Line, Code: check.CodeConfig, Message: cp.Key + ": " + cp.Message})
		}
	}
	if !data {
		check.Sort(problems)
		return proj, problems
	}
	sources, openProblems := openEachSource(ctx, proj.Config)
	defer closeSources(sources)
	problems = append(problems, openProblems...)
	v := check.SampleViewer(proj.Dashboards, cf.externalValue, cf.attrs)
	problems = append(problems, check.Data(ctx, proj.Dashboards, sources, v)...)
	check.Sort(problems)
	return proj, problems
}

// openEachSource opens every configured data source it can, reporting each that fails as a
// problem at its entry in inlay.yaml.
func openEachSource(ctx context.Context, cfg *config.Config) (map[string]datasource.Source, []check.Problem) {
	out := map[string]datasource.Source{}
	var problems []check.Problem
	names := make([]string, 0, len(cfg.DataSources))
	for name := range cfg.DataSources {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		dc := cfg.DataSources[name]
		open, ok := sourceOpeners[dc.Type]
		if !ok {
			continue // Validate reports the type
		}
		src, err := open(ctx, dc)
		if err != nil {
			cp := cfg.ProblemAt("data_sources."+name, fmt.Sprintf("cannot be opened: %v", err))
			problems = append(problems, check.Problem{File: cp.File, Line: cp.Line, Code: check.CodeUnavailable,
				Message: fmt.Sprintf("data source %q cannot be opened, so its datasets were not checked against the data", name), Detail: err.Error()})
			continue
		}
		out[name] = src
	}
	return out, problems
}
