package api

import (
	"net/http"
	"strings"

	"github.com/inlay/inlay/internal/web"
)

// handleViewerPage is GET /embed/dashboards/{id}: the page inside the host's iframe. Framing is
// governed by CSP frame-ancestors (the allowed origins), never X-Frame-Options.
func (s *Server) handleViewerPage(w http.ResponseWriter, r *http.Request) error {
	if ses, auth, ok, err := s.lookerPageSession(r); ok {
		return s.handleLookerViewerPage(w, r, ses, auth, err)
	}
	id := r.PathValue("id")
	d, ok := s.dashboard(id)
	cfg := web.PageConfig{DashboardID: id, APIBase: strings.TrimSuffix(s.opts.Issuer, "/"),
		EmbedDomain: r.URL.Query().Get("embed_domain"), Theme: r.URL.Query().Get("theme")}
	ancestors, status := "'none'", http.StatusOK
	switch {
	case !ok:
		cfg.Error, status = "This dashboard does not exist.", http.StatusNotFound
	case !s.allowedOrigin(cfg.EmbedDomain, d):
		cfg.Error, status = "This page is not allowed to embed this dashboard.", http.StatusForbidden
	default:
		if list := s.frameAncestors(d); len(list) > 0 {
			ancestors = strings.Join(list, " ")
		}
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
		"img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'none'; "+
		"frame-ancestors "+ancestors)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	cfg.Status = status
	return web.WritePage(w, cfg)
}

func viewerAssets() http.Handler { return web.AssetsHandler() }

func sdkAssets() http.Handler { return web.SDKHandler() }
