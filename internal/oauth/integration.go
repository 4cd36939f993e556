// Package oauth brokers OAuth credentials of external data platforms (Databricks, any OAuth 2 or
// OpenID provider) for Inlay's viewers and for service accounts, the way Posit Connect's OAuth
// integrations do: an administrator registers an integration, each viewer logs in to it once,
// and content (a dashboard's data source, or an external application with its own API key) gets
// short-lived access tokens on the viewer's behalf, refreshed ahead of expiry.
//
// The package is transport-free: integrations, the login flow (authorization code with PKCE,
// single-use state, issuer and ID-token checks), the viewer token store, the refresher (one
// refresh at a time per viewer and integration across replicas, through storage.Leases) and the
// RFC 8693 credential exchange are functions over typed requests. internal/api renders them.
// Everything persistent lives in storage.Records; client secrets and tokens are sealed with
// internal/secret.
package oauth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/inlay/inlay/internal/storage"
)

// Templates.
const (
	TemplateCustom     = "custom"
	TemplateOIDC       = "oidc"
	TemplateDatabricks = "databricks"
)

// Auth types (Posit Connect's spelling).
const (
	AuthViewer         = "Viewer"
	AuthServiceAccount = "Service Account"
)

// Auth modes.
const (
	ModeConfidential = "Confidential"
	ModePublic       = "Public"
)

// Token endpoint authentication methods.
const (
	AuthMethodBasic = "client_secret_basic"
	AuthMethodPost  = "client_secret_post"
	AuthMethodNone  = "none"
)

// Record kinds this package keeps in storage.Records.
const (
	kindIntegration = "oauth.integration"
	kindName        = "oauth.integration.name"
	kindContent     = "oauth.content"
	kindAssoc       = "oauth.assoc"
	kindState       = "oauth.state"
	kindToken       = "oauth.token"
)

// Config is an integration's provider configuration. ClientSecret is write-only: it is sealed
// in the store and never returned (Public drops it from every answer).
type Config struct {
	AuthMode                string `json:"auth_mode,omitempty"`
	ClientID                string `json:"client_id,omitempty"`
	ClientSecret            string `json:"client_secret,omitempty"`
	Scopes                  string `json:"scopes,omitempty"`
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method,omitempty"`
	UsePKCE                 *bool  `json:"use_pkce,omitempty"`
	// Prompt is sent as the authorization request's prompt (e.g. "consent"). OIDC providers get
	// prompt=consent when offline_access is asked for, as OpenID Connect Core requires.
	Prompt string `json:"prompt,omitempty"`

	// custom
	AuthorizationURI string `json:"authorization_uri,omitempty"`
	TokenURI         string `json:"token_uri,omitempty"`
	RevocationURI    string `json:"revocation_uri,omitempty"`
	// Issuer: for oidc, the issuer whose discovery document gives the endpoints; for custom,
	// optional, the issuer expected in the authorization response's iss (RFC 9207).
	Issuer string `json:"issuer,omitempty"`

	// databricks: a workspace host, or an account host and account id.
	WorkspaceHost string `json:"workspace_host,omitempty"`
	AccountHost   string `json:"account_host,omitempty"`
	AccountID     string `json:"account_id,omitempty"`
}

// Public returns the config as it may be shown: without the client secret.
func (c Config) Public() Config {
	c.ClientSecret = ""
	return c
}

// PKCE reports whether the authorization request uses PKCE (default true).
func (c Config) PKCE() bool { return c.UsePKCE == nil || *c.UsePKCE }

