// Package hostapp is the demo host application of seed 000: a small SaaS product ("Acme
// Analytics") with its own users and sessions, whose backend mints per-user embed tokens by
// calling Inlay's three-call token flow over HTTP, exactly as a real host backend would, and
// whose page embeds the sales dashboard with the @inlay/embed SDK served by Inlay.
package hostapp

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Config configures the host application.
type Config struct {
	InlayURL     string // base URL of Inlay, e.g. http://127.0.0.1:8470
	ClientID     string // the host's service principal at Inlay
	ClientSecret string
	DashboardID  string // the dashboard to embed, e.g. "sales"
	Logger       *slog.Logger
	// HTTPClient calls Inlay; nil means a client with a 15 s timeout.
	HTTPClient *http.Client
	// Looker, when set, adds the Looker mode page (/looker, looker.go).
	Looker *LookerConfig
}

// User is one of the host product's own users. Department is what row-level security at Inlay
// filters on (it becomes the token's external_value).
type User struct {
	ID         string `json:"id"`
	Username   string `json:"username"`
	Name       string `json:"name"`
	Email      string `json:"email"`
	Department string `json:"department"`
}

// users are the demo users of seed 000.
var users = map[string]User{
	"alice": {ID: "user_alice", Username: "alice", Name: "Alice Johnson", Email: "alice@example.com", Department: "Sales"},
	"bob":   {ID: "user_bob", Username: "bob", Name: "Bob Smith", Email: "bob@example.com", Department: "Engineering"},
}

// sessionCookie names the host's own first-party session cookie.
const sessionCookie = "acme_session"

// App is the demo host application.
type App struct {
	cfg    Config
	log    *slog.Logger
	minter *minter

	mu       sync.Mutex
	sessions map[string]string // session id -> username

	looker lookerAPI
}

// New checks cfg and returns the application.
func New(cfg Config) (*App, error) {
	var problems []string
	u, err := url.Parse(cfg.InlayURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		problems = append(problems, "InlayURL must be an absolute http(s) URL")
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		problems = append(problems, "ClientID and ClientSecret are required")
	}
	if cfg.DashboardID == "" {
		problems = append(problems, "DashboardID is required")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("hostapp: invalid config: %s", strings.Join(problems, "; "))
	}
	cfg.InlayURL = strings.TrimRight(cfg.InlayURL, "/")
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	return &App{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "hostapp"),
		minter:   &minter{cfg: cfg, now: time.Now},
		sessions: map[string]string{},
		looker:   lookerAPI{session: map[string]cookielessSession{}},
	}, nil
}

// Handler returns the application's routes.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.handleIndex)
	mux.HandleFunc("POST /api/auth/login", a.handleLogin)
	mux.HandleFunc("POST /api/auth/logout", a.handleLogout)
	mux.HandleFunc("GET /api/auth/me", a.requireUser(a.handleMe))
	mux.HandleFunc("GET /api/dashboard/embed-config", a.requireUser(a.handleEmbedConfig))
	if a.cfg.Looker != nil {
		a.lookerRoutes(mux)
	} else {
		mux.HandleFunc("GET /looker", handleLookerNeedsHTTPS)
	}
	return mux
}

func (a *App) handleIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	user, ok := a.currentUser(r)
	var err error
	if !ok {
		err = loginPage.Execute(w, loginData{Users: []User{users["alice"], users["bob"]}})
	} else {
		err = dashboardPage.Execute(w, dashboardData{User: user, InlayURL: a.cfg.InlayURL})
	}
	if err != nil {
		a.log.ErrorContext(r.Context(), "render page", "err", err)
	}
}

func (a *App) handleLogin(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Username string `json:"username"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "expected a JSON body {\"username\": ...}")
		return
	}
	user, ok := users[strings.ToLower(strings.TrimSpace(body.Username))]
	if !ok {
		writeError(w, http.StatusUnauthorized, "unknown_user", "no such user (try alice or bob)")
		return
	}
	// A previous session of this browser ends: a new id on every login (no session fixation).
	if c, err := r.Cookie(sessionCookie); err == nil {
		a.dropSession(c.Value)
	}
	sid, err := newSessionID()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "could not create a session")
		return
	}
	a.mu.Lock()
	a.sessions[sid] = user.Username
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: sid, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil,
	})
	a.log.InfoContext(r.Context(), "login", "user", user.Username)
	writeJSON(w, http.StatusOK, map[string]any{"user": user})
}

func (a *App) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		a.dropSession(c.Value)
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil,
	})
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

func (a *App) handleMe(w http.ResponseWriter, _ *http.Request, user User) {
	writeJSON(w, http.StatusOK, map[string]any{"user": user})
}

// handleEmbedConfig mints an embed token for the signed-in user (seed 000's embed-config).
func (a *App) handleEmbedConfig(w http.ResponseWriter, r *http.Request, user User) {
	tok, err := a.minter.embedToken(r.Context(), user)
	if err != nil {
		a.log.ErrorContext(r.Context(), "mint embed token", "user", user.Username, "err", err)
		writeError(w, http.StatusBadGateway, "token_mint_failed", "could not get a dashboard token from Inlay")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"instance_url": a.cfg.InlayURL,
		// The names seed 000's frontend reads (its backend answers with these), so that frontend
		// runs against Inlay with only its SDK import changed. Inlay has no workspace id.
		"workspace_url": a.cfg.InlayURL,
		"workspace_id":  "",
		"dashboard_id":  a.cfg.DashboardID,
		"embed_token":   tok.AccessToken,
		"expires_in":    tok.ExpiresIn,
		"user_context":  user,
	})
}

// requireUser answers 401 unless the request carries a live session.
func (a *App) requireUser(next func(http.ResponseWriter, *http.Request, User)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, ok := a.currentUser(r)
		if !ok {
			writeError(w, http.StatusUnauthorized, "unauthenticated", "log in first")
			return
		}
		next(w, r, user)
	}
}

func (a *App) currentUser(r *http.Request) (User, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return User{}, false
	}
	a.mu.Lock()
	name, ok := a.sessions[c.Value]
	a.mu.Unlock()
	if !ok {
		return User{}, false
	}
	return users[name], true
}

func (a *App) dropSession(sid string) {
	a.mu.Lock()
	delete(a.sessions, sid)
	a.mu.Unlock()
}

func newSessionID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("session id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// errInlay marks a failed call to Inlay.
var errInlay = errors.New("inlay token flow")

// handleLookerNeedsHTTPS answers /looker when the demo runs without HTTPS: the Looker Embed SDK
// builds https:// URLs only, so the page says how to start the demo with it.
func handleLookerNeedsHTTPS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprint(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Looker mode needs HTTPS</title></head>
<body style="font:15px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem">
<h1 style="font-size:1.3rem">Looker mode needs HTTPS</h1>
<p>The Looker Embed SDK only builds <code>https://</code> URLs, so this page is on when Inlay serves HTTPS.
Start the demo with <code>make demo DEMO_FLAGS=--https</code> (or <code>inlay demo --https</code>) and open <code>/looker</code> again.</p>
<p><a href="/">Back to the host app</a></p></body></html>`)
}
