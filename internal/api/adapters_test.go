package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/token"
)

// TestEveryAdapterRendersEveryError: handlers return one error type (or domain errors the one
// table knows), and each route's adapter renders any of them in its own shape with the right
// status. An error meant for another route's shape is no longer a silent 500.
func TestEveryAdapterRendersEveryError(t *testing.T) {
	s := &Server{Deps: Deps{Logger: slog.New(slog.DiscardHandler)}}
	errs := []struct {
		name   string
		err    error
		status int
		oauth  string
		dbx    string
		inlay  string
	}{
		{"not found", errorf(http.StatusNotFound, "not_found", "no dashboard"), 404, "invalid_request", "RESOURCE_DOES_NOT_EXIST", "not_found"},
		{"bad client", errorf(http.StatusUnauthorized, codeInvalidClient, "who?"), 401, "invalid_client", "UNAUTHENTICATED", "invalid_client"},
		{"token rule", &token.Error{Code: token.CodeInvalidRequest, Public: "external_value must not be empty"}, 400, "invalid_request", "INVALID_PARAMETER_VALUE", "invalid_request"},
		{"grant", fmt.Errorf("wrapped: %w", &token.Error{Code: token.CodeInvalidGrant, Public: "expired"}), 400, "invalid_grant", "INVALID_PARAMETER_VALUE", "invalid_grant"},
		{"bad token", &Error{Status: 401, Code: "invalid_token", Message: "expired"}, 401, "invalid_request", "UNAUTHENTICATED", "invalid_token"},
		{"database down", fmt.Errorf("q: %w", datasource.ErrUnavailable), 503, "temporarily_unavailable", "TEMPORARILY_UNAVAILABLE", "datasource_unavailable"},
		{"state store down", fmt.Errorf("s: %w", storage.ErrUnavailable), 503, "temporarily_unavailable", "TEMPORARILY_UNAVAILABLE", "state_unavailable"},
		{"unknown", errors.New("disk on fire"), 500, "server_error", "INTERNAL_ERROR", "internal"},
	}
	for _, e := range errs {
		t.Run(e.name, func(t *testing.T) {
			for _, a := range []struct {
				name  string
				write func(http.ResponseWriter, *http.Request, error)
				key   string
				want  string
			}{
				{"oauth", s.writeOAuthError, "error", e.oauth},
				{"databricks", s.writeDatabricksError, "error_code", e.dbx},
				{"envelope", s.writeError, "", e.inlay},
			} {
				rec := httptest.NewRecorder()
				a.write(rec, httptest.NewRequest("GET", "/", nil), e.err)
				var body map[string]any
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
					t.Fatalf("%s: not JSON: %s", a.name, rec.Body)
				}
				got, _ := body[a.key].(string)
				if a.key == "" {
					got, _ = body["error"].(map[string]any)["code"].(string)
				}
				if rec.Code != e.status || got != a.want {
					t.Errorf("%s: %d %s, want %d %s", a.name, rec.Code, rec.Body, e.status, a.want)
				}
				if b := rec.Body.String(); strings.Contains(b, "disk on fire") || strings.Contains(b, "datasource:") {
					t.Errorf("%s: the cause leaked: %s", a.name, b)
				}
			}
		})
	}
}
