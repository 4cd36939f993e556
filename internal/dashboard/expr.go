package dashboard

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/inlay/inlay/internal/datasource"
)

// ExprKind says what a field expression computes.
type ExprKind int

const (
	ExprColumn    ExprKind = iota // a plain column: region
	ExprAggregate                 // sum(amount), count(*), count(distinct customer)
	ExprBucket                    // month(ts): a column truncated to a time grain
)

// Expr is a parsed field expression. Column names are validated identifiers, safe to quote.
type Expr struct {
	Kind ExprKind
	// Func is the aggregate ("sum", "avg", "min", "max", "count", "count_distinct") or the
	// grain of a bucket ("day", "month", ...); empty for a plain column.
	Func string
	// Column is the column the expression reads; empty for count(*).
	Column string
}

// Aggregates lists the aggregate functions a field may use (count_distinct is written
// count(distinct col)).
var Aggregates = []string{"sum", "avg", "min", "max", "count", "count_distinct"}

var (
	identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	callRE  = regexp.MustCompile(`^([A-Za-z_]+)\s*\(\s*(distinct\s+)?([A-Za-z_][A-Za-z0-9_]*|\*)\s*\)$`)
)

// ValidIdent reports whether s is a plain SQL identifier Inlay accepts for columns and names.
func ValidIdent(s string) bool { return identRE.MatchString(s) }

// ParseExpr parses a field expression: a column, an aggregate over a column, count(*),
// count(distinct column), or a time bucket such as month(ts).
func ParseExpr(s string) (Expr, error) {
	s = strings.TrimSpace(s)
	if identRE.MatchString(s) {
		return Expr{Kind: ExprColumn, Column: s}, nil
	}
	m := callRE.FindStringSubmatch(strings.ToLower(s))
	if m == nil {
		return Expr{}, fmt.Errorf("%q is not a field expression: use a column, sum|avg|min|max|count(column), count(*), count(distinct column) or day|week|month|quarter|year|hour(column)", s)
	}
	// Keep the column's original spelling (identifiers are case-sensitive once quoted).
	orig := callRE.FindStringSubmatch(s)
	if orig == nil { // mixed-case DISTINCT keyword: fall back to lowered text
		orig = m
	}
	fn, distinct, col := m[1], m[2] != "", orig[3]
	if col == "*" {
		if fn != "count" || distinct {
			return Expr{}, fmt.Errorf("%q: only count(*) may use *", s)
		}
		return Expr{Kind: ExprAggregate, Func: "count"}, nil
	}
	if distinct {
		if fn != "count" {
			return Expr{}, fmt.Errorf("%q: distinct is only allowed in count(distinct column)", s)
		}
		return Expr{Kind: ExprAggregate, Func: "count_distinct", Column: col}, nil
	}
	switch fn {
	case "sum", "avg", "min", "max", "count":
		return Expr{Kind: ExprAggregate, Func: fn, Column: col}, nil
	}
	for _, g := range datasource.Grains {
		if fn == string(g) {
			return Expr{Kind: ExprBucket, Func: fn, Column: col}, nil
		}
	}
	return Expr{}, fmt.Errorf("%q: unknown function %q", s, fn)
}

// IsAggregate reports whether the expression aggregates rows.
func (e Expr) IsAggregate() bool { return e.Kind == ExprAggregate }

// Key is the stable result-column name for the expression, e.g. "sum_amount", "count",
// "count_distinct_customer", "month_ts", "region".
func (e Expr) Key() string {
	switch {
	case e.Kind == ExprColumn:
		return e.Column
	case e.Column == "":
		return e.Func
	default:
		return e.Func + "_" + e.Column
	}
}
