package token

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/inlay/inlay/internal/storage"
)

// The token exchange (Databricks AI/BI external embedding): tokeninfo turns a service
// principal's request for one viewer into a sealed grant plus the fields the host sends back;
// the exchange checks that those fields are exactly what tokeninfo said and returns the embed
// token's claims. These are the rules, free of any transport: the HTTP API parses requests into
// the types below and renders the *Error they return in each route's own error shape.

// Scopes, the authorization_details type and capabilities of the exchange.
const (
	ScopeAllAPIs        = "all-apis"
	ScopeDashboardEmbed = "dashboards.embed"
	DetailType          = "inlay_dashboard"
	CapabilityDownload  = "download"
)

// Capabilities are the capabilities an embed token may carry.
var Capabilities = []string{CapabilityDownload}

// Bounds on what a tokeninfo request may carry.
const (
	MaxViewerIDBytes      = 512
	MaxExternalValueBytes = 4096
	MaxAttributes         = 32
	MaxAttributeValues    = 256
	maxAttributeNameBytes = 64
)

// KindGrantRedeemed is the record kind that marks a tokeninfo grant as exchanged.
const KindGrantRedeemed = "grant.redeemed"

// GrantTTL bounds the time between the tokeninfo call and the exchange.
const GrantTTL = 5 * time.Minute

// ErrorCode says, independently of any wire format, why a request was refused.
type ErrorCode string

const (
	// CodeInvalidRequest: a parameter is missing, malformed or not what tokeninfo returned.
	CodeInvalidRequest ErrorCode = "invalid_request"
	// CodeInvalidGrant: the sealed grant is not Inlay's, has expired or is another client's.
	CodeInvalidGrant ErrorCode = "invalid_grant"
)

// Error is a refused request: a format-neutral code, a message meant for the caller, and the
// cause, meant only for the log.
type Error struct {
	Code   ErrorCode
	Public string
	Cause  error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return string(e.Code) + ": " + e.Public + ": " + e.Cause.Error()
	}
	return string(e.Code) + ": " + e.Public
}

func (e *Error) Unwrap() error { return e.Cause }

func invalid(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidRequest, Public: fmt.Sprintf(format, args...)}
}

// Param is an optional request parameter: Set tells an absent parameter from an empty one.
type Param struct {
	Value string
	Set   bool
}

// Value returns a present parameter.
func Value(v string) Param { return Param{Value: v, Set: true} }

// Policy is what the instance's configuration decides about embed tokens.
type Policy struct {
	EmbedTTL    time.Duration // default embed token lifetime
	MaxEmbedTTL time.Duration // the longest a caller may ask for
	// DefaultCapabilities are granted when a tokeninfo request names none.
	DefaultCapabilities []string
}

// Exchange applies the token exchange's rules with grants sealed by Grants.
type Exchange struct {
	Grants *GrantSealer
	Policy Policy
	// Redeemed, when set, makes every grant single-use: the first exchange records the grant's
	// hash until it expires (first create wins on every replica sharing the store), so of
	// concurrent exchanges of one grant exactly one gets a token.
	Redeemed storage.Records
}

// InfoRequest is a tokeninfo call, already authenticated as the service principal Subject.
type InfoRequest struct {
	Subject     string
	DashboardID string
	// UsesExternalValue is true when a dataset of the dashboard names __aibi_external_value:
	// external_value is then required.
	UsesExternalValue bool
	ViewerID          string
	ExternalValue     Param
	Attributes        Param // a JSON object of strings or string lists
	Capabilities      Param // comma-separated
	ExpiresIn         Param // seconds
}

// AuthorizationDetail is Inlay's RFC 9396 authorization_details entry, returned by tokeninfo and
// sent back unchanged to the exchange.
type AuthorizationDetail struct {
	Type             string              `json:"type"`
	DashboardID      string              `json:"dashboard_id"`
	ExternalViewerID string              `json:"external_viewer_id"`
	ExternalValue    *string             `json:"external_value"`
	Attributes       map[string][]string `json:"attributes,omitempty"`
	Capabilities     []string            `json:"capabilities"`
	// ExpiresIn is the embed token lifetime the caller asked for, in seconds; 0 (omitted) means
	// the default.
	ExpiresIn int64 `json:"expires_in,omitempty"`
}

