// Package check finds what is wrong with a project before a viewer does: inlay.yaml and the
// dashboards together (Static), and, with the data sources open, every dataset, widget and filter
// option described by its engine without reading rows (Data). Every problem is positioned at the
// line of the file that causes it and worded for the dashboard's author; the engine's own
// message is kept as detail.
package check

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/inlay/inlay/internal/config"
	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/yamlpos"
)

// Problem codes, stable for tools that read --json output.
const (
	CodeConfig            = "config"              // inlay.yaml: unknown key, bad value, YAML syntax
	CodeDashboard         = "dashboard"           // a dashboard file: YAML, shape, validation
	CodeUnknownDataSource = "unknown_data_source" // a dataset names a source inlay.yaml lacks
	CodeDefinition        = "definition"          // the dashboard cannot be compiled
	CodeUnavailable       = "data_source_unavailable"
	CodeUnknownTable      = "unknown_table"
	CodeUnknownColumn     = "unknown_column"
	CodeTypeMismatch      = "type_mismatch"
	CodeSQLSyntax         = "sql_syntax"
	CodeRLS               = "rls"          // the sample viewer cannot read a dataset
	CodeQueryFailed       = "query_failed" // any other error from the engine
)

// Problem is one thing wrong with a project, where it is written: the Problem type of
// inlay.yaml and the dashboards, with a Code (for --json) and, when the problem came from running
// SQL, the engine's message as Detail. String formats it as compilers do, "file:line:col:
// message", the detail indented on the next lines.
type Problem = yamlpos.Problem

// Project is a project as read by Static.
type Project struct {
	Dir string
	// Config is the configuration read, even when it has problems (defaults where it could not
	// be read).
	Config     *config.Config
	Dashboards []*dashboard.Dashboard
}

// Static reads dir's inlay.yaml and every dashboard, and reports the problems of both at once:
// one mistake in inlay.yaml does not hide the dashboards' problems. getenv supplies INLAY_*
// overrides and secrets given as {env}.
func Static(dir string, getenv func(string) string) (*Project, []Problem) {
	var problems []Problem
	cfg, cprobs, err := config.LoadAll(dir, getenv)
	if err != nil {
		problems = append(problems, Problem{File: filepath.Join(dir, config.FileName), Code: CodeConfig, Message: readError(err)})
		cfg = config.Default(dir)
	}
	for _, cp := range cprobs {
		problems = append(problems, configProblem(cp))
	}
	if err := cfg.Validate(); err != nil {
		var ps config.Problems
		if errors.As(err, &ps) {
			for _, cp := range ps {
				problems = append(problems, configProblem(cp))
			}
		} else {
			problems = append(problems, Problem{File: cfg.File(), Code: CodeConfig, Message: err.Error()})
		}
	}
	dashboards, dproblems := Dashboards(cfg)
	problems = append(problems, dproblems...)
	return &Project{Dir: dir, Config: cfg, Dashboards: dashboards}, problems
}

// Sort orders problems by file and position, keeping the order of problems on one spot.
func Sort(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
}

// Dashboards reads every dashboard in cfg's dashboards folder and reports their problems,
// including datasets naming a data source cfg does not define. A server reloading its
// dashboards uses it with the configuration it runs with.
func Dashboards(cfg *config.Config) ([]*dashboard.Dashboard, []Problem) {
	var problems []Problem
	dashboards, dprobs := dashboard.LoadDir(cfg.Dashboards)
	for _, dp := range dprobs {
		problems = append(problems, Problem{File: dp.File, Line: dp.Line, Column: dp.Column, Code: CodeDashboard, Message: dp.Message})
	}
	defined := slices.Sorted(func(yield func(string) bool) {
		for name := range cfg.DataSources {
			if !yield(name) {
				return
			}
		}
	})
	for _, d := range dashboards {
		for i, ds := range d.Datasets {
			src := ds.Source
			if src == "" {
				src = config.DefaultDataSource
			}
			if _, ok := cfg.DataSources[src]; ok {
				continue
			}
			path := fmt.Sprintf("datasets.%d.source", i)
			have := "it defines none"
			if len(defined) > 0 {
				have = "it defines " + strings.Join(defined, ", ")
			}
			msg := fmt.Sprintf("dataset %q uses data source %q, which inlay.yaml does not define (%s)", ds.Name, src, have)
			if ds.Source == "" {
				msg = fmt.Sprintf("dataset %q names no source, so it uses %q, which inlay.yaml does not define (%s)", ds.Name, src, have)
			}
			problems = append(problems, at(d, path, CodeUnknownDataSource, msg, ""))
		}
	}
	return dashboards, problems
}

func readError(err error) string {
	if errors.Is(err, os.ErrNotExist) {
		return "there is no " + config.FileName + " in the project folder"
	}
	return err.Error()
}

func configProblem(cp config.Problem) Problem {
	msg := cp.Message
	if cp.Key != "" {
		msg = cp.Key
		if cp.Origin != "" {
			msg += " (from " + cp.Origin + ")"
		}
		msg += ": " + cp.Message
	}
	return Problem{File: cp.File, Line: cp.Line, Column: cp.Column, Code: CodeConfig, Message: msg}
}

func at(d *dashboard.Dashboard, path, code, msg, detail string) Problem {
	pos := d.At(path)
	return Problem{File: d.File, Line: pos.Line, Column: pos.Column, Code: code, Message: msg, Detail: detail}
}
