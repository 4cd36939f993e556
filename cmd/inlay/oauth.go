package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"text/tabwriter"

	"github.com/inlay/inlay/internal/config"
	"github.com/inlay/inlay/internal/oauth"
	"github.com/inlay/inlay/internal/secret"
	"github.com/inlay/inlay/internal/storage"
)

// newBroker builds the OAuth broker, makes the integrations declared in inlay.yaml exist, and
// returns which integration each data source runs with.
func newBroker(ctx context.Context, cfg *config.Config, store storage.Store, keys *secret.Keys, logger *slog.Logger) (*oauth.Broker, map[string]string, error) {
	broker, err := oauth.NewBroker(store, keys, oauth.Options{PublicURL: cfg.PublicURL,
		AllowedOrigins: cfg.Embed.AllowedOrigins, Logger: logger})
	if err != nil {
		return nil, nil, err
	}
	if err := broker.Declare(ctx, declaredIntegrations(cfg)); err != nil {
		return nil, nil, err
	}
	sources := map[string]string{}
	for name, ds := range cfg.DataSources {
		sources[name] = ds.OAuthIntegration
	}
	return broker, sources, nil
}

func declaredIntegrations(cfg *config.Config) []oauth.Input {
	var out []oauth.Input
	for _, name := range slices.Sorted(maps.Keys(cfg.OAuth.Integrations)) {
		it := cfg.OAuth.Integrations[name]
		c := it.Config
		out = append(out, oauth.Input{Name: name, Description: it.Description, Template: it.Template, AuthType: it.AuthType,
			Config: oauth.Config{AuthMode: c.AuthMode, ClientID: c.ClientID, ClientSecret: c.ClientSecret.Reveal(),
				Scopes: c.Scopes, TokenEndpointAuthMethod: c.TokenEndpointAuthMethod, UsePKCE: c.UsePKCE, Prompt: c.Prompt,
				AuthorizationURI: c.AuthorizationURI, TokenURI: c.TokenURI, RevocationURI: c.RevocationURI, Issuer: c.Issuer,
				WorkspaceHost: c.WorkspaceHost, AccountHost: c.AccountHost, AccountID: c.AccountID}})
	}
	return out
}

// runIntegration is `inlay integration create|list|delete`.
func runIntegration(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "usage: inlay integration create --name NAME --template custom|oidc|databricks [flags] | list [--json] | delete NAME|GUID")
		return errUsage
	}
	fs := flag.NewFlagSet("integration "+args[0], flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var p projectFlags
	p.register(fs)
	var in oauth.Input
	fs.StringVar(&in.Name, "name", "", "integration name (create)")
	fs.StringVar(&in.Description, "description", "", "description")
	fs.StringVar(&in.Template, "template", "custom", "custom, oidc or databricks")
	fs.StringVar(&in.AuthType, "auth-type", oauth.AuthViewer, `"Viewer" or "Service Account"`)
	c := &in.Config
	fs.StringVar(&c.ClientID, "client-id", "", "OAuth client id")
	secretEnv := fs.String("client-secret-env", "", "environment variable holding the client secret (never a flag value)")
	public := fs.Bool("public", false, "a Public client (PKCE, no secret)")
	fs.StringVar(&c.Scopes, "scopes", "", "space-separated scopes (template default if empty)")
	fs.StringVar(&c.TokenEndpointAuthMethod, "auth-method", "", "client_secret_basic (default) or client_secret_post")
	fs.StringVar(&c.Issuer, "issuer", "", "oidc: issuer URL (endpoints from discovery)")
	fs.StringVar(&c.AuthorizationURI, "authorization-uri", "", "custom: authorization endpoint")
	fs.StringVar(&c.TokenURI, "token-uri", "", "custom: token endpoint")
	fs.StringVar(&c.RevocationURI, "revocation-uri", "", "custom: revocation endpoint")
	fs.StringVar(&c.WorkspaceHost, "workspace-host", "", "databricks: workspace host")
	fs.StringVar(&c.AccountHost, "account-host", "", "databricks: account host")
	fs.StringVar(&c.AccountID, "account-id", "", "databricks: account id")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	st, err := openAdmin(ctx, e, p)
	if err != nil {
		return err
	}
	defer st.store.Close()
	broker, err := oauth.NewBroker(st.store, st.keys, oauth.Options{PublicURL: st.cfg.PublicURL})
	if err != nil {
		return err
	}
	switch args[0] {
	case "create":
		if *public {
			c.AuthMode = oauth.ModePublic
		}
		if *secretEnv != "" {
			if c.ClientSecret = e.getenv(*secretEnv); c.ClientSecret == "" {
				return fmt.Errorf("integration create: %s is not set", *secretEnv)
			}
		}
		it, err := broker.CreateIntegration(ctx, in)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(e.stdout).Encode(it)
		}
		fmt.Fprintf(e.stdout, "Integration:   %s (%s)\nRedirect URI:  %s\n\nRegister the redirect URI with the provider's OAuth application.\n",
			it.Name, it.GUID, broker.RedirectURI())
		return nil
	case "list":
		its, err := broker.ListIntegrations(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(e.stdout).Encode(its)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "GUID\tNAME\tTEMPLATE\tAUTH TYPE\tCLIENT ID\tDECLARED")
		for _, it := range its {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\n", it.GUID, it.Name, it.Template, it.AuthType, it.Config.ClientID, it.Declared)
		}
		return tw.Flush()
	case "delete":
		if fs.NArg() != 1 {
			return fmt.Errorf("integration delete: give one name or guid")
		}
		if err := broker.DeleteIntegration(ctx, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "deleted %s\n", fs.Arg(0))
		return nil
	}
	return fmt.Errorf("integration: unknown subcommand %q", args[0])
}

