package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/inlay/inlay/internal/hostapp"
)

// demoLooker prepares the host app's Looker mode (docs/embedding.md, "Looker mode"): an embed
// secret made through Inlay's admin API (in process), the sample dashboards' models, and the
// host's own origin as the embed domain of its cookieless sessions.
func demoLooker(ctx context.Context, h http.Handler, adminKey, inlayURL, hostURL string) (*hostapp.LookerConfig, error) {
	u, err := url.Parse(inlayURL)
	if err != nil {
		return nil, err
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/api/v1/admin/embed_secrets", nil)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		return nil, fmt.Errorf("demo: create embed secret: HTTP %d %s", rec.Code, rec.Body.String())
	}
	var created struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil || created.Secret == "" {
		return nil, fmt.Errorf("demo: create embed secret: unreadable answer")
	}
	return &hostapp.LookerConfig{
		Host:        u.Host,
		EmbedSecret: created.Secret,
		Models:      []string{"sales", "operations"},
		HostOrigin:  hostURL,
	}, nil
}
