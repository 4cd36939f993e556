package api

import (
	"context"
	"net/http"

	"github.com/inlay/inlay/internal/dashboard"
)

// ReloadFunc re-reads the dashboards, compiles them and, when they have no problems, publishes
// the new plans (query.Engine.Publish). With problems it keeps the plans being served and
// returns the problems. It returns the number of dashboards served afterwards.
type ReloadFunc func(ctx context.Context) (dashboards int, problems []dashboard.Problem, err error)

type problemJSON struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

// handleReload is POST /api/v1/admin/reload: the same atomic swap as SIGHUP. A reload that finds
// problems changes nothing and answers 422 reload_failed, listing them.
func (s *Server) handleReload(w http.ResponseWriter, r *http.Request) error {
	if s.Reload == nil {
		return errorf(http.StatusNotFound, "not_found", "this server cannot reload its dashboards")
	}
	n, problems, err := s.Reload(r.Context())
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		list := make([]problemJSON, len(problems))
		for i, p := range problems {
			list[i] = problemJSON{File: p.File, Line: p.Line, Column: p.Column, Message: p.Message}
		}
		return &Error{Status: http.StatusUnprocessableEntity, Code: "reload_failed",
			Message: "the dashboards have problems; the previous ones are still served",
			Details: map[string]any{"problems": list}}
	}
	writeJSON(w, http.StatusOK, map[string]any{"reloaded": true, "dashboards": n})
	return nil
}