// resealOAuth seals every OAuth client secret and viewer token again with the current master
// key (part of `inlay keys rotate`).
func resealOAuth(ctx context.Context, e *env, st *adminState) error {
	broker, err := oauth.NewBroker(st.store, st.keys, oauth.Options{PublicURL: st.cfg.PublicURL})
	if err != nil {
		return err
	}
	n, err := broker.Reseal(ctx)
	if err != nil {
		return fmt.Errorf("resealing OAuth secrets: %w", err)
	}
	fmt.Fprintf(e.stdout, "resealed %d OAuth secret(s) and token(s) with the current master key\n", n)
	return nil
}

// credentialed is the set of data sources whose queries run with brokered credentials.
func credentialed(sources map[string]string) map[string]struct{} {
	out := map[string]struct{}{}
	for name, it := range sources {
		if it != "" {
			out[name] = struct{}{}
		}
	}
	return out
}

// oauthProblems checks the integrations declared in inlay.yaml the way the API would, so that
// `inlay check` and `inlay serve` report them, at their lines, before anything starts.
func oauthProblems(cfg *config.Config) []config.Problem {
	var out []config.Problem
	for _, in := range declaredIntegrations(cfg) {
		probs := oauth.Validate(in)
		for _, k := range slices.Sorted(maps.Keys(probs)) {
			out = append(out, cfg.ProblemAt("oauth.integrations."+in.Name+"."+k, probs[k]))
		}
	}
	return out
}

// demoOAuth declares an OIDC provider as the demo's "Databricks" integration and makes the sample
// data source run with each viewer's credentials of it: the host app's dashboards then ask each
// user to connect their account first (a popup login at the provider).
func demoOAuth(e *env, cfg *config.Config, issuer, clientID, secretEnv string) error {
	if clientID == "" {
		return fmt.Errorf("--oauth-issuer needs --oauth-client-id")
	}
	c := config.OAuthClientConfig{Issuer: issuer, ClientID: clientID, Scopes: "openid offline_access"}
	if secretEnv != "" {
		v := e.getenv(secretEnv)
		if v == "" {
			return fmt.Errorf("--oauth-client-secret-env: %s is not set", secretEnv)
		}
		c.ClientSecret = config.NewSecret(v)
	} else {
		c.AuthMode = oauth.ModePublic
	}
	cfg.OAuth.Integrations = map[string]config.OAuthIntegrationConfig{
		"Databricks": {Description: "a local OpenID provider standing in for Databricks", Template: oauth.TemplateOIDC, Config: c},
	}
	if cfg.DataSources == nil {
		cfg.DataSources = map[string]config.DataSourceConfig{}
	}
	ds := cfg.DataSources[config.DefaultDataSource]
	ds.Type, ds.OAuthIntegration = config.TypeDuckDB, "Databricks"
	cfg.DataSources[config.DefaultDataSource] = ds
	fmt.Fprintf(e.stdout, "OAuth:      the sample data runs with each viewer's \"Databricks\" credentials (%s)\n", issuer)
	return nil
}