// Integration is a registered OAuth application of a provider.
type Integration struct {
	GUID        string    `json:"guid"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Template    string    `json:"template"`
	AuthType    string    `json:"auth_type"`
	Config      Config    `json:"config"`
	CreatedTime time.Time `json:"created_time"`
	UpdatedTime time.Time `json:"updated_time"`
	// Declared is true for integrations declared in inlay.yaml: the API cannot change them.
	Declared bool `json:"declared,omitempty"`
}

// Input is what creating or replacing an integration takes.
type Input struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Template    string `json:"template"`
	AuthType    string `json:"auth_type"`
	Config      Config `json:"config"`
}

// stored is an integration as kept in the store: the secret sealed, bound to the guid.
type stored struct {
	Integration
	SealedSecret []byte `json:"sealed_secret,omitempty"`
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)
var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// IsGUID reports whether s has the form of an integration guid (names never do).
func IsGUID(s string) bool { return guidRE.MatchString(s) }

// normalize fills defaults in.
func (in *Input) normalize() {
	in.Name = strings.TrimSpace(in.Name)
	if in.Template == "" {
		in.Template = TemplateCustom
	}
	if in.AuthType == "" {
		in.AuthType = AuthViewer
	}
	c := &in.Config
	if c.AuthMode == "" {
		c.AuthMode = ModeConfidential
	}
	if c.TokenEndpointAuthMethod == "" {
		if c.AuthMode == ModePublic {
			c.TokenEndpointAuthMethod = AuthMethodNone
		} else {
			c.TokenEndpointAuthMethod = AuthMethodBasic
		}
	}
	if c.Scopes == "" {
		switch {
		case in.Template == TemplateDatabricks && in.AuthType == AuthServiceAccount:
			c.Scopes = "all-apis"
		case in.Template == TemplateDatabricks:
			c.Scopes = "all-apis offline_access"
		case in.Template == TemplateOIDC && in.AuthType == AuthViewer:
			c.Scopes = "openid offline_access"
		}
	}
	c.Scopes = strings.Join(strings.Fields(c.Scopes), " ")
}

// validate returns every problem with in, as field -> message.
func (in *Input) validate() map[string]string {
	p := map[string]string{}
	if !nameRE.MatchString(in.Name) || IsGUID(in.Name) {
		p["name"] = "1 to 100 letters, digits, '_', '.' or '-', starting with a letter or digit, and not a guid"
	}
	if len(in.Description) > 1000 {
		p["description"] = "at most 1000 characters"
	}
	if !slices.Contains([]string{TemplateCustom, TemplateOIDC, TemplateDatabricks}, in.Template) {
		p["template"] = "one of custom, oidc, databricks"
	}
	if !slices.Contains([]string{AuthViewer, AuthServiceAccount}, in.AuthType) {
		p["auth_type"] = `one of "Viewer", "Service Account"`
	}
	c := in.Config
	switch c.AuthMode {
	case ModeConfidential:
		if c.ClientSecret == "" {
			p["config.client_secret"] = "required for a Confidential client"
		}
		if c.TokenEndpointAuthMethod != AuthMethodBasic && c.TokenEndpointAuthMethod != AuthMethodPost {
			p["config.token_endpoint_auth_method"] = "client_secret_basic or client_secret_post"
		}
	case ModePublic:
		if c.ClientSecret != "" {
			p["config.client_secret"] = "a Public client has no secret"
		}
		if c.TokenEndpointAuthMethod != AuthMethodNone {
			p["config.token_endpoint_auth_method"] = "a Public client authenticates with none"
		}
		if !c.PKCE() {
			p["config.use_pkce"] = "a Public client must use PKCE"
		}
		if in.AuthType == AuthServiceAccount {
			p["config.auth_mode"] = "a Service Account integration needs a Confidential client"
		}
	default:
		p["config.auth_mode"] = "Confidential or Public"
	}
	if c.ClientID == "" {
		p["config.client_id"] = "required"
	}
	checkURL := func(key, v string, required bool) {
		if v == "" {
			if required {
				p[key] = "required"
			}
			return
		}
		if err := checkEndpoint(v); err != nil {
			p[key] = err.Error()
		}
	}
	switch in.Template {
	case TemplateCustom:
		checkURL("config.authorization_uri", c.AuthorizationURI, in.AuthType == AuthViewer)
		checkURL("config.token_uri", c.TokenURI, true)
		checkURL("config.revocation_uri", c.RevocationURI, false)
		checkURL("config.issuer", c.Issuer, false)
	case TemplateOIDC:
		checkURL("config.issuer", c.Issuer, true)
	case TemplateDatabricks:
		switch {
		case c.WorkspaceHost != "" && (c.AccountHost != "" || c.AccountID != ""):
			p["config.workspace_host"] = "give a workspace host, or an account host and account id, not both"
		case c.WorkspaceHost != "":
			checkURL("config.workspace_host", hostURL(c.WorkspaceHost), true)
		case c.AccountHost != "" || c.AccountID != "":
			checkURL("config.account_host", hostURL(c.AccountHost), true)
			if !regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`).MatchString(c.AccountID) {
				p["config.account_id"] = "required with account_host: the account id"
			}
		default:
			p["config.workspace_host"] = "required (or account_host and account_id)"
		}
	}
	if in.AuthType == AuthViewer && !strings.Contains(" "+c.Scopes+" ", " offline_access ") && in.Template != TemplateCustom {
		// Without offline_access there is no refresh token: every hour the viewer would have
		// to log in again. Allowed for custom providers, which may not know the scope.
		p["config.scopes"] = "include offline_access, or viewers must log in again whenever the access token expires"
	}
	return p
}

