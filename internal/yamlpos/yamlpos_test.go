package yamlpos

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

type item struct {
	Name  string   `yaml:"name"`
	Count int      `yaml:"count"`
	On    bool     `yaml:"on"`
	Tags  []string `yaml:"tags"`
}

type doc struct {
	Title   string          `yaml:"title"`
	Items   []item          `yaml:"items"`
	Sources map[string]item `yaml:"sources"`
	Wait    time.Duration   `yaml:"wait"`
	Hidden  string          `yaml:"-"`
}

func TestWalkerReportsWhereEachProblemIs(t *testing.T) {
	src := `title: t
items:
  - name: a
    cuont: 3
  - name: b
    count: many
    on: yes please
    tags: x
sources:
  pg: {name: p, nmae: q}
title: again
Hidden: h
`
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(src), &root); err != nil {
		t.Fatal(err)
	}
	var got []string
	positions := map[string]int{}
	w := Walker{
		Node: func(p string, n *yaml.Node) { positions[p] = n.Line },
		Key: func(p string, k *yaml.Node, known bool, fields map[string]reflect.StructField) {
			if !known {
				got = append(got, fmt.Sprintf("%d:%d unknown %s%s", k.Line, k.Column, p, Suggest(k.Value, fields)))
			}
		},
		Duplicate: func(p string, k, first *yaml.Node) {
			got = append(got, fmt.Sprintf("%d:%d twice %s (first %d)", k.Line, k.Column, p, first.Line))
		},
		Mismatch: func(p string, n *yaml.Node, want string, misaligns bool) {
			got = append(got, fmt.Sprintf("%d:%d %s: want %s, found %s", n.Line, n.Column, p, want, Describe(n)))
		},
	}
	w.Walk(&root, reflect.TypeOf(doc{}), "")
	want := []string{
		`4:5 unknown items.0.cuont (did you mean "count"?)`,
		`6:12 items.1.count: want an integer, found "many"`,
		`7:9 items.1.on: want true or false, found "yes please"`,
		`8:11 items.1.tags: want a list, found "x"`,
		`10:17 unknown sources.pg.nmae (did you mean "name"?)`,
		`11:1 twice title (first 1)`,
		`12:1 unknown Hidden (expected one of items, sources, title, wait)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if positions["items.1.name"] != 5 || positions["sources.pg.name"] != 10 {
		t.Errorf("positions = %v", positions)
	}
}

func TestProblemFormat(t *testing.T) {
	for _, c := range []struct {
		p    Problem
		want string
	}{
		{Problem{File: "d.yaml", Line: 3, Column: 5, Message: "m"}, "d.yaml:3:5: m"},
		{Problem{File: "inlay.yaml", Line: 3, Key: "tokens.embed_ttl", Message: "m"}, "inlay.yaml:3: tokens.embed_ttl: m"},
		{Problem{Key: "listen", Origin: "env INLAY_LISTEN", Message: "m"}, "listen (from env INLAY_LISTEN): m"},
		{Problem{File: "d.yaml", Message: "m"}, "d.yaml: m"},
	} {
		if got := c.p.String(); got != c.want {
			t.Errorf("%+v = %q, want %q", c.p, got, c.want)
		}
	}
	ps := FromError("x.yaml", errors.New("yaml: line 7: mapping values are not allowed in this context"))
	if len(ps) != 1 || ps[0].Line != 7 || ps[0].Message != "YAML: mapping values are not allowed in this context" {
		t.Errorf("FromError = %+v", ps)
	}
}

// yaml.v3 gives parser errors a 0-based line: FromError reports the line a reader sees.
func TestParserErrorLine(t *testing.T) {
	var v any
	err := yaml.Unmarshal([]byte("a: 1\nb: [1, 2\nc: 3\n"), &v)
	if err == nil {
		t.Fatal("no error")
	}
	ps := FromError("x.yaml", err)
	if len(ps) != 1 || ps[0].Line < 2 {
		t.Errorf("FromError(%v) = %+v", err, ps)
	}
}
