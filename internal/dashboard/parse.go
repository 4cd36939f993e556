package dashboard

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/inlay/inlay/internal/yamlpos"
)

// Parse parses and validates one dashboard file. file names the file in problems and locates
// sql_file references, which are read from the operating system relative to file's folder (and
// must stay inside it). The dashboard is returned whenever the YAML could be read at all, but it
// is fit to serve only when no problems are returned.
func Parse(file string, data []byte) (*Dashboard, []Problem) {
	r := parseFile(os.DirFS(filepath.Dir(file)), ".", file, data)
	return r.d, r.problems
}

// LoadDir loads every *.yaml and *.yml file directly inside dir, the project's dashboards
// folder (e.g. "my-project/dashboards"), and checks that dashboard ids are unique across files.
// Files are read in name order; problems name files as filepath.Join(dir, name). The dashboards
// are fit to serve only when no problems are returned.
func LoadDir(dir string) ([]*Dashboard, []Problem) {
	return load(os.DirFS(dir), ".", func(name string) string { return filepath.Join(dir, name) })
}

// LoadFS is LoadDir over fsys: dir is a slash-separated folder inside fsys ("." for its root),
// and problems name files as path.Join(dir, name). sql_file references resolve inside fsys.
func LoadFS(fsys fs.FS, dir string) ([]*Dashboard, []Problem) {
	return load(fsys, dir, func(name string) string { return path.Join(dir, name) })
}

func load(fsys fs.FS, dir string, display func(string) string) ([]*Dashboard, []Problem) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, []Problem{{File: display(""), Message: fmt.Sprintf("cannot read the dashboards folder: %v", err)}}
	}
	var (
		out      []*Dashboard
		problems []Problem
		firstIn  = map[string]string{} // dashboard id -> file that declared it first
	)
	for _, e := range entries {
		ext := path.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		shown := display(e.Name())
		data, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			problems = append(problems, Problem{File: shown, Message: fmt.Sprintf("cannot read file: %v", err)})
			continue
		}
		r := parseFile(fsys, dir, shown, data)
		if r.d != nil && r.d.ID != "" {
			if first, dup := firstIn[r.d.ID]; dup {
				r.at("id", "dashboard id %q is already used by %s", r.d.ID, first)
			} else {
				firstIn[r.d.ID] = shown
			}
		}
		problems = append(problems, r.problems...)
		if r.d != nil {
			out = append(out, r.d)
		}
	}
	sortProblems(problems)
	return out, problems
}

// parseFile does the whole job for one file: YAML syntax, shape and unknown keys (with the
// position of every node), sql_file loading, validation and normalisation. base is the file's
// folder inside fsys.
func parseFile(fsys fs.FS, base, file string, data []byte) *report {
	r := &report{file: file, pos: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}, bad: map[string]bool{}}

	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			r.problems = append(r.problems, Problem{File: file, Line: 1, Column: 1, Message: "the file is empty"})
		} else {
			r.problems = append(r.problems, yamlProblem(file, err)...)
			// An error at the end of the file (an unclosed bracket) is shown on the last line
			// that has text, where the mistake is.
			last := strings.Count(strings.TrimRight(string(data), " \t\r\n"), "\n") + 1
			for i := range r.problems {
				r.problems[i].Line = min(r.problems[i].Line, last)
			}
		}
		return r
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		r.problems = append(r.problems, Problem{File: file, Line: extra.Line, Column: extra.Column,
			Message: "a dashboard file holds one YAML document; found a second one"})
	} else if !errors.Is(err, io.EOF) {
		r.problems = append(r.problems, yamlProblem(file, err)...)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}

	r.d = &Dashboard{File: file}
	decodeErr := root.Decode(r.d)
	r.d.File = file
	// The node walk reports shapes and unknown keys with exact positions; yaml.v3's own type
	// errors (which carry only a line) are a fallback for anything the walk did not catch.
	r.walk(root, reflect.TypeOf(Dashboard{}), "")
	r.d.positions = make(map[string]Position, len(r.pos))
	for p, n := range r.pos {
		r.d.positions[p] = Position{Line: n.Line, Column: n.Column, Block: n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0}
	}
	var te *yaml.TypeError
	switch {
	case decodeErr == nil:
	case errors.As(decodeErr, &te):
		if len(r.problems) == 0 {
			for _, msg := range te.Errors {
				r.problems = append(r.problems, yamlProblem(file, errors.New(msg))...)
			}
		}
	default:
		r.problems = append(r.problems, yamlProblem(file, decodeErr)...)
	}
	if r.shapeBroken {
		// Lists whose items have the wrong shape decode misaligned with their nodes: further
		// checks would point at the wrong lines. Report the shape problems alone.
		sortProblems(r.problems)
		return r
	}

	r.loadSQLFiles(fsys, base)
	r.validate()
	r.d.Normalize()
	sortProblems(r.problems)
	return r
}

