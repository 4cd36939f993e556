// Package oauthtest runs a real OpenID provider (the npm package oidc-provider, from
// internal/oauth/testdata/provider) on 127.0.0.1 for tests, and drives its login and consent
// forms the way a browser would.
//
// Tests skip when Node.js or the provider's packages are missing, unless INLAY_TEST_OIDC_PROVIDER
// is set (scripts/test.sh sets it after `npm ci` in that folder), in which case they fail.
package oauthtest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// EnvVar makes a missing provider a failure instead of a skip.
const EnvVar = "INLAY_TEST_OIDC_PROVIDER"

// Client ids and secrets registered at the provider.
const (
	ConfidentialID     = "inlay-confidential"
	ConfidentialSecret = "confidential-secret"
	PostID             = "inlay-post"
	PostSecret         = "post-secret"
	PublicID           = "inlay-public"
	ServiceID          = "inlay-service"
	ServiceSecret      = "service-secret"
)

// Options configure the provider.
type Options struct {
	RedirectURIs   []string
	AccessTokenTTL time.Duration // default 1 h
	NoRotation     bool
}

// Provider is a running oidc-provider.
type Provider struct {
	Issuer string
}

// Dir is the folder holding provider.mjs and its node_modules.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "provider")
}

// Start starts the provider for the test and stops it when the test ends.
func Start(t testing.TB, o Options) *Provider {
	t.Helper()
	dir := Dir()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "oidc-provider"))
	}
	if err != nil {
		if os.Getenv(EnvVar) != "" {
			t.Fatalf("the test OpenID provider cannot run (%v): run `npm ci` in %s", err, dir)
		}
		t.Skipf("needs Node.js and `npm ci` in %s; set %s=1 to make this a failure (scripts/test.sh does)", dir, EnvVar)
	}
	ttl := o.AccessTokenTTL
	if ttl == 0 {
		ttl = time.Hour
	}
	cmd := exec.Command(node, "provider.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "REDIRECT_URIS="+strings.Join(o.RedirectURIs, ","),
		fmt.Sprintf("ACCESS_TOKEN_TTL=%d", int(ttl/time.Second)))
	if o.NoRotation {
		cmd.Env = append(cmd.Env, "ROTATE=0")
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		if s.Scan() {
			line <- s.Text()
		}
		close(line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case l, ok := <-line:
		var m struct {
			Issuer string `json:"issuer"`
		}
		if !ok || json.Unmarshal([]byte(l), &m) != nil || m.Issuer == "" {
			t.Fatalf("the test provider did not start: %q %s", l, stderr.String())
		}
		return &Provider{Issuer: m.Issuer}
	case <-time.After(60 * time.Second):
		t.Fatalf("the test provider did not start within a minute: %s", stderr.String())
	}
	return nil
}

// Stats returns the provider's count of successful token-endpoint grants by grant type and
// client id.
func (p *Provider) Stats(t testing.TB) map[string]map[string]int {
	t.Helper()
	resp, err := http.Get(p.Issuer + "/__test/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]map[string]int{}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Revoke revokes a token at the provider's revocation endpoint as the given confidential client.
func (p *Provider) Revoke(t testing.TB, clientID, secret, tok string) {
	t.Helper()
	req, _ := http.NewRequest("POST", p.Issuer+"/token/revocation", strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("revocation: %d", resp.StatusCode)
	}
}

// Browser is a cookie-keeping HTTP client that stops at URLs a test wants to see.
type Browser struct {
	Client *http.Client
	// StopAt: redirects to a URL whose path this reports true for are not followed.
	StopAt func(*url.URL) bool
}

// NewBrowser returns a browser with its own cookies.
func NewBrowser() *Browser {
	jar, _ := cookiejar.New(nil)
	b := &Browser{}
	b.Client = &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if b.StopAt != nil && b.StopAt(req.URL) {
				return http.ErrUseLastResponse
			}
			if len(via) > 20 {
				return errors.New("too many redirects")
			}
			return nil
		}}
	return b
}

// Page is a response read in full.
type Page struct {
	Status   int
	URL      *url.URL
	Location string
	Body     string
	Header   http.Header
}

// Get fetches u, following redirects (up to StopAt).
func (b *Browser) Get(t testing.TB, u string) Page {
	t.Helper()
	resp, err := b.Client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return read(t, resp)
}

func read(t testing.TB, resp *http.Response) Page {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Page{Status: resp.StatusCode, URL: resp.Request.URL, Location: resp.Header.Get("Location"), Body: string(body), Header: resp.Header}
}

var formRE = regexp.MustCompile(`<form[^>]*action="([^"]+)"[^>]*method="post"`)
var promptRE = regexp.MustCompile(`name="prompt" value="([a-z]+)"`)

// Login follows loginURL through the provider's login and consent forms as user (any password
// is accepted by its development interactions) and returns the page the browser ends on (or the
// redirect StopAt stopped).
func (b *Browser) Login(t testing.TB, loginURL, user string) Page {
	t.Helper()
	p := b.Get(t, loginURL)
	for range 4 {
		m := formRE.FindStringSubmatch(p.Body)
		if p.Status != 200 || m == nil || !strings.Contains(p.URL.Path, "/interaction/") {
			return p
		}
		action, err := p.URL.Parse(html.UnescapeString(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{}
		prompt := promptRE.FindStringSubmatch(p.Body)
		if prompt != nil && prompt[1] == "login" {
			form.Set("prompt", "login")
			form.Set("login", user)
			form.Set("password", "any")
		} else {
			form.Set("prompt", "consent")
		}
		resp, err := b.Client.PostForm(action.String(), form)
		if err != nil {
			t.Fatal(err)
		}
		p = read(t, resp)
	}
	t.Fatalf("login did not finish: %d %s %s", p.Status, p.URL, p.Body)
	return p
}

// LastRefreshToken returns the newest refresh token the provider issued to account sub.
func (p *Provider) LastRefreshToken(t testing.TB, sub string) string {
	t.Helper()
	resp, err := http.Get(p.Issuer + "/__test/refresh-token?sub=" + url.QueryEscape(sub))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m.Token
}
