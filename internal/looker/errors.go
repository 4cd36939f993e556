// Package looker implements Looker-compatible embedding: signed (SSO) embed URLs, cookieless
// embed sessions and their tokens, embed users, embed secrets and API 4.0 logins. It holds the
// protocol rules as functions over typed requests and a ctx; the HTTP layer (package api) only
// parses and renders. State lives in the storage contract's Records; secrets are sealed and
// tokens keyed with package secret. See docs/looker.md.
package looker

import "fmt"

// Class says what kind of failure an Error is, independent of the wire format.
type Class int

const (
	Invalid         Class = iota // the request is malformed (400)
	Unauthenticated              // credentials missing, wrong, used or expired (401)
	Forbidden                    // authenticated, but not allowed (403)
)

// Error is a refusal the caller may see: a stable snake_case code, a message for the client and
// optional details. It never carries secrets.
type Error struct {
	Class   Class
	Code    string
	Message string
	Details map[string]any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func invalid(code, format string, args ...any) *Error {
	return &Error{Class: Invalid, Code: code, Message: fmt.Sprintf(format, args...)}
}

func unauthenticated(code, format string, args ...any) *Error {
	return &Error{Class: Unauthenticated, Code: code, Message: fmt.Sprintf(format, args...)}
}

func forbidden(code, format string, args ...any) *Error {
	return &Error{Class: Forbidden, Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) with(k string, v any) *Error {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.Details[k] = v
	return e
}

// Stable codes (docs/looker.md lists them with their statuses).
const (
	CodeMissingParameter      = "missing_parameter"
	CodeInvalidParameter      = "invalid_parameter"
	CodeDuplicateParameter    = "duplicate_parameter"
	CodeInvalidSignature      = "invalid_signature"
	CodeTimeOutOfRange        = "time_out_of_range"
	CodeNonceReused           = "nonce_reused"
	CodeSessionLength         = "session_length_out_of_range"
	CodeUnknownPermission     = "unknown_permission"
	CodeInvalidTarget         = "invalid_target"
	CodeInvalidEmbedDomain    = "invalid_embed_domain"
	CodeUserAgentRequired     = "user_agent_required"
	CodeUserAgentMismatch     = "user_agent_mismatch"
	CodeInvalidAuthToken      = "invalid_authentication_token"
	CodeInvalidReferenceToken = "invalid_session_reference_token"
	CodeTokenSessionMismatch  = "token_session_mismatch"
	CodeInvalidToken          = "invalid_token"
	CodeSessionExpired        = "session_expired"
	CodePermissionDenied      = "permission_denied"
	CodeModelNotAllowed       = "model_not_allowed"
	CodeUnauthorized          = "unauthorized"
	CodeNoEmbedSecret         = "no_embed_secret"
)
