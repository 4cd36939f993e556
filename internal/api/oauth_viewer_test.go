package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/oauth"
	"github.com/inlay/inlay/internal/oauth/oauthtest"
	"github.com/inlay/inlay/internal/token"
)

func (e *oauthEnv) embedTokenFor(viewer string) string {
	e.t.Helper()
	raw, _, err := e.issuer.Issue(token.Claims{Kind: token.KindEmbed, Subject: "host", DashboardID: "sales", ViewerID: viewer}, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	return raw
}

func (e *oauthEnv) viewerSessions(embedToken string) []map[string]any {
	e.t.Helper()
	r := e.mustStatus(e.do("GET", "/api/v1/embed/oauth/sessions", "Bearer "+embedToken, nil), 200)
	var body struct{ Sessions []map[string]any }
	if err := json.Unmarshal(r.body, &body); err != nil || body.Sessions == nil {
		e.t.Fatalf("sessions answer: %s", r.body)
	}
	for _, bad := range []string{`"access_token"`, `"refresh_token"`, `"token"`} {
		if strings.Contains(string(r.body), bad) {
			e.t.Fatalf("the session list carries a token (%s): %s", bad, r.body)
		}
	}
	return body.Sessions
}

// TestViewerListsAndDisconnectsOnlyOwnOAuthSessions: with their embed token a viewer lists their
// own OAuth sessions (no tokens) and disconnects one (revoked at the provider); another viewer's
// session is neither listed nor deletable (404, as a session that does not exist).
func TestViewerListsAndDisconnectsOnlyOwnOAuthSessions(t *testing.T) {
	e := newOAuthEnv(t, oauthEnvOptions{})
	guid := e.oidcIntegration("idp", oauthtest.ConfidentialID, oauthtest.ConfidentialSecret, "client_secret_basic")
	_, key := e.app(guid)
	e.login("gina", guid, "gina")
	e.login("hank", guid, "hank")
	ginaAccess := e.accessToken(key, e.userToken(key, "gina"))
	gina, hank := e.embedTokenFor("gina"), e.embedTokenFor("hank")

	ginas, hanks := e.viewerSessions(gina), e.viewerSessions(hank)
	if len(ginas) != 1 || ginas[0]["user_guid"] != "gina" || ginas[0]["oauth_integration_guid"] != guid {
		t.Fatalf("gina's sessions: %v", ginas)
	}
	if len(hanks) != 1 || hanks[0]["user_guid"] != "hank" || hanks[0]["guid"] == ginas[0]["guid"] {
		t.Fatalf("hank's sessions: %v", hanks)
	}
	if n := len(e.viewerSessions(e.embedTokenFor("ivy"))); n != 0 {
		t.Fatalf("a viewer who never connected sees %d sessions", n)
	}

	// Gina cannot delete Hank's session: 404, and it still works.
	hankGUID, ginaGUID := hanks[0]["guid"].(string), ginas[0]["guid"].(string)
	if r := e.do("DELETE", "/api/v1/embed/oauth/sessions/"+hankGUID, "Bearer "+gina, nil); r.status != http.StatusNotFound {
		t.Fatalf("gina deleting hank's session: %d %s; want 404", r.status, r.body)
	}
	if len(e.viewerSessions(hank)) != 1 {
		t.Fatal("hank's session is gone after gina's refused delete")
	}
	e.accessToken(key, e.userToken(key, "hank"))

	// Gina disconnects her own: gone, login required again, and revoked at the provider.
	e.mustStatus(e.do("DELETE", "/api/v1/embed/oauth/sessions/"+ginaGUID, "Bearer "+gina, nil), 204)
	if n := len(e.viewerSessions(gina)); n != 0 {
		t.Fatalf("after disconnect gina has %d sessions", n)
	}
	if m := oauthErr(t, e.exchange(key, e.userToken(key, "gina"), "")); m["error_code"] != oauth.CodeLoginRequired {
		t.Fatalf("gina's exchange after disconnect: %v", m)
	}
	if status, _ := e.userinfo(ginaAccess); status != 401 {
		t.Fatalf("the provider still accepts gina's access token: %d", status)
	}
	if r := e.do("DELETE", "/api/v1/embed/oauth/sessions/"+ginaGUID, "Bearer "+gina, nil); r.status != http.StatusNotFound {
		t.Fatalf("deleting twice: %d %s", r.status, r.body)
	}
	if len(e.viewerSessions(hank)) != 1 {
		t.Fatal("gina's disconnect touched hank's session")
	}

	// No token, a token naming no viewer, a service token, the admin key: refused.
	noViewer, _, err := e.issuer.Issue(token.Claims{Kind: token.KindEmbed, Subject: "host", DashboardID: "sales"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	service, _, err := e.issuer.Issue(token.Claims{Kind: token.KindService, Subject: "host", Scope: token.ScopeAllAPIs}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		auth string
		want int
	}{"none": {"", 401}, "no viewer": {"Bearer " + noViewer, 403}, "service token": {"Bearer " + service, 401},
		"admin key": {"Bearer " + e.adminKey, 401}} {
		for _, m := range []string{"GET", "DELETE"} {
			path := "/api/v1/embed/oauth/sessions"
			if m == "DELETE" {
				path += "/" + hankGUID
			}
			if r := e.do(m, path, c.auth, nil); r.status != c.want {
				t.Errorf("%s %s with %s: %d %s; want %d", m, path, name, r.status, r.body, c.want)
			}
		}
	}
	if len(e.viewerSessions(hank)) != 1 {
		t.Fatal("a refused request deleted hank's session")
	}
}
