package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/inlay/inlay/internal/config"
	"github.com/inlay/inlay/internal/tlscert"
)

// withTLS wraps ln to serve HTTPS when t says so, and returns the URL to print. On error ln is
// left open for the caller to close. A self-signed
// certificate is made (or reused) under <project>/.inlay/tls and its path printed, so a browser
// or test can be told to trust it.
func withTLS(e *env, ln net.Listener, t config.TLSConfig, projectDir string) (net.Listener, string, error) {
	url := "http://" + ln.Addr().String()
	if !t.Enabled() {
		return ln, url, nil
	}
	certPath, keyPath := t.Cert, t.Key
	if t.SelfSigned {
		var err error
		certPath, keyPath, err = tlscert.SelfSigned(filepath.Join(projectDir, ".inlay", "tls"), time.Now())
		if err != nil {
			return nil, "", fmt.Errorf("self-signed certificate: %w", err)
		}
		abs, _ := filepath.Abs(certPath)
		fmt.Fprintf(e.stdout, "Certificate:    %s   (self-signed for 127.0.0.1 and localhost; trust it in the browser)\n", abs)
	}
	cfg, err := tlscert.Config(certPath, keyPath)
	if err != nil {
		return nil, "", err
	}
	return tls.NewListener(ln, cfg), "https://" + ln.Addr().String(), nil
}
