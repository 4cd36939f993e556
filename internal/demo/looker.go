package demo

// LookerUser is an embed user of the demo's Looker mode, in the fields a Looker host signs
// (signed URLs) or sends (cookieless acquire).
type LookerUser struct {
	ExternalUserID string                    `json:"external_user_id"`
	FirstName      string                    `json:"first_name"`
	LastName       string                    `json:"last_name"`
	SessionLength  int                       `json:"session_length"`
	Permissions    []string                  `json:"permissions"`
	Models         []string                  `json:"models"`
	UserAttributes map[string]any            `json:"user_attributes"`
	AccessFilters  map[string]map[string]any `json:"access_filters"`
}

// LookerUsers are the demo's Looker-mode users. They differ in what they may see: the sales
// dashboard filters on user_attributes.external_value (the department), the operations dashboard
// on the access filters department and regions of its model; only alice may download.
var LookerUsers = []LookerUser{
	{
		ExternalUserID: "looker-alice", FirstName: "Alice", LastName: "Johnson", SessionLength: 3600,
		Permissions:    []string{"access_data", "see_lookml_dashboards", "see_user_dashboards", "download_with_limit"},
		Models:         []string{"sales", "operations"},
		UserAttributes: map[string]any{"external_value": "Sales"},
		AccessFilters:  map[string]map[string]any{"operations": {"department": "Sales", "regions": []string{"East", "West"}}},
	},
	{
		ExternalUserID: "looker-bob", FirstName: "Bob", LastName: "Smith", SessionLength: 3600,
		Permissions:    []string{"access_data", "see_lookml_dashboards", "see_user_dashboards"},
		Models:         []string{"sales", "operations"},
		UserAttributes: map[string]any{"external_value": "Engineering"},
		AccessFilters:  map[string]map[string]any{"operations": {"department": "Engineering", "regions": []string{"North", "South", "East", "West"}}},
	},
}
