package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// MinSecretBytes is the least entropy accepted for the master key.
const MinSecretBytes = 32

// MinAdminKeyLen is the shortest admin key accepted.
const MinAdminKeyLen = 16

var dataSourceName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// Validate checks the whole configuration and returns every problem at once, as Problems, or
// nil. Each problem names its key and, when the value came from inlay.yaml, file:line.
//
// It does not check that a "default" data source exists: datasets that name no source use
// DefaultDataSource, so that is a problem only if such a dataset exists, which the caller
// loading dashboards checks. Nor does it require Secret: see Config.Secret.
func (c *Config) Validate() error {
	var probs Problems
	bad := func(key, format string, args ...any) {
		probs = append(probs, c.problem(key, fmt.Sprintf(format, args...)))
	}

	if err := checkHostPort(c.Listen); err != nil {
		bad("listen", "%v", err)
	}
	// A derived public URL is wrong only if listen is, which is reported above.
	if err := checkBaseURL(c.PublicURL); err != nil && !c.publicURLDerived {
		bad("public_url", "%v", err)
	}
	if c.Secret.IsSet() {
		if _, err := decodeKey(c.Secret.Reveal()); err != nil {
			bad("secret", "%v", err)
		}
	}
	switch {
	case c.TLS.SelfSigned && (c.TLS.Cert != "" || c.TLS.Key != ""):
		bad("tls.self_signed", "takes no cert or key: give either self_signed or cert and key")
	case (c.TLS.Cert == "") != (c.TLS.Key == ""):
		bad("tls", "cert and key go together")
	}
	if c.AdminKey.IsSet() && len(c.AdminKey.Reveal()) < MinAdminKeyLen {
		bad("admin_key", "must be at least %d characters", MinAdminKeyLen)
	}

	switch c.State.Driver {
	case StateSQLite:
		if c.State.Path == "" {
			bad("state.path", "is required with driver %q", StateSQLite)
		}
	case StateMemory:
	case StatePostgres:
		if !c.State.DSN.IsSet() {
			bad("state.dsn", "is required with driver %q", StatePostgres)
		} else if err := checkPostgresDSN(c.State.DSN.Reveal()); err != nil {
			bad("state.dsn", "%v", err)
		}
	default:
		bad("state.driver", "unknown driver %q (want %q, %q or %q)", c.State.Driver, StateSQLite, StateMemory, StatePostgres)
	}
	if c.State.Driver != StatePostgres && c.State.DSN.IsSet() {
		bad("state.dsn", "is for driver %q", StatePostgres)
	}
	if c.State.MaxConns < 0 {
		bad("state.max_conns", "must not be negative")
	}
	if c.Cache.Redis.IsSet() {
		if err := checkRedisURL(c.Cache.Redis.Reveal()); err != nil {
			bad("cache.redis", "%v", err)
		} else if c.Query.CacheTTL <= 0 {
			bad("cache.redis", "needs the result cache on (query.cache_ttl > 0)")
		}
	}

	for _, name := range sortedKeys(c.DataSources) {
		ds := c.DataSources[name]
		key := "data_sources." + name
		if !dataSourceName.MatchString(name) {
			bad(key, "name must start with a letter and hold only letters, digits, '_' and '-'")
		}
		switch ds.Type {
		case TypeDuckDB:
			if ds.DSN.IsSet() {
				bad(key+".dsn", "is for postgres; a duckdb source takes path")
			}
		case TypePostgres:
			if !ds.DSN.IsSet() {
				bad(key+".dsn", "is required for a postgres source")
			}
			if ds.Path != "" {
				bad(key+".path", "is for duckdb; a postgres source takes dsn")
			}
		case TypeDatabricks:
			if ds.Host == "" || ds.HTTPPath == "" {
				bad(key, "a databricks source needs host and http_path")
			}
			if ds.OAuthIntegration != "" && ds.Token.IsSet() {
				bad(key+".token", "a source with oauth_integration runs with each viewer's credentials: remove token")
			}
			if ds.OAuthIntegration == "" && !ds.Token.IsSet() {
				bad(key, "a databricks source needs oauth_integration or token")
			}
		case "":
			bad(key+".type", "is required (%q or %q)", TypeDuckDB, TypePostgres)
		default:
			bad(key+".type", "unknown type %q (want %q or %q)", ds.Type, TypeDuckDB, TypePostgres)
		}
		if ds.MaxConns < 0 {
			bad(key+".max_conns", "must not be negative")
		}
	}

	for i, o := range c.Embed.AllowedOrigins {
		if err := checkOrigin(o); err != nil {
			bad("embed.allowed_origins", "entry %d %q: %v", i+1, o, err)
		}
	}

	positive := func(key string, d time.Duration) {
		if d <= 0 {
			bad(key, "must be a positive duration, got %v", d)
		}
	}
	positive("tokens.embed_ttl", c.Tokens.EmbedTTL)
	positive("tokens.max_embed_ttl", c.Tokens.MaxEmbedTTL)
	positive("tokens.service_ttl", c.Tokens.ServiceTTL)
	positive("tokens.key_rotation", c.Tokens.KeyRotation)
	if c.Tokens.EmbedTTL > c.Tokens.MaxEmbedTTL && c.Tokens.MaxEmbedTTL > 0 {
		bad("tokens.embed_ttl", "%v is longer than tokens.max_embed_ttl (%v)", c.Tokens.EmbedTTL, c.Tokens.MaxEmbedTTL)
	}
	positive("query.timeout", c.Query.Timeout)
	if c.Query.MaxRows <= 0 {
		bad("query.max_rows", "must be positive")
	}
	if c.Query.ExportMaxRows <= 0 {
		bad("query.export_max_rows", "must be positive")
	}
	if c.Query.CacheTTL < 0 {
		bad("query.cache_ttl", "must not be negative (0 turns the cache off)")
	}
	if c.Dashboards == "" {
		bad("dashboards", "is required")
	}
	c.validateOperations(bad)

	if len(probs) == 0 {
		return nil
	}
	return probs
}

