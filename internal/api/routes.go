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

	// Looker-compatible embedding (docs/looker.md).
	mux.Handle("GET /login/embed/{target...}", s.plain(s.handleLookerLogin))
	mux.Handle("POST /api/4.0/login", s.lookerAPI(s.handleAPILogin))
	mux.Handle("DELETE /api/4.0/logout", s.lookerAPI(s.handleAPILogout))
	mux.Handle("POST /api/4.0/embed/cookieless_session/acquire", s.lookerAPI(s.handleAcquire))
	mux.Handle("PUT /api/4.0/embed/cookieless_session/generate_tokens", s.lookerAPI(s.handleGenerateTokens))
	mux.Handle("DELETE /api/4.0/embed/cookieless_session/{token}", s.lookerAPI(s.handleEndSession))

	// The viewer page and static assets.
	mux.Handle("GET /embed/dashboards/{id}", s.plain(s.handleViewerPage))
	mux.Handle("GET /embed/assets/", http.StripPrefix("/embed/assets/", viewerAssets()))
	mux.Handle("GET /sdk/", http.StripPrefix("/sdk/", sdkAssets()))

	// Admin API.
	mux.Handle("GET /api/v1/admin/audit", s.admin(s.handleAudit))
	mux.Handle("GET /api/v1/admin/principals", s.admin(s.handleListPrincipals))
	mux.Handle("POST /api/v1/admin/reload", s.admin(s.handleReload))
	mux.Handle("POST /api/v1/admin/embed_secrets", s.admin(s.handleCreateEmbedSecret))
	mux.Handle("GET /api/v1/admin/embed_secrets", s.admin(s.handleListEmbedSecrets))
	mux.Handle("DELETE /api/v1/admin/embed_secrets/{id}", s.admin(s.handleRevokeEmbedSecret))

	mux.Handle("GET /healthz", s.plain(s.handleReady))
	mux.Handle("GET /readyz", s.plain(s.handleReady))
	mux.Handle("GET /livez", s.plain(s.handleLive))
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics)
	}
	mux.Handle("/", s.plain(s.handleNotFound))

	return s.middleware(mux)
}
