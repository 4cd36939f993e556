package dashboard

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"sort"
	"testing"
)

// The JSON Schema editors use must not drift from the Go model and validator: these tests tie
// its keys, enums, patterns and per-type rules to the Go code.

type jsonSchema struct {
	Type                 any                    `json:"type"`
	Properties           map[string]*jsonSchema `json:"properties"`
	AdditionalProperties *bool                  `json:"additionalProperties"`
	Required             []string               `json:"required"`
	Enum                 []string               `json:"enum"`
	Const                string                 `json:"const"`
	Pattern              string                 `json:"pattern"`
	Ref                  string                 `json:"$ref"`
	AnyOf                []*jsonSchema          `json:"anyOf"`
	AllOf                []*jsonSchema          `json:"allOf"`
	If                   *jsonSchema            `json:"if"`
	Then                 *jsonSchema            `json:"then"`
	Defs                 map[string]*jsonSchema `json:"$defs"`
	Schema               string                 `json:"$schema"`
}

// UnmarshalJSON accepts the boolean schema false ("this property is not allowed").
func (s *jsonSchema) UnmarshalJSON(b []byte) error {
	if string(b) == "false" {
		*s = jsonSchema{Enum: []string{}} // no value allowed
		return nil
	}
	type plain jsonSchema
	return json.Unmarshal(b, (*plain)(s))
}

func loadSchema(t *testing.T) *jsonSchema {
	t.Helper()
	data, err := os.ReadFile("../../schema/dashboard.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s jsonSchema
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("schema is not valid JSON: %v", err)
	}
	if s.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %q, want draft 2020-12", s.Schema)
	}
	return &s
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	sort.Strings(c)
	return c
}

func TestSchemaMatchesGoTypes(t *testing.T) {
	s := loadSchema(t)
	objects := map[string]*jsonSchema{"": s}
	for name, def := range s.Defs {
		objects[name] = def
	}
	types := map[string]reflect.Type{
		"":              reflect.TypeOf(Dashboard{}),
		"dataset":       reflect.TypeOf(Dataset{}),
		"rls_rule":      reflect.TypeOf(RLSRule{}),
		"filter":        reflect.TypeOf(Filter{}),
		"filter_target": reflect.TypeOf(FilterTarget{}),
		"widget":        reflect.TypeOf(Widget{}),
		"sort":          reflect.TypeOf(Sort{}),
		"layout":        reflect.TypeOf(Layout{}),
		"page":          reflect.TypeOf(Page{}),
	}
	for def, typ := range types {
		obj := objects[def]
		if obj == nil {
			t.Errorf("schema has no $defs/%s for %s", def, typ)
			continue
		}
		var want, got []string
		for k := range yamlFields(typ) {
			want = append(want, k)
		}
		for k := range obj.Properties {
			got = append(got, k)
		}
		if !slices.Equal(sortedCopy(got), sortedCopy(want)) {
			t.Errorf("schema %q properties %v, Go %s keys %v", def, sortedCopy(got), typ, sortedCopy(want))
		}
		if obj.AdditionalProperties == nil || *obj.AdditionalProperties {
			t.Errorf("schema %q must set additionalProperties: false (unknown keys are errors)", def)
		}
	}
	// The mapping form of a field.
	var fieldObj *jsonSchema
	for _, alt := range s.Defs["field"].AnyOf {
		if alt.Properties != nil {
			fieldObj = alt
		}
	}
	if fieldObj == nil {
		t.Fatal("schema field has no mapping form")
	}
	var got []string
	for k := range fieldObj.Properties {
		got = append(got, k)
	}
	want := []string{"expr", "format", "label"}
	if !slices.Equal(sortedCopy(got), want) {
		t.Errorf("schema field mapping keys %v, want %v", sortedCopy(got), want)
	}
}

func TestSchemaEnumsAndPatterns(t *testing.T) {
	s := loadSchema(t)
	check := func(what string, got, want []string) {
		t.Helper()
		if !slices.Equal(sortedCopy(got), sortedCopy(want)) {
			t.Errorf("%s: schema %v, Go %v", what, got, want)
		}
	}
	check("widget types", s.Defs["widget"].Properties["type"].Enum, WidgetTypes)
	check("filter types", s.Defs["filter"].Properties["type"].Enum, FilterTypes)
	check("rls operators", s.Defs["rls_rule"].Properties["operator"].Enum, []string{OperatorEq, OperatorIn})
	var named []string
	var pattern string
	for _, alt := range s.Defs["format"].AnyOf {
		named = append(named, alt.Enum...)
		pattern += alt.Pattern
	}
	check("formats", named, Formats)
	if pattern != d3PatternRE.String() {
		t.Errorf("format pattern: schema %q, Go %q", pattern, d3PatternRE.String())
	}
	if got := s.Properties["id"].Pattern; got != slugRE.String() {
		t.Errorf("id pattern: schema %q, Go %q", got, slugRE.String())
	}
	if got := s.Defs["ident"].Pattern; got != identRE.String() {
		t.Errorf("identifier pattern: schema %q, Go %q", got, identRE.String())
	}
	if got := s.Defs["rls_rule"].Properties["attribute"].Pattern; got != attributeRE.String() {
		t.Errorf("attribute pattern: schema %q, Go %q", got, attributeRE.String())
	}
}

// TestSchemaWidgetRules checks the schema's per-type if/then rules require and forbid the same
// field slots as the Go validator.
func TestSchemaWidgetRules(t *testing.T) {
	s := loadSchema(t)
	rules := map[string]*jsonSchema{}
	for _, r := range s.Defs["widget"].AllOf {
		if r.If == nil || r.Then == nil || r.If.Properties["type"] == nil {
			t.Fatalf("widget allOf entry without if type/then: %+v", r)
		}
		rules[r.If.Properties["type"].Const] = r.Then
	}
	allSlots := []string{"value", "x", "y", "series", "label", "columns", "rows", "pivot_columns", "values"}
	for _, typ := range WidgetTypes {
		then, ok := rules[typ]
		if !ok {
			t.Errorf("schema has no rule for widget type %q", typ)
			continue
		}
		var required []string
		for slot, rule := range widgetSlots[typ] {
			if rule.required {
				required = append(required, slot)
			}
		}
		// Text tiles need their Markdown and no dataset; every other type reads a dataset.
		if typ == WidgetText {
			required = append(required, "content")
		} else {
			required = append(required, "dataset")
		}
		forbids := func(key string) bool {
			return then.Properties[key] != nil && then.Properties[key].Enum != nil && len(then.Properties[key].Enum) == 0
		}
		if forbids("content") != (typ != WidgetText) || forbids("dataset") != (typ == WidgetText) {
			t.Errorf("%s: schema forbids content = %v, dataset = %v", typ, forbids("content"), forbids("dataset"))
		}
		if !slices.Equal(sortedCopy(then.Required), sortedCopy(required)) {
			t.Errorf("%s: schema requires %v, Go %v", typ, then.Required, required)
		}
		for _, slot := range allSlots {
			_, uses := widgetSlots[typ][slot]
			forbidden := then.Properties[slot] != nil && then.Properties[slot].Enum != nil && len(then.Properties[slot].Enum) == 0
			if uses == forbidden {
				t.Errorf("%s: slot %q: Go uses it = %v, schema forbids it = %v", typ, slot, uses, forbidden)
			}
		}
	}
	if len(rules) != len(WidgetTypes) {
		t.Errorf("schema has rules for %d widget types, Go knows %d", len(rules), len(WidgetTypes))
	}
}
