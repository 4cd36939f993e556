package oauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"github.com/inlay/inlay/internal/secret"
	"github.com/inlay/inlay/internal/storage"
)

// CallbackPath is the one redirect URI path registered at every provider.
const CallbackPath = "/__oauth__/integrations/callback"

// LoginPath returns the login path of an integration.
func LoginPath(guid string) string { return "/__oauth__/integrations/" + guid + "/login" }

// MinRefreshSkew is the least time before expiry at which a token is refreshed: Databricks
// rejects tokens with 30 s or less left, so 60 s leaves a request time to reach it.
const MinRefreshSkew = 60 * time.Second

// Options configure a Broker.
type Options struct {
	// PublicURL is Inlay's public base URL: the redirect URI is PublicURL + CallbackPath.
	PublicURL string
	// AllowedOrigins may be the target of a login's return_to (besides PublicURL's own origin).
	AllowedOrigins []string
	// HTTPClient talks to providers (default: 15 s timeout).
	HTTPClient *http.Client
	// RefreshSkew: tokens are refreshed this long before they expire (at least MinRefreshSkew).
	RefreshSkew time.Duration
	// StateTTL bounds a login from start to callback (default 10 min).
	StateTTL time.Duration
	// TicketTTL is the lifetime of the ticket in a login URL (default 10 min).
	TicketTTL time.Duration
	// SessionTokenTTL is the default lifetime of user and content session tokens (default 1 h).
	SessionTokenTTL time.Duration
	// LocalCacheTTL bounds how long a replica serves a stored access token from memory without
	// reading the store (so a revocation on another replica takes effect within it; default 5 s).
	LocalCacheTTL time.Duration
	Logger        *slog.Logger
	Now           func() time.Time
}

// Broker is the OAuth broker. It is safe for concurrent use by many goroutines, and several
// replicas may share one store.
type Broker struct {
	store storage.Store
	keys  *secret.Keys
	opts  Options
	now   func() time.Time
	log   *slog.Logger

	mu        sync.Mutex
	providers map[string]*providerInfo // by guid + updated time
	local     sync.Map                 // token key -> localToken
	decoded   sync.Map                 // integration guid -> decodedIntegration
	flights   singleflight.Group
	holderID  string

	refreshes atomic.Int64
}

// NewBroker returns a broker over store, sealing with keys.
func NewBroker(store storage.Store, keys *secret.Keys, opts Options) (*Broker, error) {
	if opts.PublicURL == "" {
		return nil, errors.New("oauth: PublicURL is required")
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if opts.RefreshSkew < MinRefreshSkew {
		opts.RefreshSkew = MinRefreshSkew
	}
	if opts.StateTTL <= 0 {
		opts.StateTTL = 10 * time.Minute
	}
	if opts.TicketTTL <= 0 {
		opts.TicketTTL = 10 * time.Minute
	}
	if opts.SessionTokenTTL <= 0 {
		opts.SessionTokenTTL = time.Hour
	}
	if opts.LocalCacheTTL <= 0 {
		opts.LocalCacheTTL = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Broker{store: store, keys: keys, opts: opts, now: opts.Now, log: opts.Logger,
		providers: map[string]*providerInfo{}, holderID: randomString(12)}, nil
}

// RedirectURI is the callback URL registered at providers.
func (b *Broker) RedirectURI() string { return b.opts.PublicURL + CallbackPath }

// Refreshes counts refresh-token grants this broker has made (for tests and metrics).
func (b *Broker) Refreshes() int64 { return b.refreshes.Load() }

// providerInfo is an integration's resolved endpoints.
type providerInfo struct {
	updated  time.Time
	endpoint oauth2.Endpoint
	revoke   string
	issuer   string // expected iss of the authorization response; "" when unknown
	// issRequired: the provider says it always returns iss (RFC 9207), so its absence is an attack.
	issRequired bool
	verifier    *oidc.IDTokenVerifier // nil unless the integration is OIDC
}

func (b *Broker) clientCtx(ctx context.Context) context.Context {
	return context.WithValue(oidc.ClientContext(ctx, b.opts.HTTPClient), oauth2.HTTPClient, b.opts.HTTPClient)
}

// endpoints resolves the integration's endpoints (OIDC: by discovery, cached per version).
func (b *Broker) endpoints(ctx context.Context, it Integration) (*providerInfo, error) {
	b.mu.Lock()
	p, ok := b.providers[it.GUID]
	b.mu.Unlock()
	if ok && p.updated.Equal(it.UpdatedTime) {
		return p, nil
	}
	c := it.Config
	style := oauth2.AuthStyleInHeader
	if c.TokenEndpointAuthMethod == AuthMethodPost || c.AuthMode == ModePublic {
		style = oauth2.AuthStyleInParams
	}
	p = &providerInfo{updated: it.UpdatedTime}
	switch it.Template {
	case TemplateCustom:
		p.endpoint = oauth2.Endpoint{AuthURL: c.AuthorizationURI, TokenURL: c.TokenURI}
		p.revoke, p.issuer = c.RevocationURI, c.Issuer
	case TemplateDatabricks:
		base := hostURL(c.WorkspaceHost)
		if base != "" {
			p.endpoint = oauth2.Endpoint{AuthURL: base + "/oidc/v1/authorize", TokenURL: base + "/oidc/v1/token"}
			p.issuer = base + "/oidc"
		} else {
			base = hostURL(c.AccountHost) + "/oidc/accounts/" + c.AccountID
			p.endpoint = oauth2.Endpoint{AuthURL: base + "/v1/authorize", TokenURL: base + "/v1/token"}
			p.issuer = base
		}
	case TemplateOIDC:
		prov, err := oidc.NewProvider(b.clientCtx(ctx), c.Issuer)
		if err != nil {
			return nil, &Error{Code: CodeProviderUnavailable, OAuth: "temporarily_unavailable",
				Message: "the provider's discovery document could not be read", Cause: err}
		}
		var meta struct {
			Revocation   string `json:"revocation_endpoint"`
			IssSupported bool   `json:"authorization_response_iss_parameter_supported"`
		}
		_ = prov.Claims(&meta)
		p.endpoint = prov.Endpoint()
		p.revoke, p.issuer, p.issRequired = meta.Revocation, c.Issuer, meta.IssSupported
		p.verifier = prov.Verifier(&oidc.Config{ClientID: c.ClientID})
	default:
		return nil, fmt.Errorf("oauth: unknown template %q", it.Template)
	}
	p.endpoint.AuthStyle = style
	b.mu.Lock()
	b.providers[it.GUID] = p
	b.mu.Unlock()
	return p, nil
}

func (b *Broker) forgetIntegration(guid string) {
	b.decoded.Delete(guid)
	b.mu.Lock()
	delete(b.providers, guid)
	b.mu.Unlock()
	b.local.Range(func(k, _ any) bool {
		if strings.HasSuffix(k.(string), "/"+guid) {
			b.local.Delete(k)
		}
		return true
	})
}

func (b *Broker) oauth2Config(it Integration, p *providerInfo) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     it.Config.ClientID,
		ClientSecret: it.Config.ClientSecret,
		Endpoint:     p.endpoint,
		RedirectURL:  b.RedirectURI(),
		Scopes:       strings.Fields(it.Config.Scopes),
	}
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
