package looker

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/inlay/inlay/internal/rls"
)

// Session lengths, in seconds.
const (
	DefaultSessionLength = 300
	MaxSessionLength     = 2_592_000
)

// Permissions Looker defines for embed users. Any other is refused at sign-in.
var knownPermissions = []string{
	"access_data", "see_lookml_dashboards", "see_looks", "see_user_dashboards", "explore",
	"create_table_calculations", "create_custom_fields", "can_create_forecast", "save_content",
	"send_outgoing_webhook", "send_to_s3", "send_to_sftp", "schedule_look_emails",
	"schedule_external_look_emails", "send_to_integration", "create_alerts",
	"download_with_limit", "download_without_limit", "see_sql", "clear_cache_refresh",
	"see_drill_overlay", "embed_browse_spaces", "embed_save_shared_space",
}

// CapabilityDownload is the Inlay capability the download permissions grant.
const CapabilityDownload = "download"

// ExternalValueAttribute is the user attribute that becomes the viewer's external value
// (__aibi_external_value in dataset SQL).
const ExternalValueAttribute = "external_value"

// User is an embed user's definition, as the host signs it (signed URL) or sends it (acquire).
// It is stored by ExternalUserID and kept, as it was at sign-in, with each session.
type User struct {
	ExternalUserID  string                         `json:"external_user_id"`
	FirstName       string                         `json:"first_name,omitempty"`
	LastName        string                         `json:"last_name,omitempty"`
	Permissions     []string                       `json:"permissions"`
	Models          []string                       `json:"models"`
	GroupIDs        []string                       `json:"group_ids,omitempty"`
	ExternalGroupID string                         `json:"external_group_id,omitempty"`
	UserAttributes  map[string][]string            `json:"user_attributes,omitempty"`
	AccessFilters   map[string]map[string][]string `json:"access_filters,omitempty"`
	UserTimezone    string                         `json:"user_timezone,omitempty"`
}

// CanView reports whether the permissions allow viewing dashboards: access_data plus
// see_user_dashboards or see_lookml_dashboards.
func (u *User) CanView() bool {
	return slices.Contains(u.Permissions, "access_data") &&
		(slices.Contains(u.Permissions, "see_user_dashboards") || slices.Contains(u.Permissions, "see_lookml_dashboards"))
}

// AllowsModel reports whether the user's models include model; an empty model (a dashboard
// that declares none) is never allowed.
func (u *User) AllowsModel(model string) bool {
	return model != "" && slices.Contains(u.Models, model)
}

// Capabilities are the Inlay capabilities the permissions grant.
func (u *User) Capabilities() []string {
	if slices.Contains(u.Permissions, "download_with_limit") || slices.Contains(u.Permissions, "download_without_limit") {
		return []string{CapabilityDownload}
	}
	return []string{}
}

// CheckDashboard refuses a dashboard of model that the user may not open.
func (u *User) CheckDashboard(model string) error {
	if !u.CanView() {
		return forbidden(CodePermissionDenied, "the embed user's permissions do not allow viewing dashboards (access_data and see_user_dashboards or see_lookml_dashboards are needed)")
	}
	if !u.AllowsModel(model) {
		e := forbidden(CodeModelNotAllowed, "the embed user's models do not include this dashboard's model")
		if model != "" {
			e = e.with("model", model)
		}
		return e
	}
	return nil
}

// Viewer is the identity row-level security evaluates for a dashboard of model: the user
// attributes, with that model's access filters on top; the resulting external_value (an access
// filter of the model over the user attribute) is the external value when it is one value, and
// otherwise there is none, so rules that need it fail closed.
func (u *User) Viewer(model string) rls.Viewer {
	attrs := make(map[string][]string, len(u.UserAttributes)+len(u.AccessFilters[model]))
	for k, v := range u.UserAttributes {
		attrs[k] = v
	}
	for k, v := range u.AccessFilters[model] {
		attrs[k] = v
	}
	v := rls.Viewer{ID: u.ExternalUserID, Attributes: attrs}
	if ev, ok := attrs[ExternalValueAttribute]; ok && len(ev) == 1 {
		s := ev[0]
		v.ExternalValue = &s
	}
	return v
}

// userRequest is the user definition with the session fields, parsed from JSON values.
type userRequest struct {
	User
	SessionLength    int64
	ForceLogoutLogin bool
}

// fieldGetter returns a parameter's raw JSON value and whether it is present.
type fieldGetter func(name string) (json.RawMessage, bool)

