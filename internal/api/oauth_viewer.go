package api

import (
	"net/http"

	"github.com/inlay/inlay/internal/oauth"
	"github.com/inlay/inlay/internal/token"
)

// embedViewer authenticates the viewer by an embed token (Bearer) of any dashboard, for routes
// about the viewer rather than a dashboard. The token must name a viewer: a token without one
// could otherwise stand for everyone.
func (s *Server) embedViewer(h func(w http.ResponseWriter, r *http.Request, c *token.Claims) error) http.Handler {
	return s.plain(s.oauthJSON(func(w http.ResponseWriter, r *http.Request) error {
		raw, ok := bearer(r)
		if !ok {
			return &Error{Status: http.StatusUnauthorized, Code: "invalid_token", Message: "an embed token is required",
				Details: map[string]any{"reason": "missing"}}
		}
		claims, err := s.Verifier.Verify(raw, token.KindEmbed)
		if err != nil {
			return &Error{Status: http.StatusUnauthorized, Code: "invalid_token", Message: "the embed token is not valid",
				Details: map[string]any{"reason": tokenReason(err)}, Cause: err}
		}
		if claims.ViewerID == "" {
			return &Error{Status: http.StatusForbidden, Code: "viewer_required", Message: "the embed token names no viewer"}
		}
		if err := s.limitQuery(claims); err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		return h(w, r, claims)
	}))
}

// handleViewerOAuthSessions is GET /api/v1/embed/oauth/sessions: the embed token's viewer's own
// OAuth sessions (which integrations they connected, when; never tokens).
func (s *Server) handleViewerOAuthSessions(w http.ResponseWriter, r *http.Request, c *token.Claims) error {
	ss, err := s.OAuth.ListSessions(r.Context(), c.ViewerID)
	if err != nil {
		return err
	}
	if ss == nil {
		ss = []oauth.Session{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": ss})
	return nil
}

// handleDeleteViewerOAuthSession is DELETE /api/v1/embed/oauth/sessions/{guid}: the viewer
// disconnects one of their own sessions (revoked at the provider as the admin DELETE does).
// Another viewer's session answers 404, as one that does not exist.
func (s *Server) handleDeleteViewerOAuthSession(w http.ResponseWriter, r *http.Request, c *token.Claims) error {
	if err := s.OAuth.DeleteViewerSession(r.Context(), c.ViewerID, r.PathValue("guid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
