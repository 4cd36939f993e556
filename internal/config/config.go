// Package config is Inlay's one typed configuration. cmd owns it: defaults, then
// <project>/inlay.yaml, then INLAY_* environment variables (Load), then command-line flags
// (set by cmd on the returned Config), then Validate, which reports every problem at once.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/inlay/inlay/internal/yamlpos"
)

// FileName is the config file looked for in the project directory.
const FileName = "inlay.yaml"

// DefaultListen is the documented default address (8470 spells nothing; it is just free).
const DefaultListen = "127.0.0.1:8470"

// DefaultDataSource names the data source used by datasets that name none.
const DefaultDataSource = "default"

// Data source types.
const (
	TypeDuckDB   = "duckdb"
	TypePostgres = "postgres"
	// TypeDatabricks is a Databricks SQL warehouse (host, http_path; credentials from
	// oauth_integration, or a token).
	TypeDatabricks = "databricks"
)

// State drivers.
const (
	StateSQLite   = "sqlite"
	StateMemory   = "memory"
	StatePostgres = "postgres"
)

// Config is the whole of Inlay's configuration. YAML keys are snake_case; durations are Go
// duration strings ("90s", "1h"); paths in inlay.yaml are relative to the project directory.
type Config struct {
	// Listen is the HTTP listen address, host:port.
	Listen string `yaml:"listen" json:"listen"`
	// PublicURL is the token issuer and the base of viewer URLs. Load sets it to
	// "http://"+Listen when not configured; use SetListen to change Listen afterwards.
	PublicURL string `yaml:"public_url" json:"public_url"`
	// Secret is the master key (base64 or hex of at least 32 bytes) that seals signing keys and
	// keys the hashes of principal secrets. See MasterKey. Validate accepts it unset: the
	// caller decides what an unset master key means (refuse to serve, or generate one).
	Secret Secret `yaml:"secret" json:"secret"`
	// AdminKey is the bearer key of the admin API; unset disables the admin API.
	AdminKey    Secret                      `yaml:"admin_key" json:"admin_key"`
	State       StateConfig                 `yaml:"state" json:"state"`
	DataSources map[string]DataSourceConfig `yaml:"data_sources" json:"data_sources"`
	Embed       EmbedConfig                 `yaml:"embed" json:"embed"`
	Tokens      TokenConfig                 `yaml:"tokens" json:"tokens"`
	Query       QueryConfig                 `yaml:"query" json:"query"`
	Cache       CacheConfig                 `yaml:"cache" json:"cache"`
	// Dashboards is the folder holding dashboards/*.yaml.
	Dashboards string `yaml:"dashboards" json:"dashboards"`
	// Limits, Server and Telemetry are the operations settings (operations.go).
	Limits    LimitsConfig    `yaml:"limits" json:"limits"`
	Server    ServerConfig    `yaml:"server" json:"server"`
	Telemetry TelemetryConfig `yaml:"telemetry" json:"telemetry"`
	// TLS makes Inlay serve HTTPS (needed by the Looker Embed SDK, docs/looker.md).
	TLS TLSConfig `yaml:"tls" json:"tls"`
	// OAuth declares OAuth integrations (see OAuthConfig).
	OAuth OAuthConfig `yaml:"oauth" json:"oauth"`

	// file is the config file read (empty when none was).
	file string
	// where maps a key path ("tokens.embed_ttl") to where its value was set ("inlay.yaml:12",
	// "env INLAY_LISTEN"), so that problems point at it.
	where map[string]string
	// publicURLDerived is true while PublicURL is the default derived from Listen.
	publicURLDerived bool
}

// TLSConfig makes Inlay serve HTTPS: a certificate and key (PEM files), or a self-signed
// certificate for 127.0.0.1 and localhost made and kept under <project>/.inlay/tls.
type TLSConfig struct {
	Cert       string `yaml:"cert" json:"cert"`
	Key        string `yaml:"key" json:"key"`
	SelfSigned bool   `yaml:"self_signed" json:"self_signed"`
}

// Enabled reports whether Inlay serves HTTPS.
func (t TLSConfig) Enabled() bool { return t.Cert != "" || t.Key != "" || t.SelfSigned }

// SetTLS sets the TLS settings (e.g. from flags). A PublicURL that was not configured follows
// the scheme.
func (c *Config) SetTLS(t TLSConfig) {
	c.TLS = t
	c.setBy("tls", "flag")
	if c.publicURLDerived {
		c.PublicURL = c.derivedPublicURL(c.Listen)
	}
}

