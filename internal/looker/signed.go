package looker

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// LoginPathPrefix is where signed and cookieless embed logins arrive.
const LoginPathPrefix = "/login/embed/"

// MaxClockSkew bounds the distance between a signed URL's time and the server clock.
const MaxClockSkew = 5 * time.Minute

// signedParams are the signed parameters in the order of the string to sign. An optional one is
// a line of the string only when it is present in the URL (Looker's TypeScript helper leaves
// absent ones out, its Python helper sends them as null, [] or {}).
var signedParams = []struct {
	name     string
	optional bool
}{
	{"nonce", false}, {"time", false}, {"session_length", false}, {"external_user_id", false},
	{"permissions", false}, {"models", false}, {"group_ids", true}, {"external_group_id", true},
	{"user_attributes", true}, {"access_filters", false},
}

// requiredParams must be present in a signed URL.
var requiredParams = []string{"nonce", "time", "external_user_id", "permissions", "models"}

// SignedLogin is a signed embed URL whose signature, time and fields have been checked (not yet
// its nonce: Service.LoginSigned consumes it).
type SignedLogin struct {
	user     *userRequest
	Target   string
	Nonce    string
	Time     time.Time
	SecretID string
}

// User is the embed user the URL signs in.
func (l *SignedLogin) User() User { return l.user.User }

// ForceLogoutLogin is the URL's force_logout_login.
func (l *SignedLogin) ForceLogoutLogin() bool { return l.user.ForceLogoutLogin }

// Secret is an embed secret usable for verification.
type Secret struct {
	ID    string
	Value []byte
}

// StringToSign is the string a signed embed URL's signature covers: host, path and the signed
// parameter values as received, one per line. It is exported for tests and helpers.
func StringToSign(host, escapedPath string, q url.Values) string {
	var b strings.Builder
	b.WriteString(host)
	b.WriteByte('\n')
	b.WriteString(escapedPath)
	for _, p := range signedParams {
		vals, present := q[p.name]
		if p.optional && !present {
			continue
		}
		b.WriteByte('\n')
		if len(vals) > 0 {
			b.WriteString(vals[0])
		}
	}
	return b.String()
}

// Sign returns the signature of a string to sign with an embed secret.
func Sign(secret []byte, stringToSign string) string {
	m := hmac.New(sha1.New, secret)
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifySigned checks a signed embed URL: every parameter given once, the signature made by one
// of secrets for one of hosts, time within MaxClockSkew of now, the fields valid and the target a
// path under /embed/. It writes nothing.
func VerifySigned(hosts []string, escapedPath string, q url.Values, secrets []Secret, now time.Time) (*SignedLogin, error) {
	for name, vals := range q {
		if len(vals) > 1 {
			return nil, invalid(CodeDuplicateParameter, "%s is given more than once", name).with("parameter", name)
		}
	}
	for _, name := range append(requiredParams, "signature") {
		if _, ok := q[name]; !ok {
			return nil, invalid(CodeMissingParameter, "%s is required", name).with("parameter", name)
		}
	}
	sig, err := base64.StdEncoding.DecodeString(q.Get("signature"))
	if err != nil || len(sig) != sha1.Size {
		return nil, unauthenticated(CodeInvalidSignature, "the signature does not match")
	}
	secretID := ""
	for _, host := range hosts {
		msg := []byte(StringToSign(host, escapedPath, q))
		for _, s := range secrets {
			m := hmac.New(sha1.New, s.Value)
			m.Write(msg)
			if hmac.Equal(m.Sum(nil), sig) && secretID == "" {
				secretID = s.ID
			}
		}
	}
	if secretID == "" {
		return nil, unauthenticated(CodeInvalidSignature, "the signature does not match")
	}

	secs, err := strconv.ParseInt(strings.TrimSpace(q.Get("time")), 10, 64)
	if err != nil {
		return nil, badParam("time", "must be an integer (seconds since the epoch)")
	}
	t := time.Unix(secs, 0)
	if d := now.Sub(t); d > MaxClockSkew || d < -MaxClockSkew {
		return nil, unauthenticated(CodeTimeOutOfRange, "the URL's time is more than 5 minutes from the server's clock")
	}
	var nonce string
	if err := json.Unmarshal([]byte(q.Get("nonce")), &nonce); err != nil || nonce == "" || len(nonce) > 255 {
		return nil, badParam("nonce", "must be a JSON string of 1 to 255 bytes")
	}
	u, err := parseUser(func(name string) (json.RawMessage, bool) {
		v, ok := q[name]
		if !ok {
			return nil, false
		}
		if v[0] == "" {
			return nil, false
		}
		return json.RawMessage(v[0]), true
	})
	if err != nil {
		return nil, err
	}
	encoded, ok := strings.CutPrefix(escapedPath, LoginPathPrefix)
	if !ok {
		return nil, invalid(CodeInvalidTarget, "the path must start with %s", LoginPathPrefix)
	}
	target, err := DecodeTarget(encoded)
	if err != nil {
		return nil, err
	}
	return &SignedLogin{user: u, Target: target, Nonce: nonce, Time: t, SecretID: secretID}, nil
}

// DecodeTarget URL-decodes the target of a login path and checks it is a path (with a query)
// under /embed/ on this host: no scheme, host, "//", backslash, control character or "..".
func DecodeTarget(encoded string) (string, error) {
	target, err := url.PathUnescape(encoded)
	bad := func(why string) error {
		return invalid(CodeInvalidTarget, "the target must be a path under /embed/ on this host: %s", why)
	}
	if err != nil {
		return "", bad("it is not URL-encoded correctly")
	}
	if !strings.HasPrefix(target, "/embed/") {
		return "", bad("it does not start with /embed/")
	}
	for _, r := range target {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return "", bad("it holds a control character or a backslash")
		}
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", bad("it is not a plain path")
	}
	if strings.Contains(u.Path, "//") || path.Clean(u.Path) != strings.TrimSuffix(u.Path, "/") && path.Clean(u.Path) != u.Path {
		return "", bad("it is not a clean path")
	}
	if !strings.HasPrefix(path.Clean(u.Path), "/embed/") {
		return "", bad("it leaves /embed/")
	}
	if raw := strings.ToLower(u.EscapedPath()); strings.Contains(raw, "%2f") || strings.Contains(raw, "%5c") || strings.Contains(raw, "%2e") {
		return "", bad("it holds an encoded slash, backslash or dot")
	}
	return target, nil
}

