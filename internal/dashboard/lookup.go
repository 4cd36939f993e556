package dashboard

import (
	"strings"
	"time"
)

// Normalize fills in what validation makes derivable, so that later stages need not repeat it:
// each field's Key (from its parsed expression), the default RLS operator "eq", dataset SQL
// trimmed of surrounding space and trailing semicolons (it is wrapped as a subquery), and
// text widgets' Markdown rendered to sanitized HTML, and date_range defaults as strings (YAML reads an unquoted 2024-01-01 as a timestamp) in the form a
// query request uses: "2024-01-01", or RFC 3339 when there is a time of day. Parse, LoadDir and
// LoadFS call it; call it again after changing a dashboard in Go.
func (d *Dashboard) Normalize() {
	for i := range d.Filters {
		if m, ok := d.Filters[i].Default.(map[string]any); ok && d.Filters[i].Type == FilterDateRange {
			for k, v := range m {
				if t, ok := v.(time.Time); ok {
					m[k] = dateString(t)
				}
			}
		}
	}
	for i := range d.Datasets {
		ds := &d.Datasets[i]
		ds.SQL = strings.TrimRight(strings.TrimSpace(ds.SQL), "; \t\r\n")
		for j := range ds.RLS {
			if ds.RLS[j].Operator == "" {
				ds.RLS[j].Operator = OperatorEq
			}
		}
	}
	for i := range d.Widgets {
		if w := &d.Widgets[i]; w.Type == WidgetText {
			w.HTML, _ = RenderMarkdown(w.Content)
		}
		if s := d.Widgets[i].Sparkline; s != nil && s.X != nil {
			if e, err := ParseExpr(s.X.Expr); err == nil {
				s.X.Key = e.Key()
			}
		}
		for _, s := range d.Widgets[i].slots("") {
			for _, f := range s.fields {
				if e, err := ParseExpr(f.Expr); err == nil {
					f.Key = e.Key()
				}
			}
		}
	}
}

// Fields returns pointers to every field of the widget, in the order value, x, y, series,
// label, columns, rows, pivot_columns, values.
func (w *Widget) Fields() []*Field {
	var out []*Field
	for _, s := range w.slots("") {
		out = append(out, s.fields...)
	}
	return out
}

// Widget returns the widget with the given name.
func (d *Dashboard) Widget(name string) (*Widget, bool) {
	for i := range d.Widgets {
		if d.Widgets[i].Name == name {
			return &d.Widgets[i], true
		}
	}
	return nil, false
}

// Filter returns the filter with the given name.
func (d *Dashboard) Filter(name string) (*Filter, bool) {
	for i := range d.Filters {
		if d.Filters[i].Name == name {
			return &d.Filters[i], true
		}
	}
	return nil, false
}

// Dataset returns the dataset with the given name.
func (d *Dashboard) Dataset(name string) (*Dataset, bool) {
	for i := range d.Datasets {
		if d.Datasets[i].Name == name {
			return &d.Datasets[i], true
		}
	}
	return nil, false
}

func dateString(t time.Time) string {
	if t.Equal(t.Truncate(24*time.Hour)) && t.Location() == time.UTC {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339)
}