// derivedPublicURL is derivePublicURL with https when TLS is on.
func (c *Config) derivedPublicURL(listen string) string {
	u := derivePublicURL(listen)
	if c.TLS.Enabled() {
		u = "https://" + strings.TrimPrefix(u, "http://")
	}
	return u
}

// StateConfig selects the store for Inlay's own state (principals, signing keys, audit log).
type StateConfig struct {
	Driver string `yaml:"driver" json:"driver"` // "sqlite" (default), "memory" or "postgres"
	Path   string `yaml:"path" json:"path"`     // sqlite file, default <project>/.inlay/state.db
	// DSN is the PostgreSQL connection string of driver "postgres" (it may hold a password,
	// hence a Secret). Every replica sharing it shares principals, keys, audit and records.
	DSN Secret `yaml:"dsn" json:"dsn"`
	// MaxConns caps the postgres state pool; 0 means the driver's default.
	MaxConns int `yaml:"max_conns" json:"max_conns"`
}

// CacheConfig configures the shared result cache.
type CacheConfig struct {
	// Redis is a redis:// (or rediss://) URL; when set, query results are shared through Redis
	// in front of the in-process cache, so replicas serve each other's results. It may hold a
	// password, hence a Secret.
	Redis Secret `yaml:"redis" json:"redis"`
}

// DataSourceConfig configures one named database.
type DataSourceConfig struct {
	Type string `yaml:"type" json:"type"` // "duckdb" or "postgres"
	// Path is the DuckDB database file; "" means an in-memory database.
	Path string `yaml:"path" json:"path"`
	// DSN is the PostgreSQL connection string (it may hold a password, hence a Secret).
	DSN Secret `yaml:"dsn" json:"dsn"`
	// InitSQL runs once, in order, when the source is opened at start (DuckDB: e.g.
	// CREATE OR REPLACE VIEW over Parquet files). Statements on a database file persist, so
	// they should be idempotent.
	InitSQL []string `yaml:"init_sql" json:"init_sql"`
	// MaxConns caps the connection pool; 0 means the implementation's default.
	MaxConns int `yaml:"max_conns" json:"max_conns"`
	// MaxConcurrentQueries caps the queries this replica runs on the source at once; more wait
	// in a queue of MaxQueuedQueries, beyond which a query fails with 503 datasource_busy.
	// 0 means the default (max_conns for postgres, twice the CPU count for duckdb).
	MaxConcurrentQueries int `yaml:"max_concurrent_queries" json:"max_concurrent_queries"`
	MaxQueuedQueries     int `yaml:"max_queued_queries" json:"max_queued_queries"`
	// AllowedDirectories (DuckDB) are the folders dashboard SQL may read files from once
	// init_sql has run; every other file and the network are refused.
	AllowedDirectories []string `yaml:"allowed_directories" json:"allowed_directories"`
	// ExternalAccess (DuckDB) turns the sandbox off: any file or URL can be read. Default false.
	ExternalAccess bool `yaml:"external_access" json:"external_access"`
	// OAuthIntegration names the OAuth integration (guid or name) whose credentials the queries
	// of this source run with: the viewer's own, or a service account's.
	OAuthIntegration string `yaml:"oauth_integration" json:"oauth_integration,omitempty"`
	// Databricks: the workspace host, the warehouse's HTTP path, the initial catalog and
	// schema, and a static token for sources without oauth_integration.
	Host     string `yaml:"host" json:"host,omitempty"`
	HTTPPath string `yaml:"http_path" json:"http_path,omitempty"`
	Catalog  string `yaml:"catalog" json:"catalog,omitempty"`
	Schema   string `yaml:"schema" json:"schema,omitempty"`
	Token    Secret `yaml:"token" json:"token"`
	// Dir is the project folder, which relative file names in a DuckDB source's SQL
	// (read_parquet('orders/*.parquet')) resolve against, like Path. Set by Load.
	Dir string `yaml:"-" json:"-"`
}

// EmbedConfig controls which host pages may embed dashboards.
type EmbedConfig struct {
	// AllowedOrigins are scheme://host[:port] (no path, no "*").
	AllowedOrigins []string `yaml:"allowed_origins" json:"allowed_origins"`
}

// TokenConfig sets token lifetimes and key rotation.
type TokenConfig struct {
	EmbedTTL    time.Duration `yaml:"embed_ttl" json:"embed_ttl"`         // default lifetime of an embed token
	MaxEmbedTTL time.Duration `yaml:"max_embed_ttl" json:"max_embed_ttl"` // the longest a caller may ask for
	ServiceTTL  time.Duration `yaml:"service_ttl" json:"service_ttl"`     // lifetime of a service token
	KeyRotation time.Duration `yaml:"key_rotation" json:"key_rotation"`   // how long a signing key signs
}