// hostURL turns a bare host ("adb-1.azuredatabricks.net") into https://host; a URL stays.
func hostURL(h string) string {
	if h == "" || strings.Contains(h, "://") {
		return strings.TrimRight(h, "/")
	}
	return "https://" + strings.TrimRight(h, "/")
}

// checkEndpoint accepts absolute https URLs, and http only for loopback hosts (local tests and
// demos), without fragments or user info.
func checkEndpoint(v string) error {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return errors.New("an absolute URL without user info or fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return errors.New("https is required (http only for loopback hosts)")
	}
	return errors.New("an http(s) URL")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ValidationError lists every problem with an integration's fields.
type ValidationError struct{ Problems map[string]string }

func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Problems))
	for k := range e.Problems {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e.Problems[k]
	}
	return "invalid integration: " + strings.Join(parts, "; ")
}

var (
	// ErrNotFound: no integration (or session, or content) with that guid or name.
	ErrNotFound = errors.New("oauth: not found")
	// ErrNameTaken: another integration has that name.
	ErrNameTaken = errors.New("oauth: an integration with that name exists")
	// ErrDeclared: the integration is declared in inlay.yaml and cannot be changed by the API.
	ErrDeclared = errors.New("oauth: the integration is declared in inlay.yaml")
)

func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func secretAD(guid string) []byte { return []byte("inlay/oauth/client-secret/" + guid) }

// CreateIntegration validates in and stores a new integration.
func (b *Broker) CreateIntegration(ctx context.Context, in Input) (Integration, error) {
	return b.create(ctx, in, newGUID(), false)
}

func (b *Broker) create(ctx context.Context, in Input, guid string, declared bool) (Integration, error) {
	in.normalize()
	if p := in.validate(); len(p) > 0 {
		return Integration{}, &ValidationError{Problems: p}
	}
	now := b.now().UTC()
	it := Integration{GUID: guid, Name: in.Name, Description: in.Description, Template: in.Template,
		AuthType: in.AuthType, Config: in.Config, CreatedTime: now, UpdatedTime: now, Declared: declared}
	if err := b.store.CreateRecord(ctx, storage.Record{Kind: kindName, Key: it.Name, Value: []byte(guid)}); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return Integration{}, ErrNameTaken
		}
		return Integration{}, err
	}
	val, err := b.encodeIntegration(it)
	if err != nil {
		_ = b.store.DeleteRecord(ctx, kindName, it.Name)
		return Integration{}, err
	}
	if err := b.store.CreateRecord(ctx, storage.Record{Kind: kindIntegration, Key: guid, Value: val}); err != nil {
		_ = b.store.DeleteRecord(ctx, kindName, it.Name)
		return Integration{}, err
	}
	it.Config = it.Config.Public()
	return it, nil
}

