package config

// OAuthConfig declares OAuth integrations in inlay.yaml, keyed by name. A declared integration
// exists as written (created or updated at start, removed when it leaves the file) and cannot be
// changed through the API. The keys are Posit Connect's:
//
//	oauth:
//	  integrations:
//	    databricks:
//	      template: databricks            # custom | oidc | databricks
//	      auth_type: Viewer               # Viewer | Service Account
//	      config:
//	        workspace_host: adb-123.azuredatabricks.net
//	        client_id: 9f3c...
//	        client_secret: {env: DATABRICKS_OAUTH_SECRET}
//	        scopes: all-apis offline_access
type OAuthConfig struct {
	Integrations map[string]OAuthIntegrationConfig `yaml:"integrations" json:"integrations,omitempty"`
}

// OAuthIntegrationConfig is one declared integration; internal/oauth validates it.
type OAuthIntegrationConfig struct {
	Description string            `yaml:"description" json:"description,omitempty"`
	Template    string            `yaml:"template" json:"template,omitempty"`
	AuthType    string            `yaml:"auth_type" json:"auth_type,omitempty"`
	Config      OAuthClientConfig `yaml:"config" json:"config"`
}

// OAuthClientConfig is an integration's provider configuration.
type OAuthClientConfig struct {
	AuthMode                string `yaml:"auth_mode" json:"auth_mode,omitempty"`
	ClientID                string `yaml:"client_id" json:"client_id,omitempty"`
	ClientSecret            Secret `yaml:"client_secret" json:"client_secret"`
	Scopes                  string `yaml:"scopes" json:"scopes,omitempty"`
	TokenEndpointAuthMethod string `yaml:"token_endpoint_auth_method" json:"token_endpoint_auth_method,omitempty"`
	UsePKCE                 *bool  `yaml:"use_pkce" json:"use_pkce,omitempty"`
	Prompt                  string `yaml:"prompt" json:"prompt,omitempty"`
	AuthorizationURI        string `yaml:"authorization_uri" json:"authorization_uri,omitempty"`
	TokenURI                string `yaml:"token_uri" json:"token_uri,omitempty"`
	RevocationURI           string `yaml:"revocation_uri" json:"revocation_uri,omitempty"`
	Issuer                  string `yaml:"issuer" json:"issuer,omitempty"`
	WorkspaceHost           string `yaml:"workspace_host" json:"workspace_host,omitempty"`
	AccountHost             string `yaml:"account_host" json:"account_host,omitempty"`
	AccountID               string `yaml:"account_id" json:"account_id,omitempty"`
}
