package api

import "net/http"

// Handler returns the whole HTTP surface. The route table is here, one line per route.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()

	// Databricks AI/BI external-embedding flow (docs/api.md).
	mux.Handle("POST /oidc/v1/token", s.oauth(s.handleToken))
	mux.Handle("GET /api/2.0/lakeview/dashboards/{id}/published/tokeninfo", s.databricks(s.handleTokenInfo))
	mux.Handle("GET /api/2.0/lakeview/dashboards", s.databricks(s.handleListDashboards))
	mux.Handle("GET /.well-known/openid-configuration", s.plain(s.handleDiscovery))
	mux.Handle("GET /oidc/v1/keys", s.plain(s.handleJWKS))

	// Embed API, called by the viewer page (or a host page, through CORS).
	mux.Handle("GET /api/v1/embed/dashboards/{id}", s.embed(s.handleGetDashboard))
	mux.Handle("POST /api/v1/embed/dashboards/{id}/query", s.embed(s.handleQuery))
	mux.Handle("POST /api/v1/embed/dashboards/{id}/widgets/{widget}/export", s.embed(s.handleExport))
	mux.Handle("OPTIONS /api/v1/embed/", http.HandlerFunc(s.handlePreflight))

	// The viewer page and static assets.
	mux.Handle("GET /embed/dashboards/{id}", s.plain(s.handleViewerPage))
	mux.Handle("GET /embed/assets/", http.StripPrefix("/embed/assets/", viewerAssets()))
	mux.Handle("GET /sdk/", http.StripPrefix("/sdk/", sdkAssets()))

	// Admin API.
	mux.Handle("GET /api/v1/admin/audit", s.admin(s.handleAudit))
	mux.Handle("GET /api/v1/admin/principals", s.admin(s.handleListPrincipals))
	mux.Handle("POST /api/v1/admin/reload", s.admin(s.handleReload))

	mux.Handle("GET /healthz", s.plain(s.handleHealth))
	mux.Handle("/", s.plain(s.handleNotFound))

	return s.middleware(mux)
}