func yamlProblem(file string, err error) []Problem { return yamlpos.FromError(file, err) }

// loadSQLFiles reads each dataset's sql_file, relative to the dashboard file's folder.
func (r *report) loadSQLFiles(fsys fs.FS, base string) {
	for i := range r.d.Datasets {
		ds := &r.d.Datasets[i]
		at := fmt.Sprintf("datasets.%d.sql_file", i)
		if ds.SQLFile == "" {
			continue
		}
		if strings.TrimSpace(ds.SQL) != "" {
			r.at(at, "give either sql or sql_file, not both")
			r.bad[at] = true
			continue
		}
		rel := path.Clean(filepath.ToSlash(ds.SQLFile))
		if path.IsAbs(ds.SQLFile) || filepath.IsAbs(ds.SQLFile) || !fs.ValidPath(rel) {
			r.at(at, "sql_file %q must be a relative path inside the dashboards folder", ds.SQLFile)
			r.bad[at] = true
			continue
		}
		data, err := fs.ReadFile(fsys, path.Join(base, rel))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				r.at(at, "sql_file %q does not exist (paths are relative to the dashboard file)", ds.SQLFile)
			} else {
				r.at(at, "cannot read sql_file %q: %v", ds.SQLFile, err)
			}
			r.bad[at] = true
			continue
		}
		ds.SQL = string(data)
	}
}

// report collects the problems of one dashboard, locating each at the YAML node it concerns.
// Paths are dotted: "widgets.2.y.0.expr". Without positions (a dashboard built in Go and
// checked with Validate) problems carry the file name only.
type report struct {
	file     string
	d        *Dashboard
	pos      map[string]*yaml.Node // value node of each path
	keys     map[string]*yaml.Node // key node of each mapping entry's path
	bad      map[string]bool       // paths with a shape problem: later checks stay quiet there
	problems []Problem
	// shapeBroken is set when a list item or an object has the wrong YAML shape.
	shapeBroken bool
}

// at records a problem at path, prefixed with the item it belongs to (`widget "revenue": `).
// It stays quiet where a shape problem was already reported at path or above it.
func (r *report) at(p string, format string, args ...any) {
	for q := p; ; {
		if r.bad[q] {
			return
		}
		i := strings.LastIndexByte(q, '.')
		if i < 0 {
			break
		}
		q = q[:i]
	}
	msg := fmt.Sprintf(format, args...)
	if c := r.context(p); c != "" {
		msg = c + ": " + msg
	}
	line, col := r.line(p)
	r.problems = append(r.problems, Problem{File: r.file, Line: line, Column: col, Message: msg})
}

// atKey is at, positioned at the key of a mapping entry (for unknown or repeated keys).
func (r *report) atKey(p string, key *yaml.Node, format string, args ...any) {
	r.at(p, format, args...)
	last := &r.problems[len(r.problems)-1]
	last.Line, last.Column = key.Line, key.Column
}

// line finds the position of path, or of its nearest ancestor present in the file.
func (r *report) line(p string) (int, int) {
	for q := p; ; {
		if n, ok := r.pos[q]; ok {
			return n.Line, n.Column
		}
		i := strings.LastIndexByte(q, '.')
		if i < 0 {
			if n, ok := r.pos[""]; ok {
				return n.Line, n.Column
			}
			return 0, 0
		}
		q = q[:i]
	}
}

