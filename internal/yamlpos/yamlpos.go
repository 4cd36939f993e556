// Package yamlpos is what Inlay's YAML files (inlay.yaml and dashboards) share to report
// problems where they are: one Problem type with file, line, column and key, and one walker that
// checks a YAML node tree against the Go type it decodes into, recording the position of every
// node. It imports nothing of Inlay's.
package yamlpos

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong in a file, positioned at the YAML node that caused it. Line and
// Column are 1-based; 0 means unknown (a value set elsewhere, or a file that could not be read).
type Problem struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	// Key is the dotted key the problem is about ("tokens.embed_ttl"), when naming it helps.
	Key string `json:"key,omitempty"`
	// Origin says where a value from outside File came from ("env INLAY_LISTEN", "flag").
	Origin string `json:"origin,omitempty"`
	// Code classifies the problem for tools (inlay check --json); "" when nobody asked.
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
	// Detail is a tool's own message kept for the author (an engine's error), printed indented
	// on the lines after the problem.
	Detail string `json:"detail,omitempty"`
}

// String formats the problem the way compilers do: "dashboards/sales.yaml:12:5: message", with
// "key (from origin): " before the message when they are set.
func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.File != "" && p.Line > 0 && p.Column > 0:
		fmt.Fprintf(&b, "%s:%d:%d: ", p.File, p.Line, p.Column)
	case p.File != "" && p.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", p.File, p.Line)
	case p.File != "":
		fmt.Fprintf(&b, "%s: ", p.File)
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		if p.Origin != "" {
			fmt.Fprintf(&b, " (from %s)", p.Origin)
		}
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	if d := strings.TrimSpace(p.Detail); d != "" {
		b.WriteString("\n    " + strings.ReplaceAll(d, "\n", "\n    "))
	}
	return b.String()
}

func (p Problem) Error() string { return p.String() }

// Problems is every problem found, as one error (one per line).
type Problems []Problem

func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.String()
	}
	return strings.Join(msgs, "\n")
}

// Sort orders problems by file, then position, keeping the discovery order of problems on the
// same spot.
func Sort(ps []Problem) {
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

// lineRE finds the line number in yaml.v3's syntax and type error messages.
var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// FromError turns a yaml.v3 error (syntax or type errors, which carry a line but no column)
// into problems in file.
func FromError(file string, err error) []Problem {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var ps []Problem
		for _, m := range te.Errors {
			ps = append(ps, FromError(file, errors.New(m))...)
		}
		return ps
	}
	msg := err.Error()
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return []Problem{{File: file, Line: errorLine(line, m[2]), Message: "YAML: " + m[2]}}
	}
	return []Problem{{File: file, Message: strings.Replace(msg, "yaml: ", "YAML: ", 1)}}
}

// parserErrors are yaml.v3's parser (not scanner) error messages. For these it reports the
// 0-based line of the mark (scanner errors get 1 added): errorLine corrects them.
var parserErrors = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"did not find expected '-' indicator", "did not find expected <document start>",
	"did not find expected <stream-start>", "did not find expected key",
	"did not find expected node content", "found duplicate %TAG directive",
	"found duplicate %YAML directive", "found incompatible YAML document", "found undefined tag handle",
}

// errorLine is the 1-based line of a yaml.v3 syntax error reported at line.
func errorLine(line int, msg string) int {
	if slices.Contains(parserErrors, msg) {
		return line + 1
	}
	return line
}

