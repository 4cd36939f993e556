package datasource

import (
	"context"
	"errors"
	"testing"
)

// Rows from one block and from the next keep their own cells, and Full says when the cap is
// reached.
func TestRowBuffer(t *testing.T) {
	for _, maxRows := range []int{0, 3, 300, 600} {
		b := NewRowBuffer(2, maxRows)
		want := 600
		if maxRows > 0 {
			want = maxRows
		}
		for i := 0; i < want; i++ {
			if b.Full() {
				t.Fatalf("cap %d: full after %d rows", maxRows, i)
			}
			row := b.Add()
			row[0], row[1] = i, -i
		}
		if maxRows > 0 && !b.Full() {
			t.Errorf("cap %d: not full at the cap", maxRows)
		}
		for i, row := range b.Rows() {
			if len(row) != 2 || cap(row) != 2 || row[0] != i || row[1] != -i {
				t.Fatalf("cap %d: row %d = %v (cap %d)", maxRows, i, row, cap(row))
			}
		}
	}
	if rows := NewRowBuffer(1, 0).Rows(); rows == nil || len(rows) != 0 {
		t.Errorf("empty buffer rows = %#v, want an empty non-nil slice (JSON [])", rows)
	}
}

func TestContextError(t *testing.T) {
	cause := errors.New("driver said no")
	live := context.Background()
	canceled, cancel := context.WithCancel(live)
	cancel()
	expired, cancel2 := context.WithTimeout(live, -1)
	defer cancel2()
	for _, c := range []struct {
		name      string
		ctx, qctx context.Context
		want      error
	}{
		{"caller gone", canceled, canceled, ErrCanceled},
		{"caller deadline", expired, expired, ErrTimeout},
		{"query timeout", live, expired, ErrTimeout},
	} {
		got, ok := ContextError(c.ctx, c.qctx, cause)
		if !ok || !errors.Is(got, c.want) || !errors.Is(got, cause) {
			t.Errorf("%s: %v, %v; want %v wrapping the cause", c.name, got, ok, c.want)
		}
	}
	if _, ok := ContextError(live, live, cause); ok {
		t.Error("live contexts classified the error")
	}
}
