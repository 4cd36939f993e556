package config

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// redacted is what every printer shows instead of a secret's value.
const redacted = "[redacted]"

// Secret is a configuration value that must never be printed: a master key, an admin key, a
// database DSN with a password. In inlay.yaml it is either a plain string (the value itself) or
// a mapping with exactly one of
//
//	value: the value itself
//	env:   the name of an environment variable holding it
//	file:  a file holding it (relative to the project directory; trailing newlines trimmed)
//
// Load resolves env and file sources, so after Load a Secret holds its value and Reveal returns
// it. Every printer (fmt verbs, encoding/json, yaml, slog) shows "[redacted]" for a set secret
// and "" for an unset one.
type Secret struct {
	// box holds the value behind a pointer: even a printer that reaches the struct's fields by
	// reflection (fmt on an unexported field, say) shows an address, never the text.
	box *secretBox
	// kind is "value", "env" or "file": where the value comes from. Never secret.
	kind string
	// ref is the environment variable name or file path for kind env or file. Never secret.
	ref string
}

type secretBox struct{ value string }

// NewSecret returns a set secret holding value (for flags, environment overrides and tests).
func NewSecret(value string) Secret {
	if value == "" {
		return Secret{}
	}
	return Secret{box: &secretBox{value: value}, kind: "value"}
}

// IsSet reports whether the secret has a (resolved) value.
func (s Secret) IsSet() bool { return s.box != nil && s.box.value != "" }

// Reveal returns the value. Call it only where the value is used (a key derivation, a DSN handed
// to a driver), never to log or print it.
func (s Secret) Reveal() string {
	if s.box == nil {
		return ""
	}
	return s.box.value
}

// Source describes where the value comes from ("value", "env NAME", "file PATH"), for error
// messages. It never contains the value.
func (s Secret) Source() string {
	switch s.kind {
	case "env", "file":
		return s.kind + " " + s.ref
	}
	return s.kind
}

// resolve fills the value of an env or file secret. Relative file paths are taken from dir.
func (s *Secret) resolve(getenv func(string) string, dir string) error {
	switch s.kind {
	case "env":
		v := getenv(s.ref)
		if v == "" {
			return fmt.Errorf("environment variable %s is not set or is empty", s.ref)
		}
		s.box = &secretBox{value: v}
	case "file":
		path := s.ref
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			// The error names the path, never the content.
			return fmt.Errorf("reading secret file: %w", err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return fmt.Errorf("secret file %s is empty", path)
		}
		s.box = &secretBox{value: v}
	}
	return nil
}

// UnmarshalYAML accepts a plain string or a mapping with exactly one of value, env, file.
// Problems are returned as *yaml.TypeError so the decoder keeps going and reports them all.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	bad := func(format string, args ...any) error {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: ", n.Line) + fmt.Sprintf(format, args...)}}
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag != "!!str" && n.Tag != "!!null" {
			return bad("a secret must be a string (quote it) or a mapping with one of value, env, file")
		}
		*s = NewSecret(n.Value)
		return nil
	case yaml.MappingNode:
		var kind, ref string
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch k.Value {
			case "value", "env", "file":
			default:
				return bad("unknown secret key %q (want exactly one of value, env, file)", k.Value)
			}
			if kind != "" {
				return bad("a secret takes exactly one of value, env, file; got %s and %s", kind, k.Value)
			}
			if v.Kind != yaml.ScalarNode || v.Tag != "!!str" || v.Value == "" {
				return bad("secret %s must be a non-empty string", k.Value)
			}
			kind, ref = k.Value, v.Value
		}
		if kind == "" {
			return bad("a secret mapping needs one of value, env, file")
		}
		if kind == "value" {
			*s = NewSecret(ref)
			return nil
		}
		*s = Secret{kind: kind, ref: ref}
		return nil
	}
	return bad("a secret must be a string or a mapping with one of value, env, file")
}

func (s Secret) shown() string {
	if s.IsSet() || s.kind == "env" || s.kind == "file" {
		return redacted
	}
	return ""
}

// String implements fmt.Stringer (used by %v, %+v and %s).
func (s Secret) String() string { return s.shown() }

// GoString implements fmt.GoStringer (used by %#v).
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.shown()) }

// Format covers every other verb (%q, %x, %d, ...), which would otherwise bypass String.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, s.shown())
}

// MarshalText implements encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.shown()), nil }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.shown() + `"`), nil }

// MarshalYAML implements yaml.Marshaler.
func (s Secret) MarshalYAML() (any, error) { return s.shown(), nil }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.shown()) }
