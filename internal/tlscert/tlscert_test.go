package tlscert

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

func TestSelfSignedServesLoopbackAndIsKept(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	certPath, keyPath, err := SelfSigned(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode(), err)
	}
	first, _ := os.ReadFile(certPath)
	// A second call keeps the same certificate.
	if _, _, err := SelfSigned(dir, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(certPath); string(again) != string(first) {
		t.Fatal("a usable certificate was replaced")
	}
	// Close to expiry it is replaced.
	if _, _, err := SelfSigned(dir, now.Add(selfSignedLifetime)); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(certPath); string(again) == string(first) {
		t.Fatal("an expiring certificate was kept")
	}
	// And one not yet valid (made with a clock ahead) is replaced again.
	if certPath, keyPath, err = SelfSigned(dir, now); err != nil {
		t.Fatal(err)
	}

	cfg, err := Config(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	srv.TLS = cfg
	srv.StartTLS()
	defer srv.Close()
	pem, _ := os.ReadFile(certPath)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("certificate PEM does not parse")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(srv.URL) // https://127.0.0.1:port, verified against the file
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestConfigRefusesMissingFiles(t *testing.T) {
	if _, err := Config("/nonexistent/cert.pem", "/nonexistent/key.pem"); err == nil {
		t.Fatal("missing files accepted")
	}
}
