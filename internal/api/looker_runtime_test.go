package api_test

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

// The signers below run in the real runtimes of Looker's helpers (Node's JSON.stringify and
// encodeURIComponent; Python's json.dumps and urllib quoting), written from the documented
// algorithm, so the URLs carry exactly what those runtimes produce (json.dumps' separators and
// \u escapes, JSON.stringify's compact UTF-8), not Go's idea of it.

const pythonSigner = `
import base64, hashlib, hmac, json, sys, urllib.parse
a = json.loads(sys.argv[1])
u = a["user"]
path = "/login/embed/" + urllib.parse.quote_plus(a["target"])
signed = [
    ("nonce", json.dumps(a["nonce"])), ("time", json.dumps(a["time"])),
    ("session_length", json.dumps(u["session_length"])), ("external_user_id", json.dumps(u["external_user_id"])),
    ("permissions", json.dumps(u["permissions"])), ("models", json.dumps(u["models"])),
    ("group_ids", json.dumps(u.get("group_ids", []))), ("external_group_id", json.dumps(u.get("external_group_id"))),
    ("user_attributes", json.dumps(u.get("user_attributes", {}))), ("access_filters", json.dumps(u.get("access_filters", {}))),
]
text = "\n".join([a["host"], path] + [v for _, v in signed])
sig = base64.b64encode(hmac.new(a["secret"].encode(), text.encode("utf-8"), hashlib.sha1).digest()).decode()
rest = [("first_name", json.dumps(u.get("first_name"))), ("last_name", json.dumps(u.get("last_name"))),
        ("force_logout_login", json.dumps(u.get("force_logout_login", False))), ("signature", sig)]
print(path + "?" + urllib.parse.urlencode(signed + rest))
`

const nodeSigner = `
const crypto = require('crypto');
const a = JSON.parse(process.argv[1]);
const u = a.user;
const path = '/login/embed/' + encodeURIComponent(a.target);
const p = [['nonce', a.nonce], ['time', a.time], ['session_length', u.session_length],
  ['external_user_id', u.external_user_id], ['permissions', u.permissions], ['models', u.models]];
for (const k of ['group_ids', 'external_group_id', 'user_attributes']) if (u[k] !== undefined) p.push([k, u[k]]);
p.push(['access_filters', u.access_filters || {}]);
const signed = p.map(([k, v]) => [k, JSON.stringify(v)]);
const text = [a.host, path, ...signed.map((x) => x[1])].join('\n');
const sig = crypto.createHmac('sha1', a.secret).update(text, 'utf8').digest('base64');
for (const k of ['first_name', 'last_name', 'force_logout_login']) if (u[k] !== undefined) signed.push([k, JSON.stringify(u[k])]);
signed.push(['signature', sig]);
console.log(path + '?' + signed.map(([k, v]) => k + '=' + encodeURIComponent(v)).join('&'));
`

func TestLookerURLsSignedByPythonAndNode(t *testing.T) {
	l := newLookerEnv(t, envOptions{})
	runtimes := []struct {
		name, bin, flag, script, marker string
	}{
		{"python", "python3", "-c", pythonSigner, "%5Cu00e9"}, // json.dumps escapes é; quote_plus encodes the backslash
		{"node", "node", "-e", nodeSigner, "%C3%A9"},          // JSON.stringify keeps é as UTF-8
	}
	for _, rt := range runtimes {
		t.Run(rt.name, func(t *testing.T) {
			if _, err := exec.LookPath(rt.bin); err != nil {
				t.Skipf("%s is not installed", rt.bin)
			}
			arg, _ := json.Marshal(map[string]any{
				"host": l.host, "secret": l.secret, "target": salesTarget + "&Region=West", "nonce": nonce(), "time": l.now().Unix(),
				"user": map[string]any{
					"external_user_id": "runtime-" + rt.name, "first_name": "Zoé", "session_length": 900,
					"permissions": []string{"access_data", "see_lookml_dashboards"}, "models": []string{"sales"},
					"user_attributes": map[string]any{"external_value": "Sales", "team": "Société générale ✓"},
					"access_filters":  map[string]any{"sales": map[string]any{"region": "West"}},
				},
			})
			out, err := exec.Command(rt.bin, rt.flag, rt.script, string(arg)).Output()
			if err != nil {
				t.Fatalf("%s signer: %v", rt.name, err)
			}
			p := strings.TrimSpace(string(out))
			if !strings.Contains(p, rt.marker) {
				t.Fatalf("%s URL does not look like that runtime's JSON: %s", rt.name, p)
			}
			r := l.send("GET", p, nil, "")
			if r.status != http.StatusFound || r.header.Get("Location") != salesTarget+"&Region=West" {
				t.Fatalf("%s-signed URL: %d %s", rt.name, r.status, r.body)
			}
			c := sessionCookie(t, r)
			q := l.send("POST", "/api/v1/embed/dashboards/sales/query", cookieHeader(c), `{"widgets":["revenue"]}`)
			if got, want := widgetValue(t, q, "revenue"), l.scalar("SELECT sum(amount) FROM sales WHERE department = 'Sales'"); got != want {
				t.Fatalf("revenue = %v, want %v", got, want)
			}
			// A value changed after signing does not verify, whichever runtime signed.
			tampered := strings.Replace(p, "runtime-"+rt.name, "runtime-x"+rt.name[1:], 1)
			if r := l.send("GET", tampered, nil, ""); r.status != 401 || r.errorCode(t) != "invalid_signature" {
				t.Fatalf("tampered %s URL: %d %s", rt.name, r.status, r.body)
			}
		})
	}
}