// LongestTTL is the longest lifetime of any token Inlay issues (embed or service): how long the
// key ring keeps a retired signing key published.
func (t TokenConfig) LongestTTL() time.Duration {
	return max(t.MaxEmbedTTL, t.EmbedTTL, t.ServiceTTL)
}

// QueryConfig bounds dashboard queries.
type QueryConfig struct {
	Timeout       time.Duration `yaml:"timeout" json:"timeout"`
	MaxRows       int           `yaml:"max_rows" json:"max_rows"`
	ExportMaxRows int           `yaml:"export_max_rows" json:"export_max_rows"`
	// CacheTTL is how long results are cached; 0 turns the result cache off.
	CacheTTL time.Duration `yaml:"cache_ttl" json:"cache_ttl"`
	// CacheMaxBytes bounds the result cache by the estimated size of the cached results.
	CacheMaxBytes uint64 `yaml:"cache_max_bytes" json:"cache_max_bytes"`
}

// Default returns the configuration used when nothing is configured, for a project in dir.
// It has no data sources: the caller (demo) adds what it needs.
func Default(projectDir string) *Config {
	return &Config{
		Listen:           DefaultListen,
		PublicURL:        "http://" + DefaultListen,
		publicURLDerived: true,
		State: StateConfig{
			Driver: StateSQLite,
			Path:   filepath.Join(projectDir, ".inlay", "state.db"),
		},
		DataSources: map[string]DataSourceConfig{},
		Tokens: TokenConfig{
			EmbedTTL:    time.Hour,
			MaxEmbedTTL: 24 * time.Hour,
			ServiceTTL:  time.Hour,
			KeyRotation: 720 * time.Hour,
		},
		Query: QueryConfig{
			Timeout:       30 * time.Second,
			MaxRows:       10_000,
			ExportMaxRows: 100_000,
			CacheTTL:      5 * time.Minute,
			CacheMaxBytes: 256 << 20,
		},
		Dashboards: filepath.Join(projectDir, "dashboards"),
		Limits:     defaultLimits(),
		Server:     ServerConfig{ShutdownTimeout: DefaultShutdownTimeout},
		where:      map[string]string{},
	}
}

// Load reads <projectDir>/inlay.yaml over the defaults and applies the INLAY_* environment
// overrides. A missing file is an error satisfying errors.Is(err, fs.ErrNotExist); use
// LoadOptional where running without one is fine. Other errors are Problems (every problem in
// the file at once, each with file:line). Load does not Validate: cmd applies flags first.
func Load(projectDir string, getenv func(string) string) (*Config, error) {
	return load(projectDir, getenv, false)
}

// LoadOptional is Load, except that a missing inlay.yaml means defaults plus environment.
func LoadOptional(projectDir string, getenv func(string) string) (*Config, error) {
	return load(projectDir, getenv, true)
}

// LoadAll is Load for tools that report every problem of a project at once (inlay check, inlay
// dev): it returns the configuration read so far together with its problems, so that dashboards
// can still be checked against it when inlay.yaml has a mistake. err is set only when the file
// cannot be read at all.
func LoadAll(projectDir string, getenv func(string) string) (*Config, Problems, error) {
	return loadAll(projectDir, getenv, false)
}

