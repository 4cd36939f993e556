package compile

import (
	"github.com/inlay/inlay/internal/dashboard"
	"slices"
)

// shape is what a widget selects: dimensions, measures, whether it groups, and its default order.
type shape struct {
	dims, measures []field
	group          bool
	defaultOrder   []orderKey
}

type orderKey struct {
	key  string
	desc bool
}

func resolve(fl *dashboard.Field) (field, error) {
	e, err := dashboard.ParseExpr(fl.Expr)
	if err != nil {
		return field{}, definitionError("%v", err)
	}
	key := fl.Key
	if key == "" {
		key = e.Key()
	}
	return field{key: key, expr: e, src: fl.Expr}, nil
}

// dimension resolves a field that must not aggregate (what / role name it for the message).
func dimension(fl *dashboard.Field, role string) (field, error) {
	if fl == nil {
		return field{}, definitionError("%s is required", role)
	}
	f, err := resolve(fl)
	if err == nil && f.expr.IsAggregate() {
		err = definitionError("%s %q must be a column or a time bucket, not an aggregate", role, fl.Expr)
	}
	return f, err
}

func measure(fl *dashboard.Field, role string) (field, error) {
	if fl == nil {
		return field{}, definitionError("%s is required", role)
	}
	f, err := resolve(fl)
	if err == nil && !f.expr.IsAggregate() {
		err = definitionError("%s %q must be an aggregate such as sum(column) or count(*)", role, fl.Expr)
	}
	return f, err
}

// addUnique appends f unless a field with the same key is already selected (x: region with
// series: region would otherwise select the column twice under one name).
func addUnique(list []field, f field, all ...[]field) []field {
	for _, l := range append(all, list) {
		for _, have := range l {
			if have.key == f.key {
				return list
			}
		}
	}
	return append(list, f)
}

func widgetShape(w *dashboard.Widget) (shape, error) {
	var s shape
	dims := func(role string, fls ...*dashboard.Field) error {
		for _, fl := range fls {
			f, err := dimension(fl, role)
			if err != nil {
				return err
			}
			s.dims = addUnique(s.dims, f)
		}
		return nil
	}
	measures := func(role string, fls []dashboard.Field) error {
		if len(fls) == 0 {
			return definitionError("%s needs at least one field", role)
		}
		for i := range fls {
			f, err := measure(&fls[i], role)
			if err != nil {
				return err
			}
			s.measures = addUnique(s.measures, f, s.dims)
		}
		return nil
	}
	asc := func(fs []field) []orderKey {
		out := make([]orderKey, len(fs))
		for i, f := range fs {
			out[i] = orderKey{key: f.key}
		}
		return out
	}

	switch w.Type {
	case dashboard.WidgetCounter:
		f, err := measure(w.Value, "value")
		if err != nil {
			return s, err
		}
		s.measures = []field{f}
	case dashboard.WidgetBar, dashboard.WidgetLine, dashboard.WidgetArea:
		if err := dims("x", w.X); err != nil {
			return s, err
		}
		if w.Series != nil {
			if err := dims("series", w.Series); err != nil {
				return s, err
			}
		}
		if err := measures("y", w.Y); err != nil {
			return s, err
		}
		s.group = true
		if w.Type == dashboard.WidgetBar && s.dims[0].expr.Kind == dashboard.ExprColumn {
			// Categories: biggest first.
			s.defaultOrder = []orderKey{{key: s.measures[0].key, desc: true}}
		} else {
			// Time buckets and line/area charts read left to right along x.
			s.defaultOrder = asc(s.dims)
		}
	case dashboard.WidgetPie:
		if err := dims("label", w.Label); err != nil {
			return s, err
		}
		f, err := measure(w.Value, "value")
		if err != nil {
			return s, err
		}
		s.measures = []field{f}
		s.group = true
		s.defaultOrder = []orderKey{{key: f.key, desc: true}}
	case dashboard.WidgetTable:
		if len(w.Columns) == 0 {
			return s, definitionError("columns needs at least one field")
		}
		for i := range w.Columns {
			f, err := resolve(&w.Columns[i])
			if err != nil {
				return s, err
			}
			if f.expr.IsAggregate() {
				s.measures = addUnique(s.measures, f, s.dims)
				s.group = true
			} else {
				s.dims = addUnique(s.dims, f, s.measures)
			}
		}
		if s.group {
			s.defaultOrder = asc(s.dims)
		}
		// A raw table keeps the dataset's row order unless the widget sorts.
	case dashboard.WidgetPivot:
		if len(w.Rows) == 0 && len(w.PivotColumns) == 0 {
			return s, definitionError("a pivot needs rows or pivot_columns")
		}
		for _, list := range [][]dashboard.Field{w.Rows, w.PivotColumns} {
			for i := range list {
				if err := dims("pivot dimension", &list[i]); err != nil {
					return s, err
				}
			}
		}
		if err := measures("values", w.Values); err != nil {
			return s, err
		}
		s.group = true
		s.defaultOrder = asc(s.dims)
	default:
		return s, definitionError("unknown widget type %q", w.Type)
	}
	return s, nil
}

// orderBy resolves the widget's Sort entries (by field expression or key) against the fields it
// selects, or returns the type's default order.
func orderBy(w *dashboard.Widget, s shape) ([]orderKey, error) {
	out := s.defaultOrder
	if len(w.Sort) > 0 {
		out = make([]orderKey, 0, len(w.Sort)+len(s.dims))
		for _, so := range w.Sort {
			key := ""
			for _, f := range append(append([]field(nil), s.dims...), s.measures...) {
				if so.Field == f.key || so.Field == f.src {
					key = f.key
					break
				}
			}
			if key == "" {
				return nil, definitionError("sort field %q is not one of the widget's fields", so.Field)
			}
			out = append(out, orderKey{key: key, desc: so.Desc})
		}
	}
	// Every dimension breaks ties, so the same query always returns rows in the same order:
	// series keep their colours between loads, and exports and limits are reproducible.
	for _, d := range s.dims {
		if !slices.ContainsFunc(out, func(o orderKey) bool { return o.key == d.key }) {
			out = append(out, orderKey{key: d.key})
		}
	}
	return out, nil
}
