package compile

import (
	"errors"
	"fmt"
	"strings"

	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
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

func sourceName(ds *dashboard.Dataset) string {
	if ds.Source == "" {
		return "default"
	}
	return ds.Source
}
