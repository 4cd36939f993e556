package dashboard

import (
	"fmt"
	"sort"
)

// Problem is one thing wrong with a dashboard file, positioned at the YAML node that caused it.
// Line and Column are 1-based; 0 means unknown (e.g. a dashboard built in Go, or a file that
// could not be read).
type Problem struct {
	File    string
	Line    int
	Column  int
	Message string
}

// String formats the problem the way compilers do: "dashboards/sales.yaml:12:5: message".
func (p Problem) String() string {
	switch {
	case p.Line > 0 && p.Column > 0:
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Column, p.Message)
	case p.Line > 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
	case p.File != "":
		return fmt.Sprintf("%s: %s", p.File, p.Message)
	default:
		return p.Message
	}
}

// sortProblems orders problems by file, then position, keeping the discovery order of problems
// on the same spot.
func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}
