package oauth

// Stable codes of the broker's errors. Code is for programs (and Inlay's JSON envelope); OAuth
// is the RFC 6749 / RFC 8693 error the credential endpoint answers with.
const (
	CodeInvalidRequest       = "invalid_request"
	CodeInvalidClient        = "invalid_client"
	CodeUnsupportedGrantType = "unsupported_grant_type"
	CodeUnsupportedTokenType = "unsupported_token_type"
	CodeSubjectTokenInvalid  = "subject_token_invalid"
	CodeSubjectTokenExpired  = "subject_token_expired"
	CodeNotAssociated        = "integration_not_associated"
	CodeAudienceRequired     = "audience_required"
	CodeUnknownAudience      = "unknown_audience"
	CodeLoginRequired        = "login_required"
	CodeRefreshFailed        = "refresh_failed"
	CodeViewerRequired       = "viewer_required"
	CodeProviderUnavailable  = "provider_unavailable"
	CodeProviderRejected     = "provider_rejected"
	CodeInvalidState         = "invalid_state"
	CodeStateNotBound        = "state_not_bound"
	CodeIssuerMismatch       = "issuer_mismatch"
	CodeProviderError        = "provider_error"
	CodeCodeExchangeFailed   = "code_exchange_failed"
	CodeIDTokenInvalid       = "id_token_invalid"
	CodeReturnToNotAllowed   = "return_to_not_allowed"
	CodeTicketInvalid        = "ticket_invalid"
	CodeTicketExpired        = "ticket_expired"
	CodeNotViewerIntegration = "not_a_viewer_integration"
	CodeIntegrationNotFound  = "integration_not_found"
)

// Error is a broker failure a client may see: a stable Code, the OAuth error it maps to, a
// message for the client, and where the viewer must act, the integration and viewer whose login
// would fix it (the API turns them into a login_url). Cause is only logged.
type Error struct {
	Code    string
	OAuth   string
	Message string
	// LoginURL is set when logging in (again) to the integration would fix the error.
	LoginURL    string
	Integration string
	Cause       error
}

func (e *Error) Error() string {
	s := e.Code + ": " + e.Message
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Cause }

func newErr(code, oauthCode, msg string) *Error {
	return &Error{Code: code, OAuth: oauthCode, Message: msg}
}