// context names the dataset, filter or widget a path belongs to: `widget "revenue"`, or
// `widget #3` when it has no name.
func (r *report) context(p string) string {
	segs := strings.Split(p, ".")
	if len(segs) < 2 {
		return ""
	}
	i, err := strconv.Atoi(segs[1])
	if err != nil {
		return ""
	}
	var kind, name string
	switch segs[0] {
	case "datasets":
		kind = "dataset"
		if r.d != nil && i < len(r.d.Datasets) {
			name = r.d.Datasets[i].Name
		}
	case "filters":
		kind = "filter"
		if r.d != nil && i < len(r.d.Filters) {
			name = r.d.Filters[i].Name
		}
	case "widgets":
		kind = "widget"
		if r.d != nil && i < len(r.d.Widgets) {
			name = r.d.Widgets[i].Name
		}
	case "pages":
		kind = "page"
		if r.d != nil && i < len(r.d.Pages) {
			name = r.d.Pages[i].Name
		}
	default:
		return ""
	}
	if n, ok := r.pos[segs[0]+"."+segs[1]+".name"]; name == "" && ok && n.Kind == yaml.ScalarNode {
		name = n.Value // the item did not decode (e.g. a repeated key); its YAML still names it
	}
	if name == "" {
		return fmt.Sprintf("%s #%d", kind, i+1)
	}
	return fmt.Sprintf("%s %q", kind, name)
}

// label renders the part of a path inside its item for messages: "widgets.2.y.0.expr" -> "y[0].expr".
func label(p string) string {
	segs := strings.Split(p, ".")
	if len(segs) >= 2 {
		if _, err := strconv.Atoi(segs[1]); err == nil {
			switch segs[0] {
			case "datasets", "filters", "widgets", "pages":
				segs = segs[2:]
			}
		}
	}
	var b strings.Builder
	for _, s := range segs {
		if _, err := strconv.Atoi(s); err == nil {
			b.WriteString("[" + s + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

func join(p, seg string) string {
	if p == "" {
		return seg
	}
	return p + "." + seg
}

var fieldType = reflect.TypeOf(Field{})

// walk checks node against the Go type it decodes into (yamlpos.Walker: mappings where structs
// go, lists where slices go, integers and booleans where they belong, no unknown or repeated
// keys), reporting each problem at its node, and records every node's position under its path.
func (r *report) walk(n *yaml.Node, t reflect.Type, p string) {
	where := func(p string) string {
		if w := label(p); w != "" {
			return w + ": "
		}
		return ""
	}
	w := yamlpos.Walker{
		Node: func(p string, n *yaml.Node) { r.pos[p] = n },
		Key: func(kp string, k *yaml.Node, known bool, fields map[string]reflect.StructField) {
			if !known {
				r.atKey(kp, k, "%sunknown field %q%s", where(parent(kp)), k.Value, yamlpos.Suggest(k.Value, fields))
				return
			}
			r.keys[kp] = k
		},
		Duplicate: func(kp string, k, first *yaml.Node) {
			r.atKey(kp, k, "%s%q is given twice (first on line %d)", where(parent(kp)), k.Value, first.Line)
			r.shapeBroken = true // yaml.v3 refuses the whole mapping
		},
		Mismatch: func(p string, n *yaml.Node, want string, misaligns bool) {
			r.at(p, "%sexpected %s, found %s", where(p), want, yamlpos.Describe(n))
			r.bad[p] = true
			if misaligns {
				r.shapeBroken = true
			}
		},
		ScalarOrStruct: map[reflect.Type]string{fieldType: "an expression string or a mapping {expr, label, format}"},
	}
	w.Walk(n, t, p)
}

// parent is the path holding p: "widgets.2.y" -> "widgets.2".
func parent(p string) string {
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

// yamlFields maps the YAML keys of a struct type to its fields.
func yamlFields(t reflect.Type) map[string]reflect.StructField { return yamlpos.Fields(t) }