// Info is tokeninfo's answer: every field but Grant is also what the exchange must receive.
type Info struct {
	AuthorizationDetails []AuthorizationDetail `json:"authorization_details"`
	CustomClaim          string                `json:"custom_claim"`
	Scope                string                `json:"scope"`
	Grant                string                `json:"inlay_grant"`
}

// TokenInfo checks a tokeninfo request and seals its grant.
func (x *Exchange) TokenInfo(ctx context.Context, req InfoRequest) (*Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if req.ViewerID == "" {
		return nil, invalid("external_viewer_id is required")
	}
	if err := checkText("external_viewer_id", req.ViewerID, MaxViewerIDBytes); err != nil {
		return nil, err
	}
	// external_value filters rows wherever a dataset names __aibi_external_value: it is required
	// there, and never empty (an empty value would match nothing or, worse, rows holding '').
	// A dashboard filtered only by attributes needs none.
	var value *string
	switch {
	case req.ExternalValue.Set && req.ExternalValue.Value == "":
		return nil, invalid("external_value must not be empty")
	case req.ExternalValue.Set:
		if err := checkText("external_value", req.ExternalValue.Value, MaxExternalValueBytes); err != nil {
			return nil, err
		}
		v := req.ExternalValue.Value
		value = &v
	case req.UsesExternalValue:
		return nil, invalid("external_value is required: dashboard %s filters rows by __aibi_external_value", strconv.Quote(req.DashboardID))
	}
	attrs, err := parseAttributes(req.Attributes.Value)
	if err != nil {
		return nil, err
	}
	caps, err := x.capabilities(req.Capabilities)
	if err != nil {
		return nil, err
	}
	lifetime, err := x.lifetime(req.ExpiresIn)
	if err != nil {
		return nil, err
	}
	grant := Claims{Kind: KindGrant, Subject: req.Subject, DashboardID: req.DashboardID, ViewerID: req.ViewerID,
		ExternalValue: value, Attributes: attrs, Capabilities: caps, Lifetime: lifetime}
	raw, err := x.Grants.Seal(grant, GrantTTL)
	if err != nil {
		return nil, err
	}
	return &Info{AuthorizationDetails: detailsFor(&grant), CustomClaim: customClaim(&grant), Scope: ScopeDashboardEmbed, Grant: raw}, nil
}

func (x *Exchange) capabilities(p Param) ([]string, error) {
	if !p.Set {
		return append([]string{}, x.Policy.DefaultCapabilities...), nil
	}
	caps := []string{}
	for c := range strings.SplitSeq(p.Value, ",") {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		if !slices.Contains(Capabilities, c) {
			return nil, invalid("unknown capability %s", strconv.Quote(c))
		}
		if !slices.Contains(caps, c) {
			caps = append(caps, c)
		}
	}
	return caps, nil
}

// lifetime reads expires_in: the embed token's lifetime in seconds, shorter or longer than the
// default and at most Policy.MaxEmbedTTL. 0 means the default.
func (x *Exchange) lifetime(p Param) (time.Duration, error) {
	if !p.Set {
		return 0, nil
	}
	n, err := strconv.ParseInt(p.Value, 10, 64)
	if err != nil || n <= 0 {
		return 0, invalid("expires_in must be a positive number of seconds")
	}
	if max := int64(x.Policy.MaxEmbedTTL / time.Second); n > max {
		return 0, invalid("expires_in must be at most %d seconds (tokens.max_embed_ttl)", max)
	}
	return time.Duration(n) * time.Second, nil
}

