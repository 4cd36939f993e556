package dashboard

import "github.com/inlay/inlay/internal/yamlpos"

// Problem is one thing wrong with a dashboard file, positioned at the YAML node that caused it
// (the same type as the configuration's problems). Line and Column are 1-based; 0 means unknown
// (e.g. a dashboard built in Go, or a file that could not be read). String formats it the way
// compilers do: "dashboards/sales.yaml:12:5: message".
type Problem = yamlpos.Problem

// sortProblems orders problems by file, then position, keeping the discovery order of problems
// on the same spot.
func sortProblems(ps []Problem) { yamlpos.Sort(ps) }