// MasterKey decodes Secret (hex or base64 of at least MinSecretBytes bytes).
func (c *Config) MasterKey() ([]byte, error) {
	if !c.Secret.IsSet() {
		return nil, errors.New("config: secret is not set")
	}
	k, err := decodeKey(c.Secret.Reveal())
	if err != nil {
		return nil, fmt.Errorf("config: secret: %w", err)
	}
	return k, nil
}

// decodeKey accepts hex first (64 hex digits are also valid base64, and hex is what
// `openssl rand -hex 32` prints), then standard or URL base64, padded or not. Its errors never
// contain the key.
func decodeKey(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil {
		if len(b) >= MinSecretBytes {
			return b, nil
		}
		return nil, fmt.Errorf("decodes (hex) to %d bytes; at least %d are needed", len(b), MinSecretBytes)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) >= MinSecretBytes {
				return b, nil
			}
			return nil, fmt.Errorf("decodes (base64) to %d bytes; at least %d are needed", len(b), MinSecretBytes)
		}
	}
	return nil, fmt.Errorf("must be hex or base64 of at least %d random bytes (e.g. `openssl rand -hex 32`)", MinSecretBytes)
}

func checkHostPort(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	_ = host // an empty host means every interface, which is allowed
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has a bad port", addr)
	}
	return nil
}

func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL", s)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q must start with http:// or https://", s)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q must be scheme://host[:port][/path] without user, query or fragment", s)
	}
	return nil
}

// checkOrigin accepts exactly what a browser sends as Origin: scheme://host[:port].
func checkOrigin(s string) error {
	if s == "*" {
		return errors.New(`"*" is not allowed: list each origin`)
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("is not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("must start with http:// or https://")
	}
	if u.Host == "" || u.User != nil || u.Opaque != "" {
		return errors.New("must be scheme://host[:port]")
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return errors.New("must have no path (not even a trailing '/'), query or fragment")
	}
	if _, port, err := net.SplitHostPort(u.Host); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return errors.New("has a bad port")
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
