package dashboard

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// WidgetTypes lists every widget kind, in the order the documentation presents them.
var WidgetTypes = []string{WidgetCounter, WidgetBar, WidgetLine, WidgetArea, WidgetPie, WidgetTable, WidgetPivot, WidgetText}

// FilterTypes lists every filter kind.
var FilterTypes = []string{FilterSingleSelect, FilterMultiSelect, FilterDateRange, FilterNumericRange}

// Formats lists the named number formats; any other format must be a d3-style pattern.
var Formats = []string{FormatNumber, FormatCompact, FormatCurrency, FormatPercent, FormatInteger}

// RLS rule operators.
const (
	OperatorEq = "eq"
	OperatorIn = "in"
)

// UnmarshalYAML reads a field written either as a plain expression string ("sum(amount)") or as
// a mapping {expr, label, format}. Shape errors are returned as *yaml.TypeError so that decoding
// carries on and every problem of the file can be reported; unknown keys in the mapping form are
// reported by the parser's key check, not here.
func (f *Field) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*f = Field{Expr: n.Value}
		return nil
	case yaml.MappingNode:
		type plain Field // no UnmarshalYAML method: avoids recursion
		var p plain
		if err := n.Decode(&p); err != nil {
			return err
		}
		*f = Field(p)
		return nil
	case yaml.AliasNode:
		return f.UnmarshalYAML(n.Alias)
	}
	return &yaml.TypeError{Errors: []string{
		fmt.Sprintf("line %d: a field is an expression string or a mapping {expr, label, format}", n.Line),
	}}
}
