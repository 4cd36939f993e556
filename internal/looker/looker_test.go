package looker

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func TestDecodeTarget(t *testing.T) {
	ok := []string{
		"/embed/dashboards/sales",
		"/embed/dashboards/sales?embed_domain=https://app.example.com&sdk=3",
		"/embed/dashboards/sales?Region=West%20Coast&embed_navigation_token=lkn.x.0.y",
	}
	for _, target := range ok {
		got, err := DecodeTarget(url.PathEscape(target))
		if err != nil || got != target {
			t.Errorf("%q: %q %v", target, got, err)
		}
	}
	bad := []string{
		"", "/", "/embed", "/api/v1/admin/audit", "https://evil.example.net/embed/x", "//evil.example.net/embed/x",
		"/embed/../api", "/embed/./x/../../api", "/embed/%2e%2e/api", "/embed/a%2Fb", "/embed/\\evil", "/embed/x\nSet-Cookie: a=b",
		"/embed//evil.example.net", "javascript:alert(1)//embed/", "/EMBED/x",
	}
	for _, target := range bad {
		if got, err := DecodeTarget(url.PathEscape(target)); err == nil {
			t.Errorf("%q accepted as %q", target, got)
		} else if le, _ := err.(*Error); le == nil || le.Code != CodeInvalidTarget {
			t.Errorf("%q: %v", target, err)
		}
	}
}

func FuzzDecodeTarget(f *testing.F) {
	for _, s := range []string{"/embed/dashboards/1", "//x/embed/", "/embed/%2e%2e/", "/embed/a?b=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, encoded string) {
		target, err := DecodeTarget(encoded)
		if err != nil {
			return
		}
		// Whatever is accepted redirects to a path under /embed/ on this host.
		u, perr := url.Parse(target)
		if perr != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/embed/") ||
			strings.HasPrefix(target, "//") || strings.ContainsAny(target, "\\\r\n") {
			t.Fatalf("accepted %q -> %q", encoded, target)
		}
		for _, seg := range strings.Split(u.Path, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("accepted a dot segment: %q -> %q", encoded, target)
			}
		}
	})
}

func TestStringToSignIncludesOptionalLinesOnlyWhenPresent(t *testing.T) {
	q := url.Values{"nonce": {`"n"`}, "time": {"1"}, "session_length": {"300"}, "external_user_id": {`"u"`},
		"permissions": {`[]`}, "models": {`[]`}, "access_filters": {`{}`}}
	without := StringToSign("h", "/login/embed/x", q)
	if strings.Count(without, "\n") != 8 {
		t.Fatalf("lines without optional parameters: %q", without)
	}
	q.Set("group_ids", "[]")
	q.Set("external_group_id", "null")
	q.Set("user_attributes", "{}")
	with := StringToSign("h", "/login/embed/x", q)
	if with != "h\n/login/embed/x\n\"n\"\n1\n300\n\"u\"\n[]\n[]\n[]\nnull\n{}\n{}" {
		t.Fatalf("string to sign: %q", with)
	}
}

func TestParseUserAttributes(t *testing.T) {
	fields := map[string]string{
		"external_user_id": `"u"`, "permissions": `["access_data","see_user_dashboards"]`, "models": `["m"]`,
		"user_attributes": `{"a": "x", "n": 3, "b": true, "l": ["p", 2], "z": null}`,
		"access_filters":  `{"m": {"department": "Sales", "regions": ["East", "West"]}}`,
	}
	u, err := parseUser(func(n string) (json.RawMessage, bool) { v, ok := fields[n]; return json.RawMessage(v), ok })
	if err != nil {
		t.Fatal(err)
	}
	v := u.Viewer("m")
	want := map[string][]string{"a": {"x"}, "n": {"3"}, "b": {"true"}, "l": {"p", "2"}, "department": {"Sales"}, "regions": {"East", "West"}}
	for k, vals := range want {
		if strings.Join(v.Attributes[k], ",") != strings.Join(vals, ",") {
			t.Errorf("attribute %s = %v, want %v", k, v.Attributes[k], vals)
		}
	}
	if _, ok := v.Attributes["z"]; ok {
		t.Error("a null attribute is present")
	}
	if other := u.Viewer("other"); other.Attributes["department"] != nil {
		t.Error("another model's dashboards get this model's access filters")
	}
	fields["user_attributes"] = `{"a": {"nested": 1}}`
	if _, err := parseUser(func(n string) (json.RawMessage, bool) { v, ok := fields[n]; return json.RawMessage(v), ok }); err == nil {
		t.Error("an object attribute value was accepted")
	}
}

func TestValidOrigin(t *testing.T) {
	for s, want := range map[string]bool{
		"https://app.example.com": true, "http://127.0.0.1:8080": true, "https://app.example.com/": false,
		"app.example.com": false, "ftp://x": false, "https://a@b": false, "https://": false,
	} {
		if ValidOrigin(s) != want {
			t.Errorf("ValidOrigin(%q) != %v", s, want)
		}
	}
}
