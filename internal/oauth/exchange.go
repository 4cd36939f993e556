package oauth

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Token-exchange identifiers (RFC 8693, and Posit Connect's subject token types so that code
// written for Connect's credential exchange works against Inlay by changing the host).
const (
	GrantTokenExchange      = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeAccessToken    = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeUserSession    = "urn:posit:connect:user-session-token"
	TokenTypeContentSession = "urn:posit:connect:content-session-token"
)

// ExchangeRequest is a credential exchange: the content's API key and the form fields.
type ExchangeRequest struct {
	APIKey             string
	GrantType          string
	SubjectToken       string
	SubjectTokenType   string
	RequestedTokenType string
	Audience           string
}

// ExchangeResponse is the RFC 8693 answer.
type ExchangeResponse struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in,omitempty"`
}

// Exchange hands content the access token of the integration it asks for: the viewer's (named
// by a user session token) for a Viewer integration, the service account's for a Service Account
// integration. Content only ever gets tokens of integrations associated with it, and a viewer's
// request only ever that viewer's token: there is no fallback to anyone else's credentials.
func (b *Broker) Exchange(ctx context.Context, req ExchangeRequest) (ExchangeResponse, error) {
	content, err := b.AuthenticateContent(ctx, req.APIKey)
	if err != nil {
		return ExchangeResponse{}, err
	}
	if req.GrantType != GrantTokenExchange {
		return ExchangeResponse{}, newErr(CodeUnsupportedGrantType, "unsupported_grant_type", "grant_type must be "+GrantTokenExchange)
	}
	if req.RequestedTokenType != "" && req.RequestedTokenType != TokenTypeAccessToken {
		return ExchangeResponse{}, newErr(CodeUnsupportedTokenType, "invalid_request", "requested_token_type must be "+TokenTypeAccessToken)
	}
	if req.SubjectToken == "" {
		return ExchangeResponse{}, newErr(CodeInvalidRequest, "invalid_request", "subject_token is required")
	}
	var viewer string
	var claims sealedClaims
	switch req.SubjectTokenType {
	case TokenTypeUserSession:
		claims, err = b.unseal(sealedUser, userTokenPrefix, req.SubjectToken)
		viewer = claims.Viewer
	case TokenTypeContentSession:
		claims, err = b.unseal(sealedContent, contentTokenPrefix, req.SubjectToken)
	default:
		return ExchangeResponse{}, newErr(CodeUnsupportedTokenType, "invalid_request",
			"subject_token_type must be "+TokenTypeUserSession+" or "+TokenTypeContentSession)
	}
	switch {
	case errors.Is(err, errSealedExpired):
		return ExchangeResponse{}, newErr(CodeSubjectTokenExpired, "invalid_grant", "the subject token has expired: reload to get a new one")
	case err != nil:
		return ExchangeResponse{}, newErr(CodeSubjectTokenInvalid, "invalid_grant", "the subject token is not valid")
	case claims.Content != content:
		return ExchangeResponse{}, newErr(CodeSubjectTokenInvalid, "invalid_grant", "the subject token was issued for other content")
	}
	it, err := b.chooseIntegration(ctx, content, req.Audience)
	if err != nil {
		return ExchangeResponse{}, err
	}
	tok, err := b.TokenFor(ctx, it, viewer)
	if err != nil {
		return ExchangeResponse{}, err
	}
	out := ExchangeResponse{AccessToken: tok.Token, IssuedTokenType: TokenTypeAccessToken, TokenType: tok.Type}
	if !tok.Expiry.IsZero() {
		out.ExpiresIn = int64(tok.Expiry.Sub(b.now()) / time.Second)
	}
	return out, nil
}

// TokenFor returns the token content runs with: the service account's for a Service Account
// integration, else viewer's (CodeViewerRequired when there is no viewer).
func (b *Broker) TokenFor(ctx context.Context, it Integration, viewer string) (AccessToken, error) {
	if it.AuthType == AuthServiceAccount {
		return b.ServiceToken(ctx, it)
	}
	if viewer == "" {
		return AccessToken{}, newErr(CodeViewerRequired, "invalid_request",
			"this integration gives each viewer their own credentials: send a user session token")
	}
	return b.ViewerToken(ctx, it, viewer)
}

// Resolve returns an integration (with its secret, for the broker's callers in-process) by guid
// or name.
func (b *Broker) Resolve(ctx context.Context, guidOrName string) (Integration, error) {
	return b.load(ctx, guidOrName)
}

func (b *Broker) chooseIntegration(ctx context.Context, content, audience string) (Integration, error) {
	assoc, err := b.associated(ctx, content)
	if err != nil {
		return Integration{}, err
	}
	if audience == "" {
		switch len(assoc) {
		case 0:
			return Integration{}, newErr(CodeNotAssociated, "invalid_request", "no integration is associated with this content")
		case 1:
			it, err := b.load(ctx, assoc[0])
			if errors.Is(err, ErrNotFound) {
				return Integration{}, newErr(CodeNotAssociated, "invalid_request", "no integration is associated with this content")
			}
			return it, err
		}
		return Integration{}, newErr(CodeAudienceRequired, "invalid_request",
			"several integrations are associated with this content: name one in audience (guid or name)")
	}
	it, err := b.load(ctx, audience)
	if errors.Is(err, ErrNotFound) {
		return Integration{}, newErr(CodeUnknownAudience, "invalid_target", "audience names no integration")
	} else if err != nil {
		return Integration{}, err
	}
	if !slices.Contains(assoc, it.GUID) {
		return Integration{}, newErr(CodeNotAssociated, "invalid_target", "the integration is not associated with this content")
	}
	return it, nil
}

// QueryCredentials returns the query engine's credential hook for the data sources that name an
// integration (source name -> integration guid or name): a viewer's queries on such a source run
// with that viewer's token, or the service account's. Without them the query fails with the
// broker's error (CodeLoginRequired with a login URL when the viewer must connect); never with
// anyone else's.
func (b *Broker) QueryCredentials(sources map[string]string) func(ctx context.Context, source, viewer string) (string, func(context.Context) (string, error), error) {
	return func(ctx context.Context, source, viewer string) (string, func(context.Context) (string, error), error) {
		name := sources[source]
		if name == "" {
			return "", nil, nil
		}
		it, err := b.load(ctx, name)
		if errors.Is(err, ErrNotFound) {
			return "", nil, &Error{Code: CodeIntegrationNotFound, OAuth: "invalid_request",
				Message: "the data source names an OAuth integration that does not exist", Cause: err}
		} else if err != nil {
			return "", nil, err
		}
		tok, err := b.TokenFor(ctx, it, viewer)
		if err != nil {
			return "", nil, err
		}
		return tok.Owner, func(ctx context.Context) (string, error) {
			t, err := b.TokenFor(ctx, it, viewer)
			return t.Token, err
		}, nil
	}
}
