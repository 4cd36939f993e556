package lvdash

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/inlay/inlay/internal/dashboard"
)

// The YAML written: the dashboard format, with fields as plain strings when they carry no label
// or format, and layouts on one line.
type outDashboard struct {
	ID          string              `yaml:"id"`
	Title       string              `yaml:"title"`
	Description string              `yaml:"description,omitempty"`
	Datasets    []dashboard.Dataset `yaml:"datasets"`
	Filters     []outFilter         `yaml:"filters,omitempty"`
	Pages       []dashboard.Page    `yaml:"pages,omitempty"`
	Widgets     []outWidget         `yaml:"widgets"`
}

type outFilter struct {
	Name    string      `yaml:"name"`
	Title   string      `yaml:"title,omitempty"`
	Type    string      `yaml:"type"`
	Targets []yaml.Node `yaml:"targets"`
}

type outWidget struct {
	Name         string    `yaml:"name"`
	Title        string    `yaml:"title,omitempty"`
	Type         string    `yaml:"type"`
	Page         string    `yaml:"page,omitempty"`
	Dataset      string    `yaml:"dataset,omitempty"`
	Content      string    `yaml:"content,omitempty"`
	Value        any       `yaml:"value,omitempty"`
	X            any       `yaml:"x,omitempty"`
	Y            []any     `yaml:"y,omitempty"`
	Series       any       `yaml:"series,omitempty"`
	Label        any       `yaml:"label,omitempty"`
	Columns      []any     `yaml:"columns,omitempty"`
	Rows         []any     `yaml:"rows,omitempty"`
	PivotColumns []any     `yaml:"pivot_columns,omitempty"`
	Values       []any     `yaml:"values,omitempty"`
	Horizontal   bool      `yaml:"horizontal,omitempty"`
	Layout       yaml.Node `yaml:"layout"`
}

func field(f *dashboard.Field) any {
	if f == nil {
		return nil
	}
	if f.Label == "" && f.Format == "" {
		return f.Expr
	}
	m := yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	add := func(k, v string) {
		if v != "" {
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, &yaml.Node{Kind: yaml.ScalarNode, Value: v})
		}
	}
	add("expr", f.Expr)
	add("label", f.Label)
	add("format", f.Format)
	return &m
}

func fields(fs []dashboard.Field) []any {
	var out []any
	for i := range fs {
		out = append(out, field(&fs[i]))
	}
	return out
}

func flow(pairs ...any) yaml.Node {
	n := yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	for i := 0; i+1 < len(pairs); i += 2 {
		var v yaml.Node
		_ = v.Encode(pairs[i+1])
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: pairs[i].(string)}, &v)
	}
	return n
}

// YAML renders the result as a dashboard file: a header naming the source and listing what was
// not converted, then the dashboard.
func (r *Result) YAML(source string) ([]byte, error) {
	d := r.Dashboard
	out := outDashboard{ID: d.ID, Title: d.Title, Description: d.Description, Datasets: d.Datasets, Pages: d.Pages}
	for _, f := range d.Filters {
		of := outFilter{Name: f.Name, Title: f.Title, Type: f.Type}
		for _, t := range f.Targets {
			of.Targets = append(of.Targets, flow("dataset", t.Dataset, "column", t.Column))
		}
		out.Filters = append(out.Filters, of)
	}
	for i := range d.Widgets {
		w := &d.Widgets[i]
		out.Widgets = append(out.Widgets, outWidget{
			Name: w.Name, Title: w.Title, Type: w.Type, Page: w.Page, Dataset: w.Dataset, Content: w.Content,
			Value: field(w.Value), X: field(w.X), Y: fields(w.Y), Series: field(w.Series), Label: field(w.Label),
			Columns: fields(w.Columns), Rows: fields(w.Rows), PivotColumns: fields(w.PivotColumns), Values: fields(w.Values),
			Horizontal: w.Horizontal,
			Layout:     flow("x", w.Layout.X, "y", w.Layout.Y, "w", w.Layout.W, "h", w.Layout.H),
		})
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Converted from %s by `inlay import databricks`.\n", source)
	fmt.Fprintf(&b, "# Dataset SQL is Databricks SQL as exported: check it runs on your data source (`inlay check`).\n")
	if len(r.Notes) > 0 {
		b.WriteString("#\n# Not converted or changed:\n")
		for _, n := range r.Notes {
			b.WriteString("#   - " + strings.ReplaceAll(n.String(), "\n", " ") + "\n")
		}
	}
	b.WriteString("\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
