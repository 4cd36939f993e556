package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"

	"github.com/inlay/inlay/internal/compile"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/looker"
	"github.com/inlay/inlay/internal/storage"
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
	// RetryAfter, in seconds, is sent as Retry-After (429, 503) when positive.
	RetryAfter int
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

func tokenReason(err error) string { return token.Reason(err) }

// Codes of the token flow, as RFC 6749 names them; the Databricks-shaped routes render them
// with their own names (databricksCodes).
const (
	codeInvalidRequest       = "invalid_request"
	codeInvalidClient        = "invalid_client"
	codeInvalidGrant         = "invalid_grant"
	codeUnsupportedGrantType = "unsupported_grant_type"
	codeInvalidScope         = "invalid_scope"
)

// toAPIError is the one table from domain errors to what a client sees. Anything it does not
// know is an internal error whose details stay in the log.
func toAPIError(err error) *Error {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return apiErr
	}
	if e := oauthQueryError(err); e != nil {
		return e
	}
	var tokenErr *token.Error
	if errors.As(err, &tokenErr) {
		return &Error{Status: http.StatusBadRequest, Code: string(tokenErr.Code), Message: tokenErr.Public, Cause: err}
	}
	var lookerErr *looker.Error
	if errors.As(err, &lookerErr) {
		return lookerError(lookerErr)
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
	case errors.Is(err, datasource.ErrBusy):
		return &Error{Status: http.StatusServiceUnavailable, Code: "datasource_busy", Message: "too many queries are waiting for the database; try again shortly", Cause: err, RetryAfter: 1}
	case errors.Is(err, storage.ErrUnavailable):
		return &Error{Status: http.StatusServiceUnavailable, Code: "state_unavailable", Message: "Inlay's state store is unavailable; retry shortly", Cause: err}
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
	if e.Code == "rls_value_missing" {
		s.Observer.RLSRefused()
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	writeJSON(w, e.Status, envelope{Error: envelopeBody{Code: e.Code, Message: e.Message, Details: e.Details}})
}

// oauthCodes are the codes RFC 6749 section 5.2 defines, which /oidc/v1/token answers with.
var oauthCodes = []string{codeInvalidRequest, codeInvalidClient, codeInvalidGrant, codeUnsupportedGrantType, codeInvalidScope}

// writeOAuthError renders any error in RFC 6749's shape, used by /oidc/v1/token: codes RFC 6749
// does not define become invalid_request (a client error) or server_error.
func (s *Server) writeOAuthError(w http.ResponseWriter, r *http.Request, err error) {
	e := toAPIError(err)
	code := e.Code
	if !slices.Contains(oauthCodes, code) && code != codeRateLimited {
		code = codeInvalidRequest
		if e.Status == http.StatusServiceUnavailable {
			code = "temporarily_unavailable"
		} else if e.Status >= 500 {
			code = "server_error"
		}
	}
	s.logError(r, e, err)
	if code == codeInvalidClient {
		w.Header().Set("WWW-Authenticate", `Basic realm="inlay"`)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, e.Status, map[string]string{"error": code, "error_description": e.Message})
}

// databricksCodes name Inlay's codes as Databricks' REST API does; other errors are named by
// their status (databricksStatusCodes).
var databricksCodes = map[string]string{
	codeInvalidRequest:       "INVALID_PARAMETER_VALUE",
	"invalid_token":          "UNAUTHENTICATED",
	"forbidden":              "PERMISSION_DENIED",
	"not_found":              "RESOURCE_DOES_NOT_EXIST",
	"datasource_unavailable": "TEMPORARILY_UNAVAILABLE",
	codeRateLimited:          "REQUEST_LIMIT_EXCEEDED",
	"state_unavailable":      "TEMPORARILY_UNAVAILABLE",
}

var databricksStatusCodes = map[int]string{
	http.StatusBadRequest:   "INVALID_PARAMETER_VALUE",
	http.StatusUnauthorized: "UNAUTHENTICATED",
	http.StatusForbidden:    "PERMISSION_DENIED",
	http.StatusNotFound:     "RESOURCE_DOES_NOT_EXIST",
}

// writeDatabricksError renders any error in the shape of Databricks' REST API, used under
// /api/2.0/ so that host code written for it reads Inlay's errors the same way.
func (s *Server) writeDatabricksError(w http.ResponseWriter, r *http.Request, err error) {
	e := toAPIError(err)
	code, ok := databricksCodes[e.Code]
	if !ok {
		code, ok = databricksStatusCodes[e.Status]
	}
	if !ok {
		code = "INTERNAL_ERROR"
		if e.Status < 500 {
			code = "INVALID_PARAMETER_VALUE"
		}
	}
	s.logError(r, e, err)
	writeJSON(w, e.Status, map[string]string{"error_code": code, "message": e.Message})
}

// logError logs server-side failures with their cause, and client errors at debug level.
func (s *Server) logError(r *http.Request, e *Error, err error) {
	if e.Status >= 500 {
		s.Logger.ErrorContext(r.Context(), "request failed", "code", e.Code, "err", err)
	} else {
		s.Logger.DebugContext(r.Context(), "request rejected", "code", e.Code, "err", err)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("writing response", "err", err)
	}
}
