package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/inlay/inlay/internal/compile"
	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/looker"
	"github.com/inlay/inlay/internal/token"
	"github.com/inlay/inlay/internal/web"
)

// lookerPageSession finds the Looker credentials of a viewer page request: the
// embed_navigation_token parameter (cookieless) or the session cookie. present is false when
// the request carries none, so the page is the Inlay viewer as before; a stale cookie counts
// only on a Looker SDK URL (sdk=3).
func (s *Server) lookerPageSession(r *http.Request) (ses *looker.Session, auth string, present bool, err error) {
	if s.looker == nil {
		return nil, "", false, nil
	}
	q := r.URL.Query()
	if nav := q.Get("embed_navigation_token"); nav != "" {
		ses, err := s.looker.SessionFromToken(r.Context(), looker.NavigationToken, nav, r.UserAgent())
		return ses, "cookieless", true, err
	}
	c, cerr := r.Cookie(LookerCookie)
	if cerr != nil {
		return nil, "", false, nil
	}
	ses, err = s.looker.SessionFromCookie(r.Context(), c.Value)
	if err != nil && q.Get("sdk") != "3" {
		return nil, "", false, nil
	}
	return ses, "cookie", true, err
}

// lookerBootstrap is the JSON of <script id="inlay-bootstrap"> (docs/looker.md).
type lookerBootstrap struct {
	Mode          string            `json:"mode"`
	Auth          string            `json:"auth"`
	DashboardID   string            `json:"dashboard_id"`
	Events        bool              `json:"events"`
	EventsRefused string            `json:"events_refused,omitempty"`
	EmbedDomain   string            `json:"embed_domain"`
	Permissions   []string          `json:"permissions"`
	Filters       map[string]string `json:"filters"`
	Theme         string            `json:"theme,omitempty"`
	SessionTTL    int64             `json:"session_ttl"`
	APIToken      string            `json:"api_token,omitempty"`
	APITokenTTL   int64             `json:"api_token_ttl,omitempty"`
}

// handleLookerViewerPage serves the viewer page in Looker mode.
func (s *Server) handleLookerViewerPage(w http.ResponseWriter, r *http.Request, ses *looker.Session, auth string, sesErr error) error {
	q := r.URL.Query()
	id := r.PathValue("id")
	cfg := web.PageConfig{DashboardID: id, APIBase: strings.TrimSuffix(s.opts.Issuer, "/"),
		EmbedDomain: q.Get("embed_domain"), Theme: q.Get("theme")}
	fail := func(err error) error {
		e := toAPIError(err)
		if e.Status >= 500 {
			return err
		}
		w.Header().Set("X-Inlay-Error-Code", e.Code)
		cfg.Error, cfg.Status = e.Message+" ("+e.Code+")", e.Status
		setViewerPageHeaders(w, "'none'")
		return web.WritePage(w, cfg)
	}
	if sesErr != nil {
		return fail(sesErr)
	}
	plan, ok := s.plan(id)
	if !ok {
		return fail(errorf(http.StatusNotFound, "not_found", "This dashboard does not exist."))
	}
	d := plan.Dashboard
	if err := ses.User.CheckDashboard(d.Model); err != nil {
		return fail(err)
	}
	ancestors := s.frameAncestors(d)
	if ses.EmbedDomain != "" && !slices.Contains(ancestors, ses.EmbedDomain) {
		ancestors = append(ancestors, ses.EmbedDomain)
	}
	b := lookerBootstrap{Mode: "looker", Auth: auth, DashboardID: d.ID, EmbedDomain: cfg.EmbedDomain,
		Permissions: ses.User.Permissions, Filters: urlFilters(d, q), Theme: cfg.Theme,
		SessionTTL: remaining(ses.ExpiresAt, s.Now())}
	if b.Permissions == nil {
		b.Permissions = []string{}
	}
	b.Events = cfg.EmbedDomain != "" && (s.allowedOrigin(cfg.EmbedDomain, d) || cfg.EmbedDomain == ses.EmbedDomain)
	if !b.Events {
		b.EventsRefused = "embed_domain_not_allowed"
	}
	if ses.Cookieless {
		t, err := s.looker.CurrentTokens(r.Context(), ses.ID)
		if err != nil {
			return fail(err)
		}
		b.APIToken, b.APITokenTTL = t.APIToken, t.APITokenTTL
	}
	cfg.Bootstrap = b
	list := "'none'"
	if len(ancestors) > 0 {
		list = strings.Join(ancestors, " ")
	}
	setViewerPageHeaders(w, list)
	return web.WritePage(w, cfg)
}

// urlFilters maps URL parameters named by a filter's title (as Looker's withFilters writes them)
// or name to that filter's name.
func urlFilters(d *dashboard.Dashboard, q map[string][]string) map[string]string {
	out := map[string]string{}
	for _, f := range d.Filters {
		for _, key := range []string{f.Title, f.Name} {
			if v, ok := q[key]; ok && key != "" && len(v) > 0 {
				out[f.Name] = v[0]
				break
			}
		}
	}
	return out
}

func setViewerPageHeaders(w http.ResponseWriter, ancestors string) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
		"img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'none'; "+
		"frame-ancestors "+ancestors)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}

// lookerEmbedAuth authenticates an embed API call made with Looker credentials: a cookieless
// API token as bearer, or (without an Authorization header) the session cookie. handled is false
// when the request carries neither, for the embed-token path to take it.
func (s *Server) lookerEmbedAuth(r *http.Request, id string) (c *token.Claims, p *compile.Plan, handled bool, err error) {
	if s.looker == nil {
		return nil, nil, false, nil
	}
	var ses *looker.Session
	if raw, ok := bearer(r); ok {
		if !looker.IsAPIToken(raw) {
			return nil, nil, false, nil
		}
		ses, err = s.looker.SessionFromToken(r.Context(), looker.APIToken, raw, r.UserAgent())
	} else if r.Header.Get("Authorization") != "" {
		return nil, nil, false, nil
	} else if ck, cerr := r.Cookie(LookerCookie); cerr == nil {
		if origin := r.Header.Get("Origin"); origin != "" && !s.sameOrigin(r, origin) {
			return nil, nil, true, &Error{Status: http.StatusForbidden, Code: "cross_origin_request",
				Message: "the session cookie is accepted from Inlay's own pages only"}
		}
		ses, err = s.looker.SessionFromCookie(r.Context(), ck.Value)
	} else {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, true, err
	}
	p, ok := s.plan(id)
	if !ok {
		return nil, nil, true, errorf(http.StatusNotFound, "not_found", "no such dashboard")
	}
	d := p.Dashboard
	if err := ses.User.CheckDashboard(d.Model); err != nil {
		return nil, nil, true, err
	}
	v := ses.User.Viewer(d.Model)
	return &token.Claims{Kind: token.KindEmbed, ID: ses.ID, Subject: ses.Principal, ExpiresAt: ses.TokenExpiresAt,
		DashboardID: d.ID, ViewerID: v.ID, ExternalValue: v.ExternalValue, Attributes: v.Attributes,
		Capabilities: ses.User.Capabilities()}, p, true, nil
}

// sameOrigin reports whether origin is the origin the request was made to (or the public URL's).
func (s *Server) sameOrigin(r *http.Request, origin string) bool {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if origin == scheme+"://"+r.Host {
		return true
	}
	pub := strings.TrimSuffix(s.opts.Issuer, "/")
	return pub != "" && origin == pub
}
