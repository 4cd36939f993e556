package rls

import (
	"errors"
	"strings"
	"testing"
)

func TestRewriteExternalValue(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
		n    int
	}{
		{"bare", "SELECT * FROM t WHERE dept = __aibi_external_value", "SELECT * FROM t WHERE dept = ?", 1},
		{"upper case", "WHERE dept = __AIBI_EXTERNAL_VALUE", "WHERE dept = ?", 1},
		{"twice", "a = __aibi_external_value OR b=__aibi_external_value", "a = ? OR b=?", 2},
		{"in parens and cast", "(__aibi_external_value)::text", "(?)::text", 1},
		{"string literal", "x = '__aibi_external_value'", "x = '__aibi_external_value'", 0},
		{"literal with doubled quote", "x = 'it''s __aibi_external_value' AND y = __aibi_external_value", "x = 'it''s __aibi_external_value' AND y = ?", 1},
		{"E string with backslash quote", `x = E'\' __aibi_external_value' AND y = __aibi_external_value`, `x = E'\' __aibi_external_value' AND y = ?`, 1},
		{"plain string backslash is not escape", `x = 'a\' AND y = __aibi_external_value`, `x = 'a\' AND y = ?`, 1},
		{"quoted identifier", `SELECT "__aibi_external_value" FROM t`, `SELECT "__aibi_external_value" FROM t`, 0},
		{"backtick identifier", "SELECT `__aibi_external_value` FROM t", "SELECT `__aibi_external_value` FROM t", 0},
		{"line comment", "x = 1 -- __aibi_external_value\nAND y = __aibi_external_value", "x = 1 -- __aibi_external_value\nAND y = ?", 1},
		{"line comment at end", "x = 1 -- __aibi_external_value", "x = 1 -- __aibi_external_value", 0},
		{"nested block comment", "/* a /* __aibi_external_value */ __aibi_external_value */ __aibi_external_value", "/* a /* __aibi_external_value */ __aibi_external_value */ ?", 1},
		{"dollar quoted", "$$ __aibi_external_value $$ || $tag$ $$ __aibi_external_value $tag$", "$$ __aibi_external_value $$ || $tag$ $$ __aibi_external_value $tag$", 0},
		{"positional parameter is not a dollar quote", "$1 = __aibi_external_value", "$1 = ?", 1},
		{"longer identifiers", "x__aibi_external_value, __aibi_external_value2, a$__aibi_external_value, __aibi_external_value$", "x__aibi_external_value, __aibi_external_value2, a$__aibi_external_value, __aibi_external_value$", 0},
		{"qualified", "t.__aibi_external_value, t . __aibi_external_value, __aibi_external_value.c", "t.__aibi_external_value, t . __aibi_external_value, __aibi_external_value.c", 0},
		{"after number", "1__aibi_external_value", "1__aibi_external_value", 0},
		{"trailing semicolon", "SELECT __aibi_external_value; -- done\n", "SELECT ?; -- done\n", 1},
		{"non-ASCII neighbour", "é__aibi_external_value", "é__aibi_external_value", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n, err := RewriteExternalValue(tt.in, func() string { return "?" })
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if got != tt.want || n != tt.n {
				t.Errorf("got %q (n=%d), want %q (n=%d)", got, n, tt.want, tt.n)
			}
		})
	}
}

func TestRewriteExternalValueErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"unterminated string", "x = 'abc", ErrUnterminated},
		{"unterminated E string", `x = E'abc\'`, ErrUnterminated},
		{"unterminated identifier", `x = "abc`, ErrUnterminated},
		{"unterminated block comment", "x /* a /* b */", ErrUnterminated},
		{"unterminated dollar", "x = $a$ abc $b$", ErrUnterminated},
		{"second statement", "SELECT 1; DROP TABLE t", ErrMultipleStatements},
		{"second statement after comment", "SELECT 1; /* c */ SELECT 2", ErrMultipleStatements},
		{"double semicolon", "SELECT 1;;", ErrMultipleStatements},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := RewriteExternalValue(tt.in, func() string { return "?" })
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), tt.in) {
				t.Errorf("error message repeats the SQL: %v", err)
			}
		})
	}
}

func TestPrepareDatasetDropsTerminator(t *testing.T) {
	got, n, err := PrepareDataset("SELECT ';' AS s, __aibi_external_value AS v; -- end", func() string { return "$1" })
	if err != nil {
		t.Fatal(err)
	}
	if want := "SELECT ';' AS s, $1 AS v  -- end"; got != want || n != 1 {
		t.Errorf("got %q (n=%d), want %q", got, n, want)
	}
}

// marker is the placeholder the fuzz target inserts; inputs holding its first byte are skipped so
// the round trip is unambiguous.
const marker = "\x01PH\x01"

func FuzzRewriteExternalValue(f *testing.F) {
	seeds := []string{
		"SELECT * FROM sales WHERE department = __aibi_external_value",
		"x = '__aibi_external_value'",
		`x = E'\\' __aibi_external_value'`,
		`"__aibi_external_value" = __AIBI_External_Value`,
		"/* /* */ __aibi_external_value */ __aibi_external_value",
		"-- __aibi_external_value\n__aibi_external_value",
		"$t$ __aibi_external_value $t$ $1 __aibi_external_value",
		"t.__aibi_external_value __aibi_external_value.c x__aibi_external_value __aibi_external_value2",
		"SELECT 1; SELECT 2",
		"SELECT __aibi_external_value;",
		"'unterminated",
		"e'", "$$", "/*", "`", "\"", "E'\\", "1e__aibi_external_value",
		"\xff__aibi_external_value", "__aibi_external_value\x00",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if strings.Contains(in, "\x01") {
			t.Skip()
		}
		calls := 0
		out, n, err := RewriteExternalValue(in, func() string { calls++; return marker })
		if err != nil {
			if out != "" || n != 0 {
				t.Fatalf("error %v with output %q, n=%d", err, out, n)
			}
			return
		}
		if calls != n || strings.Count(out, marker) != n {
			t.Fatalf("n=%d, placeholder called %d times, %d markers in output", n, calls, strings.Count(out, marker))
		}
		if !strings.Contains(strings.ToLower(in), ExternalValueIdent) && out != in {
			t.Fatalf("input without the identifier changed: %q -> %q", in, out)
		}
		// Round trip: each marker stands where the input had the identifier (in any case), and
		// everything else is byte for byte the input.
		rest := in
		for i, part := range strings.Split(out, marker) {
			if i > 0 {
				if len(rest) < len(ExternalValueIdent) || !strings.EqualFold(rest[:len(ExternalValueIdent)], ExternalValueIdent) {
					t.Fatalf("marker %d does not stand for the identifier: in=%q out=%q", i, in, out)
				}
				rest = rest[len(ExternalValueIdent):]
			}
			if !strings.HasPrefix(rest, part) {
				t.Fatalf("output does not round-trip: in=%q out=%q", in, out)
			}
			rest = rest[len(part):]
		}
		if rest != "" {
			t.Fatalf("output shorter than input: in=%q out=%q", in, out)
		}
	})
}
