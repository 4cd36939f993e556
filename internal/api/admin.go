package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/inlay/inlay/internal/storage"
)

// handleAudit is GET /api/v1/admin/audit.
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := storage.AuditFilter{Kind: q.Get("kind"), ViewerID: q.Get("viewer_id"), DashboardID: q.Get("dashboard_id")}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return &Error{Status: http.StatusBadRequest, Code: "bad_request", Message: "since must be an RFC 3339 time"}
		}
		f.Since = t
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return &Error{Status: http.StatusBadRequest, Code: "bad_request", Message: "limit must be between 1 and 10000"}
		}
		f.Limit = n
	}
	// Events still buffered in the writer are part of the answer.
	if err := s.Audit.Flush(r.Context()); err != nil {
		return err
	}
	events, err := s.Store.ListAudit(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]AuditEventJSON, 0, len(events))
	for _, e := range events {
		out = append(out, AuditJSON(e))
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out})
	return nil
}

// AuditEventJSON is the JSON form of an audit event (also printed by `inlay audit --json`).
type AuditEventJSON struct {
	ID          int64     `json:"id"`
	Time        time.Time `json:"time"`
	Kind        string    `json:"kind"`
	PrincipalID string    `json:"principal_id,omitempty"`
	ViewerID    string    `json:"viewer_id,omitempty"`
	DashboardID string    `json:"dashboard_id,omitempty"`
	Widget      string    `json:"widget,omitempty"`
	DurationMS  int64     `json:"duration_ms"`
	Rows        int64     `json:"rows"`
	Outcome     string    `json:"outcome"`
	Detail      string    `json:"detail,omitempty"`
}

// AuditJSON converts a stored event to its JSON form.
func AuditJSON(e storage.AuditEvent) AuditEventJSON {
	return AuditEventJSON{ID: e.ID, Time: e.Time.UTC(), Kind: e.Kind, PrincipalID: e.PrincipalID, ViewerID: e.ViewerID,
		DashboardID: e.DashboardID, Widget: e.Widget, DurationMS: e.DurationMS, Rows: e.Rows, Outcome: e.Outcome, Detail: e.Detail}
}

// handleListPrincipals is GET /api/v1/admin/principals (never secrets or their hashes).
func (s *Server) handleListPrincipals(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.Principals.List(r.Context())
	if err != nil {
		return err
	}
	type item struct {
		ClientID  string    `json:"client_id"`
		Name      string    `json:"name"`
		CreatedAt time.Time `json:"created_at"`
	}
	out := make([]item, 0, len(ps))
	for _, p := range ps {
		out = append(out, item{ClientID: p.ClientID, Name: p.Name, CreatedAt: p.CreatedAt.UTC()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"principals": out})
	return nil
}
