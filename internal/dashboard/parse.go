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
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
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

// yamlLineRE finds the line number in yaml.v3's syntax and type error messages.
var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

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

func yamlProblem(file string, err error) []Problem {
	msg := err.Error()
	if te, ok := err.(*yaml.TypeError); ok {
		var ps []Problem
		for _, m := range te.Errors {
			ps = append(ps, yamlProblem(file, errors.New(m))...)
		}
		return ps
	}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return []Problem{{File: file, Line: yamlErrorLine(line, m[2]), Message: "YAML: " + m[2]}}
	}
	return []Problem{{File: file, Message: strings.Replace(msg, "yaml: ", "YAML: ", 1)}}
}

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
			case "datasets", "filters", "widgets":
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

// walk checks node against the Go type it decodes into: mappings where structs go, lists where
// slices go, integers and booleans where they belong, and no keys the type does not have. It
// records every node's position under its path.
func (r *report) walk(n *yaml.Node, t reflect.Type, p string) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	r.pos[p] = n
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	isNull := n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
	where := label(p)
	if where != "" {
		where += ": "
	}
	fail := func(want string) {
		r.at(p, "%sexpected %s, found %s", where, want, describe(n))
		r.bad[p] = true
	}
	switch {
	case isNull:
		return
	case t == fieldType:
		switch n.Kind {
		case yaml.ScalarNode:
		case yaml.MappingNode:
			r.walkStruct(n, t, p)
		default:
			fail("an expression string or a mapping {expr, label, format}")
			r.shapeBroken = true
		}
	case t.Kind() == reflect.Interface:
		// Free-form (a filter default): its shape is checked by the validator.
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			fail("a mapping")
			r.shapeBroken = true
			return
		}
		r.walkStruct(n, t, p)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			fail("a list")
			return
		}
		for i, c := range n.Content {
			r.walk(c, t.Elem(), join(p, strconv.Itoa(i)))
		}
	case t.Kind() == reflect.String:
		if n.Kind != yaml.ScalarNode {
			fail("a string")
			r.shapeBroken = true // yaml.v3 drops such list items, misaligning the rest
		}
	case t.Kind() == reflect.Int:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			fail("an integer")
		}
	case t.Kind() == reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			fail("true or false")
		}
	}
}

func (r *report) walkStruct(n *yaml.Node, t reflect.Type, p string) {
	fields := yamlFields(t)
	seen := map[string]*yaml.Node{}
	where := label(p)
	if where != "" {
		where += ": "
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		kp := join(p, k.Value)
		if first, dup := seen[k.Value]; dup {
			r.atKey(kp, k, "%s%q is given twice (first on line %d)", where, k.Value, first.Line)
			r.shapeBroken = true // yaml.v3 refuses the whole mapping
			continue
		}
		seen[k.Value] = k
		f, ok := fields[k.Value]
		if !ok {
			r.atKey(kp, k, "%sunknown field %q%s", where, k.Value, suggest(k.Value, fields))
			continue
		}
		r.keys[kp] = k
		r.walk(v, f.Type, kp)
	}
}

// yamlFields maps the YAML keys of a struct type to its fields.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f
	}
	return out
}

// suggest proposes the closest known key for a typo, or lists the known keys.
func suggest(key string, fields map[string]reflect.StructField) string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	best, bestDist := "", 3
	for _, name := range names {
		if d := editDistance(strings.ToLower(key), name); d < bestDist {
			best, bestDist = name, d
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return " (expected one of " + strings.Join(names, ", ") + ")"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if len(n.Value) > 40 {
			return fmt.Sprintf("%q", n.Value[:40]+"...")
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// yamlParserErrors are yaml.v3's parser (not scanner) error messages. For these it reports the
// 0-based line of the mark (scanner errors get 1 added): yamlErrorLine corrects them.
var yamlParserErrors = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"did not find expected '-' indicator", "did not find expected <document start>",
	"did not find expected <stream-start>", "did not find expected key",
	"did not find expected node content", "found duplicate %TAG directive",
	"found duplicate %YAML directive", "found incompatible YAML document", "found undefined tag handle",
}

// yamlErrorLine is the 1-based line of a yaml.v3 syntax error reported at line.
func yamlErrorLine(line int, msg string) int {
	if slices.Contains(yamlParserErrors, msg) {
		return line + 1
	}
	return line
}