func (b *Broker) encodeIntegration(it Integration) ([]byte, error) {
	s := stored{Integration: it}
	if it.Config.ClientSecret != "" {
		sealed, err := b.keys.Seal([]byte(it.Config.ClientSecret), secretAD(it.GUID))
		if err != nil {
			return nil, err
		}
		s.SealedSecret = sealed
	}
	s.Config.ClientSecret = ""
	return json.Marshal(s)
}

// load returns the integration with its secret opened (for the broker's own use only).
func (b *Broker) load(ctx context.Context, guidOrName string) (Integration, error) {
	guid := guidOrName
	if !IsGUID(guidOrName) {
		r, err := b.store.GetRecord(ctx, kindName, guidOrName)
		if errors.Is(err, storage.ErrNotFound) {
			return Integration{}, ErrNotFound
		} else if err != nil {
			return Integration{}, err
		}
		guid = string(r.Value)
	}
	r, err := b.store.GetRecord(ctx, kindIntegration, guid)
	if errors.Is(err, storage.ErrNotFound) {
		return Integration{}, ErrNotFound
	} else if err != nil {
		return Integration{}, err
	}
	// Decoding and opening the secret is most of a fresh-token exchange's work: keep the
	// decoded integration per stored version.
	if v, ok := b.decoded.Load(guid); ok && v.(decodedIntegration).version == r.Version && v.(decodedIntegration).updated.Equal(r.UpdatedAt) {
		return v.(decodedIntegration).it, nil
	}
	it, err := b.decodeIntegration(r.Value)
	if err == nil {
		b.decoded.Store(guid, decodedIntegration{version: r.Version, updated: r.UpdatedAt, it: it})
	}
	return it, err
}

type decodedIntegration struct {
	version int64
	updated time.Time
	it      Integration
}

func (b *Broker) decodeIntegration(val []byte) (Integration, error) {
	var s stored
	if err := json.Unmarshal(val, &s); err != nil {
		return Integration{}, fmt.Errorf("oauth: stored integration: %w", err)
	}
	if len(s.SealedSecret) > 0 {
		plain, err := b.keys.Open(s.SealedSecret, secretAD(s.GUID))
		if err != nil {
			return Integration{}, fmt.Errorf("oauth: integration %s: client secret: %w", s.GUID, err)
		}
		s.Config.ClientSecret = string(plain)
	}
	return s.Integration, nil
}

// GetIntegration returns the integration by guid or name, without its secret.
func (b *Broker) GetIntegration(ctx context.Context, guidOrName string) (Integration, error) {
	it, err := b.load(ctx, guidOrName)
	it.Config = it.Config.Public()
	return it, err
}