// ExchangeRequest is the scoped-token call, authenticated as the client Subject. Params are
// its parameters other than the client's credentials (each given once).
type ExchangeRequest struct {
	Subject string
	Params  map[string]string
}

// exchangeParams are the parameters an exchange may carry.
var exchangeParams = []string{"grant_type", "authorization_details", "custom_claim", "scope", "inlay_grant"}

// Embed checks that an exchange carries exactly what tokeninfo returned (compared by meaning,
// since clients re-encode the JSON), uses the grant up (when Redeemed is set) and returns the
// embed token's claims and lifetime.
func (x *Exchange) Embed(ctx context.Context, req ExchangeRequest) (Claims, time.Duration, error) {
	claims, ttl, redeem, err := x.Check(ctx, req)
	if err != nil {
		return Claims{}, 0, err
	}
	if redeem != nil {
		if err := RedeemError(x.Redeemed.CreateRecord(ctx, *redeem)); err != nil {
			return Claims{}, 0, err
		}
	}
	return claims, ttl, nil
}

// Check is Embed without using the grant up: it returns, when Redeemed is set, the record whose
// creation does (first create wins on every replica sharing the store). A caller that creates
// it itself, in one transaction with the audit event of the token it hands out
// (storage.CreateRecordAudited), must create it before handing the token out and map the
// creation's error with RedeemError.
func (x *Exchange) Check(ctx context.Context, req ExchangeRequest) (Claims, time.Duration, *storage.Record, error) {
	if err := ctx.Err(); err != nil {
		return Claims{}, 0, nil, err
	}
	p := req.Params
	if p["inlay_grant"] == "" {
		return Claims{}, 0, nil, invalid("inlay_grant is missing: send every field of the tokeninfo response")
	}
	grant, err := x.Grants.Open(p["inlay_grant"])
	if err != nil {
		return Claims{}, 0, nil, &Error{Code: CodeInvalidGrant, Public: "the tokeninfo grant is invalid or expired (" + Reason(err) + ")", Cause: err}
	}
	if grant.Subject != req.Subject {
		return Claims{}, 0, nil, &Error{Code: CodeInvalidGrant, Public: "the tokeninfo grant was issued to another client"}
	}
	var details []AuthorizationDetail
	dec := json.NewDecoder(strings.NewReader(p["authorization_details"]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&details); err != nil || dec.More() {
		return Claims{}, 0, nil, invalid("authorization_details is not the JSON tokeninfo returned")
	}
	if want := detailsFor(grant); len(details) != 1 || !sameDetail(details[0], want[0]) {
		return Claims{}, 0, nil, invalid("authorization_details differs from what tokeninfo returned")
	}
	if p["custom_claim"] != customClaim(grant) {
		return Claims{}, 0, nil, invalid("custom_claim differs from what tokeninfo returned")
	}
	if s, ok := p["scope"]; ok && s != ScopeDashboardEmbed {
		return Claims{}, 0, nil, invalid("scope differs from what tokeninfo returned")
	}
	for _, k := range slices.Sorted(maps.Keys(p)) {
		if !slices.Contains(exchangeParams, k) {
			return Claims{}, 0, nil, invalid("unexpected parameter %s", k)
		}
	}
	// The redemption is created last, after every other check, so that a refused request does
	// not use the grant up.
	var redeem *storage.Record
	if x.Redeemed != nil {
		sum := sha256.Sum256([]byte(p["inlay_grant"]))
		redeem = &storage.Record{Kind: KindGrantRedeemed, Key: hex.EncodeToString(sum[:]), ExpiresAt: grant.ExpiresAt}
	}
	ttl := x.Policy.EmbedTTL
	if grant.Lifetime > 0 {
		ttl = grant.Lifetime
	}
	return Claims{Kind: KindEmbed, Subject: req.Subject, Scope: ScopeDashboardEmbed,
		DashboardID: grant.DashboardID, ViewerID: grant.ViewerID, ExternalValue: grant.ExternalValue,
		Attributes: grant.Attributes, Capabilities: grant.Capabilities}, ttl, redeem, nil
}

// RedeemError maps the error of creating a grant's redemption record: ErrAlreadyExists (the grant
// was exchanged before) becomes the invalid_grant refusal; other errors are returned as they are.
func RedeemError(err error) error {
	if errors.Is(err, storage.ErrAlreadyExists) {
		return &Error{Code: CodeInvalidGrant, Public: "the tokeninfo grant was already exchanged for a token; call tokeninfo again for a new one", Cause: err}
	}
	return err
}

// reasons maps verification failures to stable reason codes.
var reasons = []struct {
	err    error
	reason string
}{
	{ErrExpired, "expired"},
	{ErrSignature, "bad_signature"},
	{ErrWrongKind, "wrong_type"},
	{ErrUnknownKey, "unknown_key"},
	{ErrClaims, "invalid_claims"},
	{ErrMalformed, "malformed"},
}

// Reason is the stable reason code of a verification failure: expired, bad_signature,
// wrong_type, unknown_key, invalid_claims or malformed.
func Reason(err error) string {
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return "malformed"
}

func sameDetail(a, b AuthorizationDetail) bool {
	norm := func(d AuthorizationDetail) AuthorizationDetail {
		if len(d.Attributes) == 0 {
			d.Attributes = nil
		}
		for k, v := range d.Attributes {
			if v == nil {
				d.Attributes[k] = []string{}
			}
		}
		if d.Capabilities == nil {
			d.Capabilities = []string{}
		}
		return d
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func detailsFor(c *Claims) []AuthorizationDetail {
	caps := c.Capabilities
	if caps == nil {
		caps = []string{}
	}
	return []AuthorizationDetail{{Type: DetailType, DashboardID: c.DashboardID, ExternalViewerID: c.ViewerID,
		ExternalValue: c.ExternalValue, Attributes: c.Attributes, Capabilities: caps, ExpiresIn: int64(c.Lifetime / time.Second)}}
}

// customClaim is Databricks' claim format: urn:aibi:external_data:<value>:<viewer>:<dashboard>.
func customClaim(c *Claims) string {
	v := ""
	if c.ExternalValue != nil {
		v = *c.ExternalValue
	}
	return "urn:aibi:external_data:" + v + ":" + c.ViewerID + ":" + c.DashboardID
}

// checkText rejects values that could not survive a round trip through a JSON token unchanged
// (invalid UTF-8 would be silently replaced) or that no engine stores (NUL).
func checkText(name, v string, max int) error {
	switch {
	case len(v) > max:
		return invalid("%s is too long", name)
	case !utf8.ValidString(v):
		return invalid("%s is not valid UTF-8", name)
	case strings.IndexByte(v, 0) >= 0:
		return invalid("%s contains a NUL byte", name)
	}
	return nil
}

// parseAttributes reads the optional attributes parameter: a JSON object whose values are strings
// or lists of strings.
func parseAttributes(raw string) (map[string][]string, error) {
	if raw == "" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	if err := dec.Decode(&m); err != nil || dec.More() {
		return nil, invalid("attributes must be a JSON object of strings or string lists")
	}
	if len(m) > MaxAttributes {
		return nil, invalid("too many attributes")
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		if err := checkText("attribute name", k, maxAttributeNameBytes); err != nil || k == "" {
			return nil, invalid("attribute names must be short non-empty text")
		}
		var one string
		var list []string
		if json.Unmarshal(v, &one) == nil {
			list = []string{one}
		} else if json.Unmarshal(v, &list) != nil || list == nil {
			return nil, invalid("attribute %s must be a string or a list of strings", strconv.Quote(k))
		}
		if len(list) > MaxAttributeValues {
			return nil, invalid("attribute %s has too many values", strconv.Quote(k))
		}
		for _, x := range list {
			if err := checkText("attribute "+strconv.Quote(k), x, MaxExternalValueBytes); err != nil {
				return nil, err
			}
		}
		out[k] = list
	}
	return out, nil
}
