package main

import (
	"net/http"
	"testing"
)

// TestDemoReadinessListsItsSource: the demo opens its DuckDB source directly (not supervised);
// /readyz still lists it, up, as the README says of every source.
func TestDemoReadinessListsItsSource(t *testing.T) {
	t.Chdir(t.TempDir())
	inlayURL, _ := startDemo(t, "--rows", "1000")
	var ready struct {
		Status  string `json:"status"`
		Sources []struct {
			Name  string `json:"name"`
			State string `json:"state"`
		} `json:"data_sources"`
	}
	if code := getStatus(t, inlayURL+"/readyz", &ready); code != http.StatusOK {
		t.Fatalf("/readyz %d", code)
	}
	if ready.Status != "ok" || len(ready.Sources) != 1 || ready.Sources[0].Name != "default" || ready.Sources[0].State != "up" {
		t.Fatalf("/readyz = %+v, want ok with the demo's source up", ready)
	}
}
