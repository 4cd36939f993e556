package dashboard

import (
	"strconv"
	"strings"
)

// Position is a place in a dashboard file; Line and Column are 1-based, 0 when unknown.
type Position struct {
	Line, Column int
	// Block is set for a block scalar (| or >), whose text starts on the line after Line.
	Block bool
}

// At returns where the dotted path ("widgets.2.y.0", "datasets.1.sql") is written in the file,
// or where its nearest enclosing item is when the path itself is absent; zero for a dashboard
// built in Go.
func (d *Dashboard) At(path string) Position {
	for p := path; ; {
		if pos, ok := d.positions[p]; ok {
			return pos
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			return d.positions[""]
		}
		p = p[:i]
	}
}

// Problem returns a Problem at path in d's file.
func (d *Dashboard) Problem(path, message string) Problem {
	pos := d.At(path)
	return Problem{File: d.File, Line: pos.Line, Column: pos.Column, Message: message}
}

// FieldPath is a widget field with its dotted path in the dashboard file.
type FieldPath struct {
	Path  string
	Field *Field
}

// FieldPaths lists the fields of widget i with their paths, in the order of Fields.
func (d *Dashboard) FieldPaths(i int) []FieldPath {
	var out []FieldPath
	for _, s := range d.Widgets[i].slots("widgets." + strconv.Itoa(i)) {
		for j, f := range s.fields {
			p := s.path
			if !s.single {
				p += "." + strconv.Itoa(j)
			}
			out = append(out, FieldPath{Path: p, Field: f})
		}
	}
	return out
}
