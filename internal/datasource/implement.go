package datasource

import (
	"context"
	"errors"
	"fmt"
)

// Helpers for Source implementations: the parts of Query that do not depend on the driver.

// rowsPerSlab is how many rows' cells RowBuffer allocates in one block.
const rowsPerSlab = 256

// RowBuffer collects a result's rows. It allocates cells in blocks of rows (one allocation per
// block instead of one per row), and never a block larger than the row cap leaves room for.
type RowBuffer struct {
	width, maxRows int
	slab           []any
	rows           [][]any
}

// NewRowBuffer returns a buffer for rows of width cells, capped at maxRows (0: no cap).
func NewRowBuffer(width, maxRows int) *RowBuffer {
	return &RowBuffer{width: width, maxRows: maxRows, rows: [][]any{}}
}

// Full reports that the cap is reached: a further row means the result is truncated.
func (b *RowBuffer) Full() bool { return b.maxRows > 0 && len(b.rows) == b.maxRows }

// Add appends a row and returns its cells (all nil) for the caller to fill.
func (b *RowBuffer) Add() []any {
	if len(b.slab) < b.width {
		n := rowsPerSlab
		if b.maxRows > 0 && b.maxRows-len(b.rows) < n {
			n = b.maxRows - len(b.rows)
		}
		b.slab = make([]any, b.width*max(n, 1))
	}
	row := b.slab[:b.width:b.width]
	b.slab = b.slab[b.width:]
	b.rows = append(b.rows, row)
	return row
}

// Rows returns the rows added so far.
func (b *RowBuffer) Rows() [][]any { return b.rows }

// ContextError classifies a query error by its contexts, ctx the caller's and qctx the one
// carrying Query.Timeout: ErrTimeout when a deadline passed, ErrCanceled when the caller went
// away. ok is false when neither context has ended, and the driver must classify err itself.
func ContextError(ctx, qctx context.Context, err error) (classified error, ok bool) {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", ErrTimeout, err), true
	case ctx.Err() != nil:
		return fmt.Errorf("%w: %w", ErrCanceled, err), true
	case qctx.Err() != nil:
		return fmt.Errorf("%w: %w", ErrTimeout, err), true
	}
	return nil, false
}
