package hostapp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// tokenResponse is an OAuth token endpoint's answer.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// minter runs Inlay's three-call token flow (docs/api.md), the way seed 000's backend does:
// a service token (cached until shortly before it expires), tokeninfo for the viewer, then the
// scoped embed token.
type minter struct {
	cfg Config
	now func() time.Time

	mu         sync.Mutex
	service    string
	serviceExp time.Time
}

// serviceTokenSlack is how long before its expiry a cached service token is replaced.
const serviceTokenSlack = 60 * time.Second

func (m *minter) embedToken(ctx context.Context, user User) (tokenResponse, error) {
	info, err := m.tokenInfo(ctx, user)
	if err != nil {
		return tokenResponse{}, err
	}
	// Every field of tokeninfo goes back as a form field; authorization_details JSON-encoded.
	form := url.Values{}
	for k, raw := range info {
		var s string
		if k != "authorization_details" && json.Unmarshal(raw, &s) == nil {
			form.Set(k, s)
		} else {
			form.Set(k, string(raw))
		}
	}
	form.Set("grant_type", "client_credentials")
	tok, err := m.postToken(ctx, form)
	if err != nil {
		return tokenResponse{}, fmt.Errorf("scoped token: %w", err)
	}
	return tok, nil
}

// tokenInfo calls tokeninfo with the service token, getting a new service token once if Inlay
// no longer accepts the cached one (e.g. after a restart with new keys).
func (m *minter) tokenInfo(ctx context.Context, user User) (map[string]json.RawMessage, error) {
	for attempt := 0; ; attempt++ {
		svc, err := m.serviceToken(ctx)
		if err != nil {
			return nil, err
		}
		q := url.Values{"external_viewer_id": {user.Email}, "external_value": {user.Department}}
		u := fmt.Sprintf("%s/api/2.0/lakeview/dashboards/%s/published/tokeninfo?%s",
			m.cfg.InlayURL, url.PathEscape(m.cfg.DashboardID), q.Encode())
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, fmt.Errorf("%w: tokeninfo request: %v", errInlay, err)
		}
		req.Header.Set("Authorization", "Bearer "+svc)
		var info map[string]json.RawMessage
		status, err := m.do(req, &info)
		if status == http.StatusUnauthorized && attempt == 0 {
			m.forgetServiceToken()
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("tokeninfo: %w", err)
		}
		return info, nil
	}
}

func (m *minter) serviceToken(ctx context.Context) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.service != "" && m.now().Before(m.serviceExp) {
		return m.service, nil
	}
	tok, err := m.postToken(ctx, url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}})
	if err != nil {
		return "", fmt.Errorf("service token: %w", err)
	}
	lifetime := time.Duration(tok.ExpiresIn) * time.Second
	// Replace it a minute before expiry, or at half its life if it is shorter than two minutes.
	m.service, m.serviceExp = tok.AccessToken, m.now().Add(max(lifetime-serviceTokenSlack, lifetime/2))
	return m.service, nil
}

func (m *minter) forgetServiceToken() {
	m.mu.Lock()
	m.service = ""
	m.mu.Unlock()
}

func (m *minter) postToken(ctx context.Context, form url.Values) (tokenResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.cfg.InlayURL+"/oidc/v1/token",
		strings.NewReader(form.Encode()))
	if err != nil {
		return tokenResponse{}, fmt.Errorf("%w: token request: %v", errInlay, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(m.cfg.ClientID, m.cfg.ClientSecret)
	var tok tokenResponse
	if _, err := m.do(req, &tok); err != nil {
		return tokenResponse{}, err
	}
	if tok.AccessToken == "" {
		return tokenResponse{}, fmt.Errorf("%w: no access_token in the answer", errInlay)
	}
	return tok, nil
}

// do sends req and decodes a 200 JSON answer into v. Other answers become errors carrying
// Inlay's error code (never the request's credentials).
func (m *minter) do(req *http.Request, v any) (int, error) {
	resp, err := m.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%w: %s %s: %v", errInlay, req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%w: read %s: %v", errInlay, req.URL.Path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error     any    `json:"error"`
			ErrorCode string `json:"error_code"`
		}
		_ = json.Unmarshal(body, &e)
		code := e.ErrorCode
		if s, ok := e.Error.(string); ok && code == "" {
			code = s
		}
		return resp.StatusCode, fmt.Errorf("%w: %s %s: HTTP %d %s", errInlay, req.Method, req.URL.Path, resp.StatusCode, code)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return resp.StatusCode, fmt.Errorf("%w: decode %s: %v", errInlay, req.URL.Path, err)
	}
	return resp.StatusCode, nil
}