// ssoURLFields are the body fields of POST /api/4.0/embed/sso_url besides the user's.
var ssoURLFields = map[string]bool{
	"target_url": true, "session_length": true, "force_logout_login": true, "external_user_id": true,
	"first_name": true, "last_name": true, "user_timezone": true, "permissions": true, "models": true,
	"group_ids": true, "external_group_id": true, "user_attributes": true, "access_filters": true,
	"secret_id": true,
}

// CreateSignedURL is Looker's create_sso_embed_url: it signs a URL for the embed user in fields
// with the newest active embed secret (or the one secret_id names), for target_url on host. The
// URL then signs in like any other (once, within 5 minutes). Nothing is stored.
func (s *Service) CreateSignedURL(ctx context.Context, scheme, host string, fields map[string]json.RawMessage) (string, error) {
	for name := range fields {
		if !ssoURLFields[name] {
			return "", badParam(name, "is not a field of the sso_url request")
		}
	}
	get := func(n string) (json.RawMessage, bool) { v, ok := fields[n]; return v, ok }
	if _, err := parseUser(get); err != nil {
		return "", err
	}
	raw, err := requiredString(get, "target_url")
	if err != nil {
		return "", err
	}
	tu, err := url.Parse(raw)
	if err != nil || (tu.Host != "" && tu.Host != host) || (tu.Scheme != "" && tu.Scheme != "https" && tu.Scheme != "http") {
		return "", invalid(CodeInvalidTarget, "target_url must be a URL on this host under /embed/")
	}
	tu.Scheme, tu.Host = "", ""
	target, err := DecodeTarget(url.PathEscape(tu.String()))
	if err != nil {
		return "", err
	}
	secretID, err := optionalString(get, "secret_id")
	if err != nil {
		return "", err
	}
	secrets, err := s.secretDocs(ctx)
	if err != nil {
		return "", err
	}
	var chosen *secretDoc
	for i := range secrets {
		if (secretID == "" && (chosen == nil || !secrets[i].CreatedAt.Before(chosen.CreatedAt))) || secrets[i].ID == secretID {
			chosen = &secrets[i]
		}
	}
	if chosen == nil {
		if secretID != "" {
			return "", invalid(CodeInvalidParameter, "no active embed secret has that id").with("parameter", "secret_id")
		}
		return "", invalid(CodeNoEmbedSecret, "there is no embed secret: create one (inlay embed-secret create)")
	}
	value, err := s.keys.Open(chosen.Sealed, []byte(secretADPrefix+chosen.ID))
	if err != nil {
		return "", fmt.Errorf("looker: open embed secret %q: %w", chosen.ID, err)
	}
	nonce, err := randomToken(16)
	if err != nil {
		return "", err
	}
	q := url.Values{}
	set := func(name string, v json.RawMessage) error {
		var b bytes.Buffer
		if err := json.Compact(&b, v); err != nil {
			return badParam(name, "is not valid JSON")
		}
		q.Set(name, b.String())
		return nil
	}
	nonceJSON, _ := json.Marshal(nonce)
	q.Set("nonce", string(nonceJSON))
	q.Set("time", strconv.FormatInt(s.now().Unix(), 10))
	if _, ok := fields["session_length"]; !ok {
		q.Set("session_length", strconv.Itoa(DefaultSessionLength))
	}
	if _, ok := fields["access_filters"]; !ok {
		q.Set("access_filters", "{}")
	}
	for name, v := range fields {
		if name == "target_url" || name == "secret_id" || isNull(v) {
			continue
		}
		if err := set(name, v); err != nil {
			return "", err
		}
	}
	path := LoginPathPrefix + strings.ReplaceAll(url.QueryEscape(target), "+", "%20")
	q.Set("signature", Sign(value, StringToSign(host, path, q)))
	return scheme + "://" + host + path + "?" + q.Encode(), nil
}
