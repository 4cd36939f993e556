package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/inlay/inlay/internal/compile"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/token"
)

// Error is a failure the client may see: a stable code, a message written for the client, and
// optional details. The cause, if any, is only logged.
type Error struct {
	Status  int
	Code    string
	Message string
	Details map[string]any
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Code + ": " + e.Message + ": " + e.Cause.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// tokenReasons maps token verification failures to the reason codes of a 401 invalid_token.
var tokenReasons = []struct {
	err    error
	reason string
}{
	{token.ErrExpired, "expired"},
	{token.ErrSignature, "bad_signature"},
	{token.ErrWrongKind, "wrong_type"},
	{token.ErrUnknownKey, "unknown_key"},
	{token.ErrClaims, "invalid_claims"},
	{token.ErrMalformed, "malformed"},
}

func tokenReason(err error) string {
	for _, r := range tokenReasons {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return "malformed"
}

// toAPIError is the one table from domain errors to what a client sees. Anything it does not
// know is an internal error whose details stay in the log.
func toAPIError(err error) *Error {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return apiErr
	}
	var rlsErr *compile.RLSError
	var filterErr *compile.FilterError
	var unknownFilter *compile.UnknownFilterError
	var pageErr *compile.PageError
	var unknownWidget *compile.UnknownWidgetError
	switch {
	case errors.As(err, &rlsErr):
		return &Error{Status: http.StatusForbidden, Code: "rls_value_missing",
			Message: "the embed token does not carry a value this dashboard needs to filter rows",
			Details: map[string]any{"attribute": rlsErr.Attribute}, Cause: err}
	case errors.As(err, &filterErr):
		return &Error{Status: http.StatusBadRequest, Code: "invalid_filter", Message: filterErr.Error(),
			Details: map[string]any{"filter": filterErr.Filter}, Cause: err}
	case errors.As(err, &unknownFilter):
		return &Error{Status: http.StatusBadRequest, Code: "unknown_filter", Message: unknownFilter.Error(),
			Details: map[string]any{"filter": unknownFilter.Filter}, Cause: err}
	case errors.As(err, &pageErr):
		return &Error{Status: http.StatusBadRequest, Code: "invalid_page", Message: pageErr.Error(),
			Details: map[string]any{"widget": pageErr.Widget}, Cause: err}
	case errors.As(err, &unknownWidget):
		return &Error{Status: http.StatusBadRequest, Code: "unknown_widget", Message: unknownWidget.Error(),
			Details: map[string]any{"widget": unknownWidget.Widget}, Cause: err}
	case errors.Is(err, compile.ErrDefinition):
		return &Error{Status: http.StatusInternalServerError, Code: "query_failed", Message: "the dashboard's definition cannot be compiled", Cause: err}
	case errors.Is(err, datasource.ErrTimeout):
		return &Error{Status: http.StatusGatewayTimeout, Code: "query_timeout", Message: "the query took too long", Cause: err}
	case errors.Is(err, datasource.ErrUnavailable):
		return &Error{Status: http.StatusServiceUnavailable, Code: "datasource_unavailable", Message: "the database is unavailable", Cause: err}
	case errors.Is(err, datasource.ErrInvalidQuery):
		return &Error{Status: http.StatusInternalServerError, Code: "query_failed", Message: "the dashboard's query failed", Cause: err}
	case errors.Is(err, datasource.ErrCanceled), errors.Is(err, context.Canceled):
		// 499 in nginx terms; the client has gone and will not read it.
		return &Error{Status: 499, Code: "canceled", Message: "the request was canceled", Cause: err}
	}
	return &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error", Cause: err}
}

type envelope struct {
	Error envelopeBody `json:"error"`
}

type envelopeBody struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// writeError writes the JSON error envelope and logs the cause of server-side failures.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := toAPIError(err)
	if e.Status >= 500 {
		s.Logger.ErrorContext(r.Context(), "request failed", "code", e.Code, "err", err)
	} else {
		s.Logger.DebugContext(r.Context(), "request rejected", "code", e.Code, "err", err)
	}
	writeJSON(w, e.Status, envelope{Error: envelopeBody{Code: e.Code, Message: e.Message, Details: e.Details}})
}

// oauthError is RFC 6749 section 5.2's error shape, used by /oidc/v1/token.
type oauthError struct {
	Status      int
	Code        string // invalid_request, invalid_client, invalid_grant, unsupported_grant_type, invalid_scope
	Description string
	Cause       error
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }
func (e *oauthError) Unwrap() error { return e.Cause }

func (s *Server) writeOAuthError(w http.ResponseWriter, r *http.Request, err error) {
	var oe *oauthError
	if !errors.As(err, &oe) {
		s.Logger.ErrorContext(r.Context(), "token request failed", "err", err)
		oe = &oauthError{Status: http.StatusInternalServerError, Code: "server_error", Description: "internal error"}
	}
	if oe.Code == "invalid_client" {
		w.Header().Set("WWW-Authenticate", `Basic realm="inlay"`)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, oe.Status, map[string]string{"error": oe.Code, "error_description": oe.Description})
}

// databricksError is the error shape of Databricks' REST API, used under /api/2.0/ so that host
// code written for it reads Inlay's errors the same way.
type databricksError struct {
	Status  int
	Code    string // INVALID_PARAMETER_VALUE, UNAUTHENTICATED, PERMISSION_DENIED, RESOURCE_DOES_NOT_EXIST
	Message string
}

func (e *databricksError) Error() string { return e.Code + ": " + e.Message }

func (s *Server) writeDatabricksError(w http.ResponseWriter, r *http.Request, err error) {
	var de *databricksError
	if !errors.As(err, &de) {
		s.Logger.ErrorContext(r.Context(), "request failed", "err", err)
		de = &databricksError{Status: http.StatusInternalServerError, Code: "INTERNAL_ERROR", Message: "internal error"}
	}
	writeJSON(w, de.Status, map[string]string{"error_code": de.Code, "message": de.Message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("writing response", "err", err)
	}
}
