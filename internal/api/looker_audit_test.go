package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/storage/memory"
)

// switchableAuditStore is the memory store whose AppendAudit fails, as an unreachable database
// does, while down is set.
type switchableAuditStore struct {
	storage.Store
	down atomic.Bool
}

func (s *switchableAuditStore) AppendAudit(ctx context.Context, evs []storage.AuditEvent) error {
	if s.down.Load() {
		return fmt.Errorf("append audit: %w: connection refused", storage.ErrUnavailable)
	}
	return s.Store.AppendAudit(ctx, evs)
}

// TestLookerMintsAreAuditedBeforeTheyAreHandedOut: every Looker credential (signed-URL login
// cookie, cookieless acquire and generate_tokens, sso_url, the API login) is handed out only once its audit event
// is stored, as embed-token mints are: with the audit log unavailable each answers 503 with no
// credential, and with it available the event is in the store (no flush) when the response arrives.
func TestLookerMintsAreAuditedBeforeTheyAreHandedOut(t *testing.T) {
	st := &switchableAuditStore{Store: memory.New()}
	l := newLookerEnv(t, envOptions{store: st})
	api := l.apiLogin()
	live := tokensOf(t, l.acquire(api, browserUA, cookielessUser("vic", nil)))
	ssoBody := `{"target_url":"` + l.srv.URL + salesTarget + `","session_length":600,"external_user_id":"uma",` +
		`"permissions":["access_data","see_user_dashboards"],"models":["sales"],"user_attributes":{"external_value":"Engineering"}}`
	sso := func() response {
		return l.send("POST", "/api/4.0/embed/sso_url", map[string]string{"Authorization": "token " + api, "Content-Type": "application/json"}, ssoBody)
	}
	signedLogin := func() response { return l.send("GET", l.sign(alice(), salesTarget).tsURL(), nil, "") }
	apiLogin := func() response {
		return l.send("POST", "/api/4.0/login", map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			url.Values{"client_id": {l.clientID}, "client_secret": {l.clientSecret}}.Encode())
	}

	st.down.Store(true)
	for name, r := range map[string]response{
		"signed login":    signedLogin(),
		"acquire":         l.acquire(api, browserUA, cookielessUser("dana", nil)),
		"generate_tokens": l.generate(api, browserUA, live.ref, live.api, live.nav),
		"sso_url":         sso(),
		"api login":       apiLogin(),
	} {
		body := string(r.body)
		if r.status != http.StatusServiceUnavailable || r.header.Get("Set-Cookie") != "" ||
			strings.Contains(body, "_token\":\"") || strings.Contains(body, "\"url\"") {
			t.Errorf("%s with the audit log unavailable: %d %s %v; want 503 and no credential", name, r.status, body, r.header)
		}
	}

	st.down.Store(false)
	if r := signedLogin(); r.status != http.StatusFound {
		t.Fatalf("signed login: %d %s", r.status, r.body)
	}
	tokensOf(t, l.acquire(api, browserUA, cookielessUser("dana", nil)))
	tokensOf(t, l.generate(api, browserUA, live.ref, live.api, live.nav))
	if r := sso(); r.status != 200 {
		t.Fatalf("sso_url: %d %s", r.status, r.body)
	}
	if r := apiLogin(); r.status != 200 {
		t.Fatalf("api login: %d %s", r.status, r.body)
	}
	// No flush: the events were stored before the responses left.
	events, err := st.ListAudit(t.Context(), storage.AuditFilter{Kind: storage.AuditTokenMinted})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, ev := range events {
		got[ev.Detail]++
	}
	for _, want := range []string{"looker.signed_login", "looker.cookieless_acquire", "looker.generate_tokens", "looker.sso_url", "looker.api_login"} {
		if got[want] == 0 {
			t.Errorf("no %s event stored when its credential was returned: %v", want, got)
		}
	}
}
