package rcache

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/datasource"
)

func TestCodecRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 29, 1, 2, 3, 456789000, time.UTC)
	in := &datasource.Result{
		Columns:   []datasource.Column{{Name: "a", Type: "string"}, {Name: "b", Type: "integer"}},
		Rows:      [][]any{{"x", int64(-7), 1.25, true, false, nil, json.Number("12345678901234567890.5"), at, ""}, {}},
		Truncated: true,
	}
	b, err := encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%#v", in) != fmt.Sprintf("%#v", out) {
		t.Fatalf("round trip:\n%#v\n%#v", in, out)
	}
	empty := &datasource.Result{Columns: []datasource.Column{}, Rows: [][]any{}}
	b, _ = encode(empty)
	if out, err := decode(b); err != nil || len(out.Rows) != 0 || out.Rows == nil {
		t.Fatalf("empty result: %#v, %v", out, err)
	}
	if _, err := encode(&datasource.Result{Rows: [][]any{{struct{}{}}}}); err == nil {
		t.Fatal("an unknown cell type was encoded")
	}
	// Every truncation of a valid entry is rejected, never a panic.
	b, _ = encode(in)
	for i := range b {
		if _, err := decode(b[:i]); err == nil {
			t.Fatalf("truncated entry (%d of %d bytes) decoded", i, len(b))
		}
	}
}

func FuzzDecode(f *testing.F) {
	b, _ := encode(&datasource.Result{Columns: []datasource.Column{{Name: "a"}}, Rows: [][]any{{"x", int64(1), 2.5, time.Unix(0, 0).UTC()}}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		decode(b) // must not panic or allocate without bound
	})
}
