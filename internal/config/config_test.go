package config

import (
	"errors"
	"github.com/inlay/inlay/internal/dashboard"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// key32 is 32 bytes in hex: a valid master key.
const key32 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

func writeProject(t *testing.T, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func problemsOf(t *testing.T, err error) Problems {
	t.Helper()
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %v (%T) is not Problems", err, err)
	}
	return ps
}

const goodFile = `# a complete project config
listen: 0.0.0.0:9000
public_url: https://analytics.example.com
secret: ` + key32 + `
admin_key: {env: ADMIN}
state:
  driver: sqlite
  path: var/state.db
data_sources:
  default:
    type: duckdb
    path: data/sales.duckdb
    init_sql:
      - "SET threads = 2"
  warehouse:
    type: postgres
    dsn: {file: pg.dsn}
    max_conns: 8
embed:
  allowed_origins: ["https://app.example.com", "http://localhost:3000"]
tokens:
  embed_ttl: 30m
  max_embed_ttl: 12h
  service_ttl: 90s
  key_rotation: 168h
query:
  timeout: 10s
  max_rows: 500
  export_max_rows: 5000
  cache_ttl: 0s
  cache_max_bytes: 1048576
dashboards: boards
`

func TestLoadGoodFile(t *testing.T) {
	dir := writeProject(t, goodFile)
	if err := os.WriteFile(filepath.Join(dir, "pg.dsn"), []byte("postgres://u:pw@db/x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(dir, env(map[string]string{"ADMIN": "admin-key-0123456789"}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", c.Listen, "0.0.0.0:9000"},
		{"public_url", c.PublicURL, "https://analytics.example.com"},
		{"secret", c.Secret.Reveal(), key32},
		{"admin_key from env", c.AdminKey.Reveal(), "admin-key-0123456789"},
		{"state.path relative to project", c.State.Path, filepath.Join(dir, "var/state.db")},
		{"duckdb path relative to project", c.DataSources["default"].Path, filepath.Join(dir, "data/sales.duckdb")},
		{"init_sql", c.DataSources["default"].InitSQL, []string{"SET threads = 2"}},
		{"dsn from file, newline trimmed", c.DataSources["warehouse"].DSN.Reveal(), "postgres://u:pw@db/x"},
		{"max_conns", c.DataSources["warehouse"].MaxConns, 8},
		{"origins", c.Embed.AllowedOrigins, []string{"https://app.example.com", "http://localhost:3000"}},
		{"tokens", c.Tokens, TokenConfig{30 * time.Minute, 12 * time.Hour, 90 * time.Second, 168 * time.Hour}},
		{"query", c.Query, QueryConfig{10 * time.Second, 500, 5000, 0, 1 << 20}},
		{"dashboards", c.Dashboards, filepath.Join(dir, "boards")},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
	key, err := c.MasterKey()
	if err != nil || len(key) != 32 || key[31] != 0x1f {
		t.Errorf("MasterKey = %x, %v", key, err)
	}
}

func TestDefaults(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir, env(nil)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load without inlay.yaml: err = %v, want fs.ErrNotExist", err)
	}
	c, err := LoadOptional(dir, env(nil))
	if err != nil {
		t.Fatalf("LoadOptional: %v", err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if c.Listen != "127.0.0.1:8470" || c.PublicURL != "http://127.0.0.1:8470" {
		t.Errorf("listen %q public_url %q", c.Listen, c.PublicURL)
	}
	if c.State.Driver != "sqlite" || c.State.Path != filepath.Join(dir, ".inlay", "state.db") {
		t.Errorf("state = %+v", c.State)
	}
	if c.Tokens != (TokenConfig{time.Hour, 24 * time.Hour, time.Hour, 720 * time.Hour}) {
		t.Errorf("tokens = %+v", c.Tokens)
	}
	if c.Query != (QueryConfig{30 * time.Second, 10000, 100000, 5 * time.Minute, 256 << 20}) {
		t.Errorf("query = %+v", c.Query)
	}
	if c.Dashboards != filepath.Join(dir, "dashboards") {
		t.Errorf("dashboards = %q", c.Dashboards)
	}
	// A public_url that was not configured follows the listen address set by a flag.
	c.SetListen("127.0.0.1:9999")
	if c.PublicURL != "http://127.0.0.1:9999" {
		t.Errorf("after SetListen public_url = %q", c.PublicURL)
	}
}

func TestPublicURLFollowsListenFromFile(t *testing.T) {
	c, err := Load(writeProject(t, "listen: 127.0.0.1:7000\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicURL != "http://127.0.0.1:7000" {
		t.Errorf("public_url = %q, want it derived from listen", c.PublicURL)
	}
}

// TestBadKeys: each bad value is reported by Validate with its key and the file line it is on.
func TestBadKeys(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		key     string
		line    int
		message string // a fragment of the message
	}{
		{"listen without port", "listen: localhost\n", "listen", 1, "host:port"},
		{"listen bad port", "listen: localhost:http99\n", "listen", 1, "bad port"},
		{"public_url not http", "public_url: ftp://x\n", "public_url", 1, "http"},
		{"origin with path", "embed:\n  allowed_origins: [\"https://a.example\", \"https://b.example/app\"]\n", "embed.allowed_origins", 2, "entry 2"},
		{"origin trailing slash", "embed:\n  allowed_origins:\n    - https://a.example/\n", "embed.allowed_origins", 2, "no path"},
		{"origin star", "embed:\n  allowed_origins: [\"*\"]\n", "embed.allowed_origins", 2, `"*" is not allowed`},
		{"origin without scheme", "embed:\n  allowed_origins: [a.example]\n", "embed.allowed_origins", 2, "http"},
		{"unknown data source type", "data_sources:\n  default:\n    type: mysql\n", "data_sources.default.type", 3, `unknown type "mysql"`},
		{"missing data source type", "data_sources:\n  default:\n    path: x.db\n", "data_sources.default.type", 2, "is required"},
		{"postgres without dsn", "data_sources:\n  wh:\n    type: postgres\n", "data_sources.wh.dsn", 2, "required"},
		{"duckdb with dsn", "data_sources:\n  d:\n    type: duckdb\n    dsn: postgres://x\n", "data_sources.d.dsn", 4, "for postgres"},
		{"bad data source name", "data_sources:\n  \"my source\":\n    type: duckdb\n", "data_sources.my source", 2, "name must"},
		{"negative max_conns", "data_sources:\n  d:\n    type: duckdb\n    max_conns: -1\n", "data_sources.d.max_conns", 4, "negative"},
		{"embed_ttl over max", "tokens:\n  embed_ttl: 48h\n", "tokens.embed_ttl", 2, "longer than tokens.max_embed_ttl"},
		{"zero service_ttl", "tokens:\n  service_ttl: 0s\n", "tokens.service_ttl", 2, "positive"},
		{"negative key_rotation", "tokens:\n  key_rotation: -1h\n", "tokens.key_rotation", 2, "positive"},
		{"zero query timeout", "query:\n  timeout: 0s\n", "query.timeout", 2, "positive"},
		{"zero max_rows", "query:\n  max_rows: 0\n", "query.max_rows", 2, "positive"},
		{"negative cache_ttl", "query:\n  cache_ttl: -5m\n", "query.cache_ttl", 2, "negative"},
		{"unknown state driver", "state:\n  driver: redis\n", "state.driver", 2, `unknown driver "redis"`},
		{"secret too short", "secret: c2hvcnQ=\n", "secret", 1, "at least 32"},
		{"secret not encoded", "secret: hunter2!\n", "secret", 1, "hex or base64"},
		{"admin key too short", "admin_key: abc\n", "admin_key", 1, "at least 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeProject(t, tt.yaml)
			c, err := Load(dir, env(nil))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			ps := problemsOf(t, c.Validate())
			if len(ps) != 1 {
				t.Fatalf("got %d problems, want 1:\n%v", len(ps), ps)
			}
			p := ps[0]
			if p.Key != tt.key || p.Line != tt.line || !strings.Contains(p.Message, tt.message) {
				t.Errorf("problem = %+v; want key %q line %d message containing %q", p, tt.key, tt.line, tt.message)
			}
			if tt.line > 0 && !strings.HasPrefix(p.Error(), filepath.Join(dir, FileName)+":") {
				t.Errorf("Error() = %q does not start with file:line", p.Error())
			}
		})
	}
}

// TestLoadErrors: problems found while reading the file, each with its line.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		lines []int
		keys  []string
		frag  string
	}{
		{"unknown top-level key", "listen: :1\nlisten_addr: :2\n", []int{2}, []string{"listen_addr"}, "unknown key"},
		{"unknown nested keys all reported", "tokens:\n  embed_tll: 1h\nquery:\n  timeout: 1s\n  maxrows: 3\n", []int{2, 5}, []string{"tokens.embed_tll", "query.maxrows"}, "unknown key"},
		{"unknown key in a data source", "data_sources:\n  d:\n    type: duckdb\n    file: x\n", []int{4}, []string{"data_sources.d.file"}, "unknown key"},
		{"duration without unit", "tokens:\n  embed_ttl: 30\n", []int{2}, []string{"tokens.embed_ttl"}, "time.Duration"},
		{"duration garbage", "query:\n  timeout: soon\n", []int{2}, []string{"query.timeout"}, "time.Duration"},
		{"secret with two sources", "secret:\n  env: A\n  file: b\n", []int{2}, nil, "exactly one"},
		{"secret with unknown source", "secret:\n  vault: x\n", []int{2}, nil, "unknown secret key"},
		{"secret from unset env", "admin_key: {env: NOPE}\n", []int{1}, []string{"admin_key"}, "NOPE is not set"},
		{"secret from missing file", "admin_key: {file: nope.txt}\n", []int{1}, []string{"admin_key"}, "nope.txt"},
		{"numeric secret", "admin_key: 12345678901234567\n", []int{1}, []string{"admin_key"}, "quote it"},
		{"not a mapping", "- a\n- b\n", []int{1}, nil, "mapping"},
		{"typo gets a suggestion", "tokens:\n  servce_ttl: 1h\n", []int{2}, []string{"tokens.servce_ttl"}, `did you mean "service_ttl"?`},
		{"key given twice", "listen: :1\nlisten: :2\n", []int{2}, []string{"listen"}, "given twice (first on line 1)"},
		{"syntax error", "listen: [\n", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeProject(t, tt.yaml), env(nil))
			ps := problemsOf(t, err)
			if tt.lines != nil && len(ps) != len(tt.lines) {
				t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(tt.lines), ps)
			}
			for i, p := range ps {
				if tt.lines != nil && p.Line != tt.lines[i] {
					t.Errorf("problem %d line = %d, want %d (%v)", i, p.Line, tt.lines[i], p)
				}
				if tt.keys != nil && p.Key != tt.keys[i] {
					t.Errorf("problem %d key = %q, want %q (%v)", i, p.Key, tt.keys[i], p)
				}
				if !strings.Contains(p.Message, tt.frag) {
					t.Errorf("problem %d message %q lacks %q", i, p.Message, tt.frag)
				}
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c, err := Load(writeProject(t, "listen: nope\nembed:\n  allowed_origins: ['*']\ntokens:\n  embed_ttl: 25h\nquery:\n  max_rows: -1\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	ps := problemsOf(t, c.Validate())
	var keys []string
	for _, p := range ps {
		keys = append(keys, p.Key)
	}
	want := []string{"listen", "embed.allowed_origins", "tokens.embed_ttl", "query.max_rows"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("problem keys = %v, want %v", keys, want)
	}
	if n := strings.Count(ps.Error(), "\n"); n != len(want)-1 {
		t.Errorf("Error() should put one problem per line:\n%s", ps.Error())
	}
}

func TestEnvOverrides(t *testing.T) {
	dir := writeProject(t, "listen: 127.0.0.1:1000\nsecret: "+key32+"\nembed:\n  allowed_origins: [https://file.example]\nstate:\n  path: from-file.db\n")
	c, err := Load(dir, env(map[string]string{
		"INLAY_LISTEN":          "127.0.0.1:2000",
		"INLAY_PUBLIC_URL":      "https://inlay.example",
		"INLAY_SECRET":          strings.Repeat("ab", 40),
		"INLAY_ADMIN_KEY":       "admin-from-env-123456",
		"INLAY_ALLOWED_ORIGINS": "https://a.example, https://b.example:8443,",
		"INLAY_STATE_PATH":      "/var/lib/inlay/state.db",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	got := []string{c.Listen, c.PublicURL, c.Secret.Reveal(), c.AdminKey.Reveal(), strings.Join(c.Embed.AllowedOrigins, " "), c.State.Path}
	want := []string{"127.0.0.1:2000", "https://inlay.example", strings.Repeat("ab", 40), "admin-from-env-123456", "https://a.example https://b.example:8443", "/var/lib/inlay/state.db"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}

	// A bad value from the environment is blamed on the variable, not on the file.
	c, err = Load(dir, env(map[string]string{"INLAY_LISTEN": "bogus"}))
	if err != nil {
		t.Fatal(err)
	}
	ps := problemsOf(t, c.Validate())
	if len(ps) != 1 || ps[0].Line != 0 || ps[0].Origin != "env INLAY_LISTEN" || !strings.Contains(ps[0].Error(), "INLAY_LISTEN") {
		t.Errorf("problems = %+v", ps)
	}
}

func TestSecretSources(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		env   map[string]string
		files map[string]string
		want  string
	}{
		{"plain string", "admin_key: plain-value-0123456789\n", nil, nil, "plain-value-0123456789"},
		{"value mapping", "admin_key:\n  value: mapped-value-0123456789\n", nil, nil, "mapped-value-0123456789"},
		{"env", "admin_key:\n  env: MY_ADMIN\n", map[string]string{"MY_ADMIN": "from-env-0123456789"}, nil, "from-env-0123456789"},
		{"file relative to project", "admin_key:\n  file: secrets/admin\n", nil, map[string]string{"secrets/admin": "from-file-0123456789\r\n"}, "from-file-0123456789"},
		{"file keeps inner spaces", "admin_key: {file: k}\n", nil, map[string]string{"k": " a b c 0123456789 \n\n"}, " a b c 0123456789 "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeProject(t, tt.yaml)
			for name, content := range tt.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, err := Load(dir, env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.AdminKey.Reveal(); got != tt.want {
				t.Errorf("AdminKey = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDerivedPublicURL(t *testing.T) {
	tests := []struct{ listen, want string }{
		{"127.0.0.1:8470", "http://127.0.0.1:8470"},
		{":8470", "http://localhost:8470"},
		{"0.0.0.0:80", "http://localhost:80"},
		{"[::]:9000", "http://localhost:9000"},
		{"[::1]:9000", "http://[::1]:9000"},
		{"inlay.internal:443", "http://inlay.internal:443"},
	}
	for _, tt := range tests {
		t.Run(tt.listen, func(t *testing.T) {
			c := Default(t.TempDir())
			c.SetListen(tt.listen)
			if c.PublicURL != tt.want {
				t.Errorf("PublicURL = %q, want %q", c.PublicURL, tt.want)
			}
			if err := c.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestTLSSettings(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("listen: 127.0.0.1:9443\ntls:\n  cert: certs/c.pem\n  key: certs/k.pem\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(dir, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if c.TLS.Cert != filepath.Join(dir, "certs", "c.pem") || c.TLS.Key != filepath.Join(dir, "certs", "k.pem") {
		t.Fatalf("paths not resolved against the project: %+v", c.TLS)
	}
	if c.PublicURL != "https://127.0.0.1:9443" {
		t.Fatalf("derived public URL with TLS = %q", c.PublicURL)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.SetTLS(TLSConfig{Cert: "only-cert.pem"})
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "cert and key go together") {
		t.Fatalf("cert without key: %v", err)
	}
	c.SetTLS(TLSConfig{SelfSigned: true, Cert: "c.pem", Key: "k.pem"})
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "tls.self_signed") {
		t.Fatalf("self_signed with a cert: %v", err)
	}
	c.SetTLS(TLSConfig{})
	if c.PublicURL != "http://127.0.0.1:9443" {
		t.Fatalf("derived public URL without TLS = %q", c.PublicURL)
	}
	env := map[string]string{"INLAY_TLS_CERT": "/etc/inlay/c.pem", "INLAY_TLS_KEY": "/etc/inlay/k.pem"}
	c, err = Load(dir, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.TLS.Cert != "/etc/inlay/c.pem" || c.TLS.Key != "/etc/inlay/k.pem" {
		t.Fatalf("env did not set tls: %+v", c.TLS)
	}
}

// TestProblemsShareDashboardFormat: config problems carry the column of the key, and print as
// file:line:col like a dashboard's (one Problem type for both).
func TestProblemsShareDashboardFormat(t *testing.T) {
	dir := writeProject(t, "query:\n  timeout: 1s\n  maxrows: 3\n")
	_, err := Load(dir, env(nil))
	ps := problemsOf(t, err)
	if len(ps) != 1 {
		t.Fatalf("problems = %v", ps)
	}
	want := filepath.Join(dir, FileName) + ":3:3: query.maxrows: unknown key"
	if got := ps[0].Error(); !strings.HasPrefix(got, want) {
		t.Errorf("Error() = %q, want it to start with %q", got, want)
	}
	var _ dashboard.Problem = ps[0]
}

// TestServiceTTLMayExceedEmbedTTLs: a service token may live longer than any embed token; the
// signing keys are kept for the longest lifetime of either.
func TestServiceTTLMayExceedEmbedTTLs(t *testing.T) {
	c, err := Load(writeProject(t, "tokens: {service_ttl: 48h, embed_ttl: 10m, max_embed_ttl: 2h}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if got := c.Tokens.LongestTTL(); got != 48*time.Hour {
		t.Errorf("LongestTTL = %v, want 48h", got)
	}
}
