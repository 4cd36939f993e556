package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/inlay/inlay/internal/storage"
)

// wrap names the operation and marks failures to reach the database with
// storage.ErrUnavailable, so callers answer 503 (retry shortly) rather than 500.
func wrap(op string, err error) error {
	if unavailable(err) {
		return fmt.Errorf("postgres state: %s: %w: %w", op, storage.ErrUnavailable, err)
	}
	return fmt.Errorf("postgres state: %s: %w", op, err)
}

// unavailable reports whether err means the database could not be reached or went away, as
// opposed to a statement it refused.
func unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"): // connection exception
			return true
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03": // shutting down, starting up
			return true
		case pgErr.Code == "53300": // too many connections
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) || pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}
