package compile

import (
	"errors"
	"fmt"
	"strings"

	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/rls"
)

// ErrRLSValueMissing: a dataset needs a viewer value or attribute that the viewer does not carry.
// The query is refused (fail closed). Errors matching it are *RLSError, naming the attribute.
var ErrRLSValueMissing = errors.New("compile: row-level security value missing")

// ExternalValueAttribute is the attribute name RLSError reports when the dataset SQL uses
// __aibi_external_value and the viewer has no external value.
const ExternalValueAttribute = "external_value"

// RLSError says which viewer attribute a dataset needed and did not get.
type RLSError struct {
	Attribute string
	// Reason is empty when the attribute is absent, else why its value cannot be used.
	Reason string
}

func (e *RLSError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("row-level security attribute %q: %s", e.Attribute, e.Reason)
	}
	return fmt.Sprintf("row-level security attribute %q is missing from the viewer's token", e.Attribute)
}

// Is makes errors.Is(err, ErrRLSValueMissing) true.
func (e *RLSError) Is(target error) bool { return target == ErrRLSValueMissing }

// ErrDefinition: the dashboard definition cannot be compiled (unknown dataset, bad expression,
// a field of the wrong kind for the widget). The author's mistake, found before any query runs.
var ErrDefinition = errors.New("compile: invalid dashboard definition")

func definitionError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrDefinition}, args...)...)
}

// builder accumulates SQL text and its bound arguments. Every argument goes through bind, which
// returns the dialect's marker for it, so markers always appear in argument order.
type builder struct {
	dialect datasource.Dialect
	sb      strings.Builder
	args    []any
}

func (b *builder) bind(v any) string {
	b.args = append(b.args, v)
	return b.dialect.Placeholder(len(b.args))
}

func (b *builder) quote(ident string) string { return b.dialect.QuoteIdent(ident) }

// securedDataset writes the dataset's query with row-level security applied: this is the one
// place RLS is applied, and every query the compiler produces (widgets, filter options, exports)
// reads its rows through it.
//
// The dataset SQL has __aibi_external_value replaced by the viewer's external value as a bound
// parameter, then is wrapped as
//
//	SELECT * FROM (<sql>) AS rls_base WHERE <rule> AND <rule> ...
//
// for the dataset's structured rules. Anything the viewer lacks is an *RLSError.
func securedDataset(b *builder, ds *dashboard.Dataset, v rls.Viewer) error {
	if strings.TrimSpace(ds.SQL) == "" {
		return definitionError("dataset %q has no SQL (a sql_file must be loaded into SQL by the dashboard loader)", ds.Name)
	}
	var missing bool
	sql, _, err := rls.PrepareDataset(ds.SQL, func() string {
		if v.ExternalValue == nil {
			missing = true
			return "NULL"
		}
		return b.bind(*v.ExternalValue)
	})
	if err != nil {
		return definitionError("dataset %q: %v", ds.Name, err)
	}
	if missing {
		return &RLSError{Attribute: ExternalValueAttribute}
	}
	// Newlines around the dataset SQL keep a trailing line comment from swallowing the ')'.
	b.sb.WriteString("SELECT * FROM (\n")
	b.sb.WriteString(sql)
	b.sb.WriteString("\n) AS rls_base")
	if len(ds.RLS) > 0 {
		b.sb.WriteString(" WHERE ")
	}
	for i, rule := range ds.RLS {
		if i > 0 {
			b.sb.WriteString(" AND ")
		}
		if !dashboard.ValidIdent(rule.Column) {
			return definitionError("dataset %q: rls column %q is not a plain identifier", ds.Name, rule.Column)
		}
		values, ok := v.Attributes[rule.Attribute]
		if !ok {
			return &RLSError{Attribute: rule.Attribute}
		}
		col := b.quote(rule.Column)
		switch rule.Operator {
		case "", "eq":
			if len(values) != 1 {
				return &RLSError{Attribute: rule.Attribute, Reason: fmt.Sprintf("an eq rule needs exactly one value, the token has %d", len(values))}
			}
			b.sb.WriteString(col + " = " + b.bind(values[0]))
		case "in":
			if len(values) == 0 {
				// No allowed values: no rows. IN () is not valid SQL.
				b.sb.WriteString("1 = 0")
				continue
			}
			b.sb.WriteString(col + " IN (")
			for j, val := range values {
				if j > 0 {
					b.sb.WriteString(", ")
				}
				b.sb.WriteString(b.bind(val))
			}
			b.sb.WriteString(")")
		default:
			return definitionError("dataset %q: unknown rls operator %q", ds.Name, rule.Operator)
		}
	}
	return nil
}

func findDataset(d *dashboard.Dashboard, name string) (*dashboard.Dataset, error) {
	for i := range d.Datasets {
		if d.Datasets[i].Name == name {
			return &d.Datasets[i], nil
		}
	}
	return nil, definitionError("dataset %q is not defined", name)
}

func sourceName(ds *dashboard.Dataset) string {
	if ds.Source == "" {
		return "default"
	}
	return ds.Source
}
