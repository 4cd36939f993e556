package compile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/inlay/inlay/internal/dashboard"
)

// Filter errors. The API maps ErrInvalidFilter to 400 invalid_filter and ErrUnknownFilter to 400
// unknown_filter.
var (
	ErrInvalidFilter = errors.New("compile: invalid filter value")
	ErrUnknownFilter = errors.New("compile: unknown filter")
)

// FilterError is a filter value of the wrong type or shape. Message is safe to show the viewer.
type FilterError struct {
	Filter  string
	Message string
}

func (e *FilterError) Error() string { return fmt.Sprintf("filter %q: %s", e.Filter, e.Message) }

// Is makes errors.Is(err, ErrInvalidFilter) true.
func (e *FilterError) Is(target error) bool { return target == ErrInvalidFilter }

// UnknownFilterError names a filter the dashboard does not have.
type UnknownFilterError struct{ Filter string }

func (e *UnknownFilterError) Error() string {
	return fmt.Sprintf("the dashboard has no filter %q", e.Filter)
}

// Is makes errors.Is(err, ErrUnknownFilter) true.
func (e *UnknownFilterError) Is(target error) bool { return target == ErrUnknownFilter }

// FilterValues are validated filter values by filter name. A filter absent from the map does not
// restrict.
type FilterValues map[string]FilterValue

// FilterValue is one validated filter value. Which fields are set depends on the filter's type:
//
//	single_select, multi_select: Values (one or more strings)
//	date_range:   From and/or To (To is exclusive: a date "to" is already moved to the next day)
//	numeric_range: Min and/or Max (inclusive)
type FilterValue struct {
	Values   []string
	From, To *time.Time
	Min, Max *float64
}

// ParseFilters validates the raw JSON filter values of a query request against the dashboard's
// filters (docs/api.md):
//
//   - single_select: a string; multi_select: a list of strings. JSON numbers and booleans are
//     accepted as their text (options of numeric columns), and the engine casts them. An empty
//     list, like null, does not restrict.
//   - date_range: {"from", "to"}, each "YYYY-MM-DD" or RFC 3339, either may be absent. A date "to"
//     is inclusive (the whole day); a timestamp "to" is inclusive to the instant.
//   - numeric_range: {"min", "max"} numbers, either may be absent, both inclusive.
//
// Strings holding a NUL character or invalid UTF-8 are refused (no column value holds them, and
// some drivers truncate at NUL). Errors are *FilterError or *UnknownFilterError.
func ParseFilters(d *dashboard.Dashboard, raw map[string]json.RawMessage) (FilterValues, error) {
	return parseFilters(raw, func(name string) *dashboard.Filter { return findFilter(d, name) }, location(d.TimeZone))
}

func parseFilters(raw map[string]json.RawMessage, lookup func(string) *dashboard.Filter, loc *time.Location) (FilterValues, error) {
	out := make(FilterValues, len(raw))
	for name, msg := range raw {
		f := lookup(name)
		if f == nil {
			return nil, &UnknownFilterError{Filter: name}
		}
		if isNull(msg) {
			continue
		}
		fv, restricts, err := parseFilter(f, msg, loc)
		if err != nil {
			return nil, err
		}
		if restricts {
			out[name] = fv
		}
	}
	return out, nil
}

func findFilter(d *dashboard.Dashboard, name string) *dashboard.Filter {
	for i := range d.Filters {
		if d.Filters[i].Name == name {
			return &d.Filters[i]
		}
	}
	return nil
}

func isNull(msg json.RawMessage) bool {
	t := bytes.TrimSpace(msg)
	return len(t) == 0 || string(t) == "null"
}

func parseFilter(f *dashboard.Filter, msg json.RawMessage, loc *time.Location) (fv FilterValue, restricts bool, err error) {
	bad := func(format string, args ...any) (FilterValue, bool, error) {
		return FilterValue{}, false, &FilterError{Filter: f.Name, Message: fmt.Sprintf(format, args...)}
	}
	switch f.Type {
	case dashboard.FilterSingleSelect:
		s, ok := scalarText(msg)
		if !ok {
			return bad("expected a string")
		}
		if msg := checkText(s); msg != "" {
			return bad("%s", msg)
		}
		return FilterValue{Values: []string{s}}, true, nil

	case dashboard.FilterMultiSelect:
		var items []json.RawMessage
		if err := json.Unmarshal(msg, &items); err != nil {
			return bad("expected a list of strings")
		}
		for _, it := range items {
			s, ok := scalarText(it)
			if !ok {
				return bad("expected a list of strings")
			}
			if msg := checkText(s); msg != "" {
				return bad("%s", msg)
			}
			fv.Values = append(fv.Values, s)
		}
		return fv, len(fv.Values) > 0, nil

	case dashboard.FilterDateRange:
		var r struct {
			From   *string `json:"from"`
			To     *string `json:"to"`
			Preset *string `json:"preset"`
		}
		if err := strictObject(msg, &r); err != nil {
			return bad(`expected {"from": date, "to": date} or {"preset": name}`)
		}
		if r.Preset != nil {
			// A relative range ("last_30_days"), resolved now in the dashboard's time zone.
			if r.From != nil || r.To != nil {
				return bad(`give either "preset" or "from"/"to"`)
			}
			from, to, err := resolvePreset(*r.Preset, Now(), loc)
			if err != nil {
				return bad("%v (one of %s)", err, strings.Join(DatePresets, ", "))
			}
			return FilterValue{From: from, To: to}, from != nil || to != nil, nil
		}
		if r.From != nil {
			t, _, err := parseTime(*r.From)
			if err != nil {
				return bad(`"from": expected YYYY-MM-DD or an RFC 3339 timestamp`)
			}
			fv.From = &t
		}
		if r.To != nil {
			t, isDate, err := parseTime(*r.To)
			if err != nil {
				return bad(`"to": expected YYYY-MM-DD or an RFC 3339 timestamp`)
			}
			if isDate {
				t = t.AddDate(0, 0, 1) // inclusive day: everything before the next midnight
			} else {
				t = t.Add(time.Nanosecond) // inclusive instant, compared with <
			}
			fv.To = &t
		}
		if fv.From != nil && fv.To != nil && !fv.From.Before(*fv.To) {
			return bad(`"from" is after "to"`)
		}
		return fv, fv.From != nil || fv.To != nil, nil

	case dashboard.FilterNumericRange:
		var r struct {
			Min *float64 `json:"min"`
			Max *float64 `json:"max"`
		}
		if err := strictObject(msg, &r); err != nil {
			return bad(`expected {"min": number, "max": number}`)
		}
		if r.Min != nil && r.Max != nil && *r.Min > *r.Max {
			return bad(`"min" is greater than "max"`)
		}
		return FilterValue{Min: r.Min, Max: r.Max}, r.Min != nil || r.Max != nil, nil
	}
	return bad("the dashboard declares an unknown filter type %q", f.Type)
}

// scalarText accepts a JSON string, number or boolean and returns its text.
func scalarText(msg json.RawMessage) (string, bool) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

func checkText(s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return "a value may not contain a NUL character"
	case !utf8.ValidString(s):
		return "a value must be valid UTF-8"
	}
	return ""
}

func strictObject(msg json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// parseTime reads YYYY-MM-DD (a UTC date) or an RFC 3339 timestamp (converted to UTC).
func parseTime(s string) (t time.Time, isDate bool, err error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true, nil
	}
	t, err = time.Parse(time.RFC3339Nano, s)
	return t.UTC(), false, err
}
