package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/inlay/inlay/internal/demo"
	"github.com/inlay/inlay/internal/hostapp"
)

// demoLookerMode configures the host app's Looker page (docs/embedding.md, "Looker mode"): the
// host's alice and bob are the demo's Looker users looker-alice and looker-bob, signed URLs use
// the demo's embed secret, and cookieless sessions get the host's origin as embed domain.
func demoLookerMode(inlayURL, hostURL, embedSecret string) (*hostapp.LookerConfig, error) {
	u, err := url.Parse(inlayURL)
	if err != nil {
		return nil, err
	}
	users := map[string]map[string]any{}
	for _, lu := range demo.LookerUsers {
		b, err := json.Marshal(lu)
		if err != nil {
			return nil, err
		}
		var def map[string]any
		if err := json.Unmarshal(b, &def); err != nil {
			return nil, err
		}
		name, ok := strings.CutPrefix(lu.ExternalUserID, "looker-")
		if !ok {
			return nil, fmt.Errorf("demo: Looker user %q is not looker-<host user>", lu.ExternalUserID)
		}
		users[name] = def
	}
	return &hostapp.LookerConfig{Host: u.Host, EmbedSecret: embedSecret, Users: users, HostOrigin: hostURL}, nil
}