// Walker checks a YAML node tree against the Go type it decodes into: mappings where structs
// and maps go, lists where slices go, integers and booleans where they belong, no keys a struct
// lacks, no key given twice. Paths are dotted: "widgets.2.y.0.expr", "data_sources.pg.dsn".
// Every callback is optional.
type Walker struct {
	// Node sees every node visited (aliases resolved), under its path.
	Node func(path string, n *yaml.Node)
	// Key sees every mapping key of a struct or map: known is false when the struct has no
	// such field (fields lists the struct's YAML keys, for suggestions).
	Key func(path string, key *yaml.Node, known bool, fields map[string]reflect.StructField)
	// Duplicate sees a key given twice in one mapping (yaml.v3 refuses the whole mapping).
	Duplicate func(path string, key, first *yaml.Node)
	// Mismatch sees a node of the wrong kind: want says what was expected. misaligns is true
	// when yaml.v3 will decode the surrounding list out of step with its nodes, so that later
	// positions cannot be trusted.
	Mismatch func(path string, n *yaml.Node, want string, misaligns bool)
	// Opaque types are not looked into (they check their own shape when decoded).
	Opaque map[reflect.Type]bool
	// ScalarOrStruct types take either a scalar or a mapping of their fields.
	ScalarOrStruct map[reflect.Type]string
}

// Walk walks n against t under path.
func (w *Walker) Walk(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if w.Node != nil {
		w.Node(path, n)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	mismatch := func(want string, misaligns bool) {
		if w.Mismatch != nil {
			w.Mismatch(path, n, want, misaligns)
		}
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	if w.Opaque[t] {
		return
	}
	if want, ok := w.ScalarOrStruct[t]; ok {
		switch n.Kind {
		case yaml.ScalarNode:
		case yaml.MappingNode:
			w.walkStruct(n, t, path)
		default:
			mismatch(want, true)
		}
		return
	}
	switch t.Kind() {
	case reflect.Interface:
		// Free-form: whoever uses the value checks it.
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			mismatch("a mapping", true)
			return
		}
		w.walkStruct(n, t, path)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			mismatch("a mapping", true)
			return
		}
		seen := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			kp := Join(path, k.Value)
			if first, dup := seen[k.Value]; dup {
				if w.Duplicate != nil {
					w.Duplicate(kp, k, first)
				}
				continue
			}
			seen[k.Value] = k
			if w.Key != nil {
				w.Key(kp, k, true, nil)
			}
			w.Walk(v, t.Elem(), kp)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			mismatch("a list", false)
			return
		}
		for i, c := range n.Content {
			w.Walk(c, t.Elem(), Join(path, strconv.Itoa(i)))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			mismatch("a string", true) // yaml.v3 drops such list items, misaligning the rest
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if t.PkgPath() == "time" { // a duration: yaml.v3 checks it
			if n.Kind != yaml.ScalarNode {
				mismatch("a duration such as 90s or 1h", false)
			}
			return
		}
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			mismatch("an integer", false)
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			mismatch("true or false", false)
		}
	}
}

func (w *Walker) walkStruct(n *yaml.Node, t reflect.Type, path string) {
	fields := Fields(t)
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		kp := Join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			if w.Duplicate != nil {
				w.Duplicate(kp, k, first)
			}
			continue
		}
		seen[k.Value] = k
		f, ok := fields[k.Value]
		if w.Key != nil {
			w.Key(kp, k, ok, fields)
		}
		if ok {
			w.Walk(v, f.Type, kp)
		}
	}
}

// Join appends a segment to a dotted path.
func Join(path, seg string) string {
	if path == "" {
		return seg
	}
	return path + "." + seg
}

// Fields maps the YAML keys of a struct type to its fields.
func Fields(t reflect.Type) map[string]reflect.StructField {
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

// Suggest proposes the closest known key for a typo (" (did you mean "x"?)"), or lists the
// known keys.
func Suggest(key string, fields map[string]reflect.StructField) string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	if best, ok := Closest(key, names); ok {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return " (expected one of " + strings.Join(names, ", ") + ")"
}

// Closest returns the name nearest to word by case-insensitive edit distance, for "did you
// mean" suggestions; ok is false when none is within two edits. Ties go to the earlier name.
func Closest(word string, names []string) (best string, ok bool) {
	bestDist := 3
	for _, name := range names {
		if d := editDistance(strings.ToLower(word), strings.ToLower(name)); d < bestDist {
			best, bestDist, ok = name, d, true
		}
	}
	return best, ok
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

// Describe names a node's kind for messages: "a mapping", "a list", or the scalar quoted.
func Describe(n *yaml.Node) string {
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