// parseUser reads the embed user fields from JSON values. Required: external_user_id,
// permissions, models. session_length defaults to 300.
func parseUser(get fieldGetter) (*userRequest, error) {
	u := &userRequest{SessionLength: DefaultSessionLength}
	var err error
	if u.ExternalUserID, err = requiredString(get, "external_user_id"); err != nil {
		return nil, err
	}
	if len(u.ExternalUserID) > 255 {
		return nil, badParam("external_user_id", "is longer than 255 bytes")
	}
	if u.Permissions, err = stringList(get, "permissions", true); err != nil {
		return nil, err
	}
	if u.Models, err = stringList(get, "models", true); err != nil {
		return nil, err
	}
	if u.GroupIDs, err = idList(get, "group_ids"); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"first_name", &u.FirstName}, {"last_name", &u.LastName}, {"external_group_id", &u.ExternalGroupID}, {"user_timezone", &u.UserTimezone}} {
		if *f.dst, err = optionalString(get, f.name); err != nil {
			return nil, err
		}
	}
	if raw, ok := get("user_attributes"); ok && !isNull(raw) {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, badParam("user_attributes", "must be a JSON object")
		}
		if u.UserAttributes, err = attributeMap(m, "user_attributes"); err != nil {
			return nil, err
		}
	}
	if raw, ok := get("access_filters"); ok && !isNull(raw) {
		var m map[string]map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, badParam("access_filters", `must be a JSON object {"<model>": {"<field>": value}}`)
		}
		u.AccessFilters = map[string]map[string][]string{}
		for model, fields := range m {
			if u.AccessFilters[model], err = attributeMap(fields, "access_filters"); err != nil {
				return nil, err
			}
		}
	}
	if raw, ok := get("session_length"); ok && !isNull(raw) {
		n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
		if err != nil {
			return nil, badParam("session_length", "must be an integer number of seconds")
		}
		if n < 1 || n > MaxSessionLength {
			return nil, invalid(CodeSessionLength, "session_length must be from 1 to %d seconds", MaxSessionLength).with("session_length", n)
		}
		u.SessionLength = n
	}
	if raw, ok := get("force_logout_login"); ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &u.ForceLogoutLogin); err != nil {
			return nil, badParam("force_logout_login", "must be true or false")
		}
	}
	for _, p := range u.Permissions {
		if !slices.Contains(knownPermissions, p) {
			return nil, invalid(CodeUnknownPermission, "unknown permission %q", p).with("permission", p)
		}
	}
	return u, nil
}

func (u *userRequest) sessionDuration() time.Duration {
	return time.Duration(u.SessionLength) * time.Second
}

func badParam(name, why string) *Error {
	return invalid(CodeInvalidParameter, "%s %s", name, why).with("parameter", name)
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func requiredString(get fieldGetter, name string) (string, error) {
	raw, ok := get(name)
	if !ok || isNull(raw) {
		return "", invalid(CodeMissingParameter, "%s is required", name).with("parameter", name)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || strings.TrimSpace(s) == "" {
		return "", badParam(name, "must be a non-empty JSON string")
	}
	return s, nil
}

func optionalString(get fieldGetter, name string) (string, error) {
	raw, ok := get(name)
	if !ok || isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", badParam(name, "must be a JSON string")
	}
	return s, nil
}

func stringList(get fieldGetter, name string, required bool) ([]string, error) {
	raw, ok := get(name)
	if !ok || isNull(raw) {
		if required {
			return nil, invalid(CodeMissingParameter, "%s is required", name).with("parameter", name)
		}
		return nil, nil
	}
	var out []string
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, badParam(name, "must be a JSON list of strings")
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// idList reads group ids: strings or integers.
func idList(get fieldGetter, name string) ([]string, error) {
	raw, ok := get(name)
	if !ok || isNull(raw) {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, badParam(name, "must be a JSON list")
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		v, ok := scalar(it)
		if !ok {
			return nil, badParam(name, "must hold strings or numbers")
		}
		out = append(out, v)
	}
	return out, nil
}

// attributeMap reads attribute values: a string, number or boolean is one value, a list of them a
// list. Anything else is refused (fail closed rather than guess).
func attributeMap(m map[string]json.RawMessage, param string) (map[string][]string, error) {
	out := make(map[string][]string, len(m))
	for k, raw := range m {
		if k == "" || !utf8.ValidString(k) {
			return nil, badParam(param, "has an empty attribute name")
		}
		if isNull(raw) {
			continue
		}
		if v, ok := scalar(raw); ok {
			out[k] = []string{v}
			continue
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, badParam(param, "values must be strings, numbers, booleans or lists of them").with("attribute", k)
		}
		vals := make([]string, 0, len(items))
		for _, it := range items {
			v, ok := scalar(it)
			if !ok {
				return nil, badParam(param, "values must be strings, numbers, booleans or lists of them").with("attribute", k)
			}
			vals = append(vals, v)
		}
		out[k] = vals
	}
	return out, nil
}

func scalar(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	case 't', 'f':
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			return "", false
		}
		return strconv.FormatBool(b), true
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return "", false
		}
		return n.String(), true
	}
	return "", false
}
