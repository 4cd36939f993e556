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
	mux.Handle("POST /api/4.0/embed/sso_url", s.lookerAPI(s.handleCreateSSOURL))

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

	// OAuth integrations (Posit Connect's API shapes; docs/oauth.md).
	mux.Handle("GET /__api__/v1/oauth/integrations", s.oauthAdmin(s.handleListIntegrations))
	mux.Handle("POST /__api__/v1/oauth/integrations", s.oauthAdmin(s.handleCreateIntegration))
	mux.Handle("GET /__api__/v1/oauth/integrations/{guid}", s.oauthAdmin(s.handleGetIntegration))
	mux.Handle("PATCH /__api__/v1/oauth/integrations/{guid}", s.oauthAdmin(s.handlePatchIntegration))
	mux.Handle("DELETE /__api__/v1/oauth/integrations/{guid}", s.oauthAdmin(s.handleDeleteIntegration))
	mux.Handle("GET /__api__/v1/oauth/integrations/{guid}/associations", s.oauthAdmin(s.handleIntegrationAssociations))
	mux.Handle("POST /__api__/v1/oauth/integrations/credentials", http.HandlerFunc(s.handleCredentials))
	mux.Handle("GET /__api__/v1/oauth/sessions", s.oauthAdmin(s.handleListSessions))
	mux.Handle("DELETE /__api__/v1/oauth/sessions/{guid}", s.oauthAdmin(s.handleDeleteSession))
	mux.Handle("POST /__api__/v1/oauth/user-session-tokens", s.contentKeyed(s.handleUserSessionToken))
	mux.Handle("POST /__api__/v1/oauth/content-session-tokens", s.contentKeyed(s.handleContentSessionToken))
	mux.Handle("GET /__api__/v1/content", s.oauthAdmin(s.handleListContent))
	mux.Handle("POST /__api__/v1/content", s.oauthAdmin(s.handleCreateContent))
	mux.Handle("DELETE /__api__/v1/content/{id}", s.oauthAdmin(s.handleDeleteContent))
	mux.Handle("GET /__api__/v1/content/{id}/oauth/integrations/associations", s.oauthAdmin(s.handleGetAssociations))
	mux.Handle("PUT /__api__/v1/content/{id}/oauth/integrations/associations", s.oauthAdmin(s.handlePutAssociations))
	mux.Handle("GET /__oauth__/integrations/{guid}/login", http.HandlerFunc(s.handleOAuthLogin))
	mux.Handle("GET /__oauth__/integrations/callback", http.HandlerFunc(s.handleOAuthCallback))
	mux.Handle("GET /api/v1/embed/dashboards/{id}/oauth", s.embed(s.handleEmbedOAuth))
	mux.Handle("GET /api/v1/embed/oauth/sessions", s.embedViewer(s.handleViewerOAuthSessions))
	mux.Handle("DELETE /api/v1/embed/oauth/sessions/{guid}", s.embedViewer(s.handleDeleteViewerOAuthSession))

	mux.Handle("GET /healthz", s.plain(s.handleReady))
	mux.Handle("GET /readyz", s.plain(s.handleReady))
	mux.Handle("GET /livez", s.plain(s.handleLive))
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics)
	}
	mux.Handle("/", s.plain(s.handleNotFound))

	return s.middleware(mux)
}
