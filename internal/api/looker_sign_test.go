package api_test

// Two signers of Looker signed embed URLs, written from the documented algorithm
// (docs/looker.md), one behaving like Looker's TypeScript helper and one like its Python helper.
// They differ where those helpers differ: how JSON is written (compact and UTF-8 against
// json.dumps with ", "/": " separators and \u escapes), which optional parameters are sent
// (left out against always present as null/[]/{}), and how the target and values are URL-encoded
// (encodeURIComponent against quote_plus).

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
)

// kv and obj are an ordered JSON object (key order as written, as both helpers keep it).
type kv struct {
	k string
	v any
}
type obj []kv

// jsonText writes v as JSON, compact (TypeScript's JSON.stringify) or Python-style.
func jsonText(v any, python bool) string {
	var b strings.Builder
	writeJSONValue(&b, v, python)
	return b.String()
}

func writeJSONValue(b *strings.Builder, v any, python bool) {
	comma, colon := ",", ":"
	if python {
		comma, colon = ", ", ": "
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case string:
		writeJSONString(b, x, python)
	case []string:
		b.WriteByte('[')
		for i, s := range x {
			if i > 0 {
				b.WriteString(comma)
			}
			writeJSONString(b, s, python)
		}
		b.WriteByte(']')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(comma)
			}
			writeJSONValue(b, e, python)
		}
		b.WriteByte(']')
	case obj:
		b.WriteByte('{')
		for i, p := range x {
			if i > 0 {
				b.WriteString(comma)
			}
			writeJSONString(b, p.k, python)
			b.WriteString(colon)
			writeJSONValue(b, p.v, python)
		}
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("jsonText: %T", v))
	}
}

func writeJSONString(b *strings.Builder, s string, python bool) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			fmt.Fprintf(b, `\u%04x`, r)
		case r > 0x7f && python: // ensure_ascii
			if r > 0xffff {
				hi, lo := utf16.EncodeRune(r)
				fmt.Fprintf(b, `\u%04x\u%04x`, hi, lo)
			} else {
				fmt.Fprintf(b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// encodeURIComponent leaves A-Z a-z 0-9 - _ . ! ~ * ' ( ) and percent-encodes every other UTF-8 byte.
func encodeURIComponent(s string) string {
	return percent(s, "-_.!~*'()", false)
}

// quotePlus is Python's urllib.parse.quote_plus: A-Z a-z 0-9 _ . - ~ kept, space as '+'.
func quotePlus(s string) string {
	return percent(s, "_.-~", true)
}

func percent(s, keep string, plus bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', strings.IndexByte(keep, c) >= 0:
			b.WriteByte(c)
		case c == ' ' && plus:
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// signUser is what a host signs. Nil optional fields are "not given".
type signUser struct {
	ExternalUserID   string
	FirstName        *string
	LastName         *string
	Permissions      []string
	Models           []string
	GroupIDs         []any
	ExternalGroupID  *string
	UserAttributes   obj
	AccessFilters    obj
	SessionLength    int
	ForceLogoutLogin *bool
}

type signedURL struct {
	host, target, secret, nonce string
	time                        int64
	user                        signUser
}

func hmacSHA1(secret, msg string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// tsURL signs like the TypeScript helper: compact JSON, absent optional parameters left out,
// encodeURIComponent for the target and the values. It returns the path and query.
func (s signedURL) tsURL() string {
	u := s.user
	path := "/login/embed/" + encodeURIComponent(s.target)
	type param struct{ name, value string }
	var ps []param
	add := func(name string, v any) { ps = append(ps, param{name, jsonText(v, false)}) }
	add("nonce", s.nonce)
	add("time", s.time)
	add("session_length", u.SessionLength)
	add("external_user_id", u.ExternalUserID)
	add("permissions", u.Permissions)
	add("models", u.Models)
	if u.GroupIDs != nil {
		add("group_ids", u.GroupIDs)
	}
	if u.ExternalGroupID != nil {
		add("external_group_id", *u.ExternalGroupID)
	}
	if u.UserAttributes != nil {
		add("user_attributes", u.UserAttributes)
	}
	af := u.AccessFilters
	if af == nil {
		af = obj{}
	}
	add("access_filters", af)
	lines := []string{s.host, path}
	for _, p := range ps {
		lines = append(lines, p.value)
	}
	sig := hmacSHA1(s.secret, strings.Join(lines, "\n"))
	if u.FirstName != nil {
		add("first_name", *u.FirstName)
	}
	if u.LastName != nil {
		add("last_name", *u.LastName)
	}
	if u.ForceLogoutLogin != nil {
		add("force_logout_login", *u.ForceLogoutLogin)
	}
	ps = append(ps, param{"signature", sig})
	q := make([]string, len(ps))
	for i, p := range ps {
		q[i] = p.name + "=" + encodeURIComponent(p.value)
	}
	return path + "?" + strings.Join(q, "&")
}

// pyURL signs like the Python helper: json.dumps values (spaces after separators, \u escapes),
// every optional parameter present (null, [] or {} when not given), quote_plus for the target and
// the values.
func (s signedURL) pyURL() string {
	u := s.user
	path := "/login/embed/" + quotePlus(s.target)
	orNil := func(p *string) any {
		if p == nil {
			return nil
		}
		return *p
	}
	groups := u.GroupIDs
	if groups == nil {
		groups = []any{}
	}
	attrs, af := u.UserAttributes, u.AccessFilters
	if attrs == nil {
		attrs = obj{}
	}
	if af == nil {
		af = obj{}
	}
	force := false
	if u.ForceLogoutLogin != nil {
		force = *u.ForceLogoutLogin
	}
	vals := []kv{
		{"nonce", s.nonce}, {"time", s.time}, {"session_length", u.SessionLength},
		{"external_user_id", u.ExternalUserID}, {"permissions", u.Permissions}, {"models", u.Models},
		{"group_ids", groups}, {"external_group_id", orNil(u.ExternalGroupID)}, {"user_attributes", attrs},
		{"access_filters", af},
	}
	lines := []string{s.host, path}
	for _, p := range vals {
		lines = append(lines, jsonText(p.v, true))
	}
	sig := hmacSHA1(s.secret, strings.Join(lines, "\n"))
	vals = append(vals, kv{"first_name", orNil(u.FirstName)}, kv{"last_name", orNil(u.LastName)},
		kv{"force_logout_login", force})
	q := make([]string, 0, len(vals)+1)
	for _, p := range vals {
		q = append(q, p.k+"="+quotePlus(jsonText(p.v, true)))
	}
	q = append(q, "signature="+quotePlus(sig))
	return path + "?" + strings.Join(q, "&")
}