// ListIntegrations returns every integration by name, without secrets.
func (b *Broker) ListIntegrations(ctx context.Context) ([]Integration, error) {
	rs, err := b.store.ListRecords(ctx, kindIntegration, "")
	if err != nil {
		return nil, err
	}
	out := make([]Integration, 0, len(rs))
	for _, r := range rs {
		var s stored
		if err := json.Unmarshal(r.Value, &s); err != nil {
			return nil, fmt.Errorf("oauth: stored integration: %w", err)
		}
		s.Config.ClientSecret = ""
		out = append(out, s.Integration)
	}
	slices.SortFunc(out, func(a, b Integration) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Patch is a partial update: nil fields stay; Config keys are merged one by one (a key given as
// null is removed).
type Patch struct {
	Name        *string
	Description *string
	Template    *string
	AuthType    *string
	Config      map[string]json.RawMessage
}

// UpdateIntegration applies p to the integration named by guid or name.
func (b *Broker) UpdateIntegration(ctx context.Context, guidOrName string, p Patch) (Integration, error) {
	cur, err := b.load(ctx, guidOrName)
	if err != nil {
		return Integration{}, err
	}
	if cur.Declared {
		return Integration{}, ErrDeclared
	}
	in := Input{Name: cur.Name, Description: cur.Description, Template: cur.Template, AuthType: cur.AuthType, Config: cur.Config}
	if p.Name != nil {
		in.Name = *p.Name
	}
	if p.Description != nil {
		in.Description = *p.Description
	}
	if p.Template != nil {
		in.Template = *p.Template
	}
	if p.AuthType != nil {
		in.AuthType = *p.AuthType
	}
	if len(p.Config) > 0 {
		merged := map[string]json.RawMessage{}
		raw, _ := json.Marshal(in.Config)
		_ = json.Unmarshal(raw, &merged)
		for k, v := range p.Config {
			if string(v) == "null" {
				delete(merged, k)
			} else {
				merged[k] = v
			}
		}
		raw, _ = json.Marshal(merged)
		var c Config
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return Integration{}, &ValidationError{Problems: map[string]string{"config": err.Error()}}
		}
		in.Config = c
	}
	in.normalize()
	if probs := in.validate(); len(probs) > 0 {
		return Integration{}, &ValidationError{Problems: probs}
	}
	renamed := in.Name != cur.Name
	if renamed {
		if err := b.store.CreateRecord(ctx, storage.Record{Kind: kindName, Key: in.Name, Value: []byte(cur.GUID)}); err != nil {
			if errors.Is(err, storage.ErrAlreadyExists) {
				return Integration{}, ErrNameTaken
			}
			return Integration{}, err
		}
	}
	var out Integration
	_, err = b.store.UpdateRecord(ctx, kindIntegration, cur.GUID, func(r storage.Record) (storage.Record, error) {
		it, err := b.decodeIntegration(r.Value)
		if err != nil {
			return r, err
		}
		it.Name, it.Description, it.Template, it.AuthType, it.Config = in.Name, in.Description, in.Template, in.AuthType, in.Config
		it.UpdatedTime = b.now().UTC()
		if r.Value, err = b.encodeIntegration(it); err != nil {
			return r, err
		}
		out = it
		return r, nil
	})
	if err != nil {
		if renamed {
			_ = b.store.DeleteRecord(ctx, kindName, in.Name)
		}
		if errors.Is(err, storage.ErrNotFound) {
			return Integration{}, ErrNotFound
		}
		return Integration{}, err
	}
	if renamed {
		_ = b.store.DeleteRecord(ctx, kindName, cur.Name)
	}
	b.forgetIntegration(cur.GUID)
	out.Config = out.Config.Public()
	return out, nil
}

// DeleteIntegration removes the integration, its associations and every viewer's tokens for it.
func (b *Broker) DeleteIntegration(ctx context.Context, guidOrName string) error {
	cur, err := b.load(ctx, guidOrName)
	if err != nil {
		return err
	}
	if cur.Declared {
		return ErrDeclared
	}
	return b.remove(ctx, cur)
}

func (b *Broker) remove(ctx context.Context, cur Integration) error {
	if err := b.store.DeleteRecord(ctx, kindIntegration, cur.GUID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	_ = b.store.DeleteRecord(ctx, kindName, cur.Name)
	b.forgetIntegration(cur.GUID)
	// Tokens of the integration: keys are viewer/guid, so scan them all (admin operation).
	toks, err := b.store.ListRecords(ctx, kindToken, "")
	if err != nil {
		return err
	}
	for _, r := range toks {
		if strings.HasSuffix(r.Key, "/"+cur.GUID) {
			_ = b.store.DeleteRecord(ctx, kindToken, r.Key)
		}
	}
	assocs, err := b.store.ListRecords(ctx, kindAssoc, "")
	if err != nil {
		return err
	}
	for _, r := range assocs {
		_, _ = b.store.UpdateRecord(ctx, kindAssoc, r.Key, func(r storage.Record) (storage.Record, error) {
			var guids []string
			_ = json.Unmarshal(r.Value, &guids)
			guids = slices.DeleteFunc(guids, func(g string) bool { return g == cur.GUID })
			r.Value, _ = json.Marshal(guids)
			return r, nil
		})
	}
	return nil
}

// Declare makes the integrations declared in inlay.yaml exist as given: each gets a guid derived
// from its name (stable across restarts and replicas), is created or replaced, and cannot be
// changed through the API. Declared integrations no longer in the list are removed.
func (b *Broker) Declare(ctx context.Context, ins []Input) error {
	want := map[string]bool{}
	for _, in := range ins {
		in.normalize()
		guid := declaredGUID(in.Name)
		want[guid] = true
		if p := in.validate(); len(p) > 0 {
			return fmt.Errorf("oauth integration %q: %w", in.Name, &ValidationError{Problems: p})
		}
		cur, err := b.load(ctx, guid)
		switch {
		case errors.Is(err, ErrNotFound):
			if _, err := b.create(ctx, in, guid, true); err != nil {
				return fmt.Errorf("oauth integration %q: %w", in.Name, err)
			}
			continue
		case err != nil:
			return err
		}
		if cur.Name == in.Name && cur.Description == in.Description && cur.Template == in.Template &&
			cur.AuthType == in.AuthType && configEqual(cur.Config, in.Config) {
			continue
		}
		_, err = b.store.UpdateRecord(ctx, kindIntegration, guid, func(r storage.Record) (storage.Record, error) {
			it := Integration{GUID: guid, Name: in.Name, Description: in.Description, Template: in.Template,
				AuthType: in.AuthType, Config: in.Config, CreatedTime: cur.CreatedTime, UpdatedTime: b.now().UTC(), Declared: true}
			v, err := b.encodeIntegration(it)
			r.Value = v
			return r, err
		})
		if err != nil {
			return err
		}
		b.forgetIntegration(guid)
	}
	all, err := b.ListIntegrations(ctx)
	if err != nil {
		return err
	}
	for _, it := range all {
		if it.Declared && !want[it.GUID] {
			if err := b.remove(ctx, it); err != nil {
				return err
			}
		}
	}
	return nil
}

func configEqual(a, b Config) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// declaredGUID derives a version-4-shaped guid from a declared integration's name.
func declaredGUID(name string) string {
	h := sha256Sum([]byte("inlay/oauth/declared/" + name))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// Reseal seals every stored client secret and token again with the current master key (after a
// master-key rotation, so the previous key can be retired). It returns how many it resealed.
func (b *Broker) Reseal(ctx context.Context) (int, error) {
	n := 0
	its, err := b.store.ListRecords(ctx, kindIntegration, "")
	if err != nil {
		return 0, err
	}
	for _, r := range its {
		_, err := b.store.UpdateRecord(ctx, kindIntegration, r.Key, func(r storage.Record) (storage.Record, error) {
			it, err := b.decodeIntegration(r.Value)
			if err != nil {
				return r, err
			}
			r.Value, err = b.encodeIntegration(it)
			return r, err
		})
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return n, err
		}
		n++
	}
	toks, err := b.store.ListRecords(ctx, kindToken, "")
	if err != nil {
		return n, err
	}
	for _, r := range toks {
		_, err := b.store.UpdateRecord(ctx, kindToken, r.Key, func(r storage.Record) (storage.Record, error) {
			rec, set, err := b.openToken(r)
			if err != nil {
				return r, err
			}
			return b.sealToken(r, rec, set)
		})
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return n, err
		}
		n++
	}
	return n, nil
}

// Validate returns every problem with in (field -> message), after filling in its defaults; an
// empty map means it would be accepted. For checking declarations before anything starts.
func Validate(in Input) map[string]string {
	in.normalize()
	return in.validate()
}
