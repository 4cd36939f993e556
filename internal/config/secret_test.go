package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestSecretsNeverPrinted prints a loaded config every way a careless caller might and checks
// that no secret value appears.
func TestSecretsNeverPrinted(t *testing.T) {
	const (
		master = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e"
		admin  = "ADMIN-SUPER-SECRET-42"
		dsnPw  = "pg-password-xyzzy"
	)
	dir := writeProject(t, "secret: "+master+"\nadmin_key: {env: ADMIN}\ndata_sources:\n  wh:\n    type: postgres\n    dsn: postgres://u:"+dsnPw+"@db/x\n")
	c, err := Load(dir, env(map[string]string{"ADMIN": admin}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Secret.Reveal() != master || c.AdminKey.Reveal() != admin || !strings.Contains(c.DataSources["wh"].DSN.Reveal(), dsnPw) {
		t.Fatal("secrets not loaded; the test would prove nothing")
	}

	var outputs []struct{ how, out string }
	add := func(how, out string) { outputs = append(outputs, struct{ how, out string }{how, out}) }
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		add("fmt "+verb+" of *Config", fmt.Sprintf(verb, c))
		add("fmt "+verb+" of Config", fmt.Sprintf(verb, *c))
		add("fmt "+verb+" of Secret", fmt.Sprintf(verb, c.Secret))
	}
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	add("json", string(j))
	y, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	add("yaml", string(y))
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("config", "config", c, "secret", c.Secret, "ds", c.DataSources)
		add("slog "+name, buf.String())
	}
	if err := fmt.Errorf("wrapped: %v", c.AdminKey); !strings.Contains(err.Error(), redacted) {
		t.Errorf("error text %q lacks %s", err, redacted)
	}

	for _, o := range outputs {
		for _, secret := range []string{master, admin, dsnPw, fmt.Sprintf("%x", master)} {
			if strings.Contains(o.out, secret) {
				t.Errorf("%s reveals a secret:\n%s", o.how, o.out)
			}
		}
	}
	if !strings.Contains(string(j), `"admin_key":"[redacted]"`) {
		t.Errorf("json should show the key as redacted: %s", j)
	}
	if !strings.Contains(string(y), "secret: '[redacted]'") {
		t.Errorf("yaml should show the secret as redacted:\n%s", y)
	}
}

func TestUnsetSecretPrintsEmpty(t *testing.T) {
	var s Secret
	if got := fmt.Sprint(s); got != "" {
		t.Errorf("unset secret prints %q", got)
	}
	if s.IsSet() || s.Reveal() != "" {
		t.Error("zero Secret should be unset")
	}
}