func load(projectDir string, getenv func(string) string, optional bool) (*Config, error) {
	c, probs, err := loadAll(projectDir, getenv, optional)
	if err != nil {
		return nil, err
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return c, nil
}

func loadAll(projectDir string, getenv func(string) string, optional bool) (*Config, Problems, error) {
	c := Default(projectDir)
	path := filepath.Join(projectDir, FileName)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && optional:
		path = ""
	case err != nil:
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	var probs Problems
	if path != "" {
		c.file = path
		probs = append(probs, c.decode(path, data)...)
		c.resolvePaths(projectDir)
		c.resolveOperationPaths(projectDir)
	}
	c.applyEnv(getenv)
	probs = append(probs, c.resolveSecrets(getenv, projectDir)...)
	if c.publicURLDerived {
		c.PublicURL = c.derivedPublicURL(c.Listen)
	}
	return c, probs, nil
}

// SetListen sets the listen address (e.g. from a flag). A PublicURL that was not configured
// follows it.
func (c *Config) SetListen(addr string) {
	c.Listen = addr
	c.setBy("listen", "flag")
	if c.publicURLDerived {
		c.PublicURL = c.derivedPublicURL(addr)
	}
}

// derivePublicURL is the default public URL for a listen address. An address listening on every
// interface (":8470", "0.0.0.0:8470") is reached as localhost.
func derivePublicURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://" + listen // Validate reports the listen address
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// File is the path of the config file read, or "" if none was.
func (c *Config) File() string { return c.file }

// decode parses the YAML over c, collecting unknown keys and type errors with their lines.
func (c *Config) decode(path string, data []byte) Problems {
	var probs Problems
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Problems{problemFromYAML(path, err.Error(), nil)}
	}
	if len(root.Content) == 0 { // an empty file
		return nil
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return Problems{{File: path, Line: doc.Line, Message: "the file must be a mapping of keys"}}
	}
	c.publicURLDerived = true
	lines := map[int]string{}
	duplicates := false
	w := yamlpos.Walker{
		Key: func(key string, k *yaml.Node, known bool, fields map[string]reflect.StructField) {
			if !known {
				probs = append(probs, Problem{File: path, Line: k.Line, Column: k.Column, Key: key,
					Message: "unknown key" + yamlpos.Suggest(k.Value, fields)})
				return
			}
			c.setBy(key, fmt.Sprintf("%s:%d", filepath.Base(path), k.Line))
			if _, ok := lines[k.Line]; !ok || len(key) > len(lines[k.Line]) {
				lines[k.Line] = key
			}
			if key == "public_url" {
				c.publicURLDerived = false
			}
		},
		Duplicate: func(key string, k, first *yaml.Node) {
			duplicates = true
			probs = append(probs, Problem{File: path, Line: k.Line, Column: k.Column, Key: key,
				Message: fmt.Sprintf("given twice (first on line %d)", first.Line)})
		},
		// Secrets check their own shape ({env}, {file} or a value) when decoded; yaml.v3 reports
		// other wrong shapes with their line.
		Opaque: map[reflect.Type]bool{reflect.TypeOf(Secret{}): true},
	}
	w.Walk(doc, reflect.TypeOf(Config{}), "")
	if duplicates {
		return probs // yaml.v3 refuses the whole mapping: decoding would only repeat them less clearly
	}
	// Unknown keys are not decoded (yaml.v3 skips them), so the rest of the file is still read
	// and its own mistakes reported alongside.
	if err := doc.Decode(c); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, msg := range te.Errors {
				probs = append(probs, problemFromYAML(path, msg, lines))
			}
		} else {
			probs = append(probs, problemFromYAML(path, err.Error(), lines))
		}
	}
	return probs
}

// yamlParserErrors are yaml.v3's parser error messages, reported with a 0-based line.
var yamlParserErrors = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"did not find expected '-' indicator", "did not find expected <document start>",
	"did not find expected <stream-start>", "did not find expected key",
	"did not find expected node content", "found duplicate %TAG directive",
	"found duplicate %YAML directive", "found incompatible YAML document", "found undefined tag handle",
}

// problemFromYAML turns a yaml.v3 message ("line 12: cannot unmarshal ...") into a Problem,
// naming the key found on that line when known.
func problemFromYAML(path, msg string, lines map[int]string) Problem {
	p := Problem{File: path, Message: strings.TrimPrefix(msg, "yaml: ")}
	if rest, ok := strings.CutPrefix(p.Message, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				p.Line, p.Message, p.Key = n, tail, lines[n]
				if slices.Contains(yamlParserErrors, tail) {
					// yaml.v3 gives parser (not scanner) errors a 0-based line.
					p.Line, p.Key = n+1, lines[n+1]
				}
			}
		}
	}
	return p
}

// resolvePaths makes paths given in the file relative to the project directory.
func (c *Config) resolvePaths(dir string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	if c.where["state.path"] != "" {
		c.State.Path = abs(c.State.Path)
	}
	if c.where["dashboards"] != "" {
		c.Dashboards = abs(c.Dashboards)
	}
	c.TLS.Cert, c.TLS.Key = abs(c.TLS.Cert), abs(c.TLS.Key)
	for name, ds := range c.DataSources {
		if ds.Type == TypeDuckDB && ds.Path != ":memory:" {
			ds.Path = abs(ds.Path)
		}
		if ds.Type == TypeDuckDB {
			ds.Dir = dir
			if a, err := filepath.Abs(dir); err == nil {
				ds.Dir = a
			}
		}
		c.DataSources[name] = ds
	}
}

// applyEnv applies the INLAY_* overrides. Paths from the environment are taken as given
// (relative to the working directory, like a flag).
func (c *Config) applyEnv(getenv func(string) string) {
	set := func(name, key string, apply func(v string)) {
		if v := getenv(name); v != "" {
			apply(v)
			c.setBy(key, "env "+name)
		}
	}
	set("INLAY_LISTEN", "listen", func(v string) { c.Listen = v })
	set("INLAY_PUBLIC_URL", "public_url", func(v string) { c.PublicURL = v; c.publicURLDerived = false })
	set("INLAY_SECRET", "secret", func(v string) { c.Secret = NewSecret(v) })
	set("INLAY_ADMIN_KEY", "admin_key", func(v string) { c.AdminKey = NewSecret(v) })
	set("INLAY_STATE_PATH", "state.path", func(v string) { c.State.Path = v })
	set("INLAY_TLS_CERT", "tls.cert", func(v string) { c.TLS.Cert = v })
	set("INLAY_TLS_KEY", "tls.key", func(v string) { c.TLS.Key = v })
	set("INLAY_STATE_DRIVER", "state.driver", func(v string) { c.State.Driver = v })
	set("INLAY_STATE_DSN", "state.dsn", func(v string) { c.State.DSN = NewSecret(v) })
	set("INLAY_CACHE_REDIS", "cache.redis", func(v string) { c.Cache.Redis = NewSecret(v) })
	set("INLAY_OTLP_ENDPOINT", "telemetry.otlp_endpoint", func(v string) { c.Telemetry.OTLPEndpoint = v })
	set("INLAY_ALLOWED_ORIGINS", "embed.allowed_origins", func(v string) {
		c.Embed.AllowedOrigins = nil
		for o := range strings.SplitSeq(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				c.Embed.AllowedOrigins = append(c.Embed.AllowedOrigins, o)
			}
		}
	})
}

// resolveSecrets reads env and file secrets.
func (c *Config) resolveSecrets(getenv func(string) string, dir string) Problems {
	var probs Problems
	try := func(key string, s *Secret) {
		if err := s.resolve(getenv, dir); err != nil {
			probs = append(probs, c.problem(key, err.Error()))
		}
	}
	try("secret", &c.Secret)
	try("admin_key", &c.AdminKey)
	try("state.dsn", &c.State.DSN)
	try("cache.redis", &c.Cache.Redis)
	for _, name := range sortedKeys(c.DataSources) {
		ds := c.DataSources[name]
		try("data_sources."+name+".dsn", &ds.DSN)
		try("data_sources."+name+".token", &ds.Token)
		c.DataSources[name] = ds
	}
	for _, name := range sortedKeys(c.OAuth.Integrations) {
		it := c.OAuth.Integrations[name]
		try("oauth.integrations."+name+".config.client_secret", &it.Config.ClientSecret)
		c.OAuth.Integrations[name] = it
	}
	return probs
}

func (c *Config) setBy(key, where string) {
	if c.where == nil {
		c.where = map[string]string{}
	}
	c.where[key] = where
}

// ProblemAt builds a Problem for key with msg, pointing at where key was set (file:line in
// inlay.yaml, or the environment variable or flag).
func (c *Config) ProblemAt(key, msg string) Problem { return c.problem(key, msg) }

// problem builds a Problem for key, pointing at where it was set.
func (c *Config) problem(key, msg string) Problem {
	p := Problem{Key: key, Message: msg}
	// A missing key is blamed on the nearest enclosing key that was set (the data source
	// lacking a type, say).
	where, ok := c.where[key]
	for k := key; !ok; {
		i := strings.LastIndex(k, ".")
		if i < 0 {
			break
		}
		k = k[:i]
		where, ok = c.where[k]
	}
	if file, line, ok := strings.Cut(where, ":"); ok && c.file != "" && file == filepath.Base(c.file) {
		p.File = c.file
		p.Line, _ = strconv.Atoi(line)
	} else {
		p.Origin = where
	}
	return p
}

// Problem is one thing wrong with the configuration: the same type as a dashboard's problems.
// File and Line locate it in inlay.yaml when the value came from there; otherwise Origin says
// where it came from ("env INLAY_LISTEN", "flag"). Key is the dotted key, e.g.
// "tokens.embed_ttl", or "" when the problem is not one key's.
type Problem = yamlpos.Problem

// Problems is every problem found, returned as one error by Load and Validate. Use errors.As to
// print them one per line.
type Problems = yamlpos.Problems
