package compile

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/dashboard"
)

// Presets resolve in the dashboard's time zone: at 23:30 UTC on 31 March it is already 1 April
// in Berlin, so "today" and "this_month" there are April's.
func TestDatePresetsResolveInTheDashboardsZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	now := time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC)
	day := func(y int, m time.Month, d int, loc *time.Location) time.Time {
		return time.Date(y, m, d, 0, 0, 0, 0, loc).UTC()
	}
	for _, c := range []struct {
		preset   string
		loc      *time.Location
		from, to time.Time
	}{
		{"today", time.UTC, day(2026, 3, 31, time.UTC), day(2026, 4, 1, time.UTC)},
		{"today", berlin, day(2026, 4, 1, berlin), day(2026, 4, 2, berlin)},
		{"last_7_days", time.UTC, day(2026, 3, 25, time.UTC), day(2026, 4, 1, time.UTC)},
		{"last_30_days", time.UTC, day(2026, 3, 2, time.UTC), day(2026, 4, 1, time.UTC)},
		{"this_month", berlin, day(2026, 4, 1, berlin), day(2026, 5, 1, berlin)},
		{"this_month", time.UTC, day(2026, 3, 1, time.UTC), day(2026, 4, 1, time.UTC)},
		{"last_month", time.UTC, day(2026, 2, 1, time.UTC), day(2026, 3, 1, time.UTC)},
		{"this_quarter", time.UTC, day(2026, 1, 1, time.UTC), day(2026, 4, 1, time.UTC)},
		{"last_quarter", berlin, day(2026, 1, 1, berlin), day(2026, 4, 1, berlin)},
		{"this_year", time.UTC, day(2026, 1, 1, time.UTC), day(2027, 1, 1, time.UTC)},
		{"last_year", time.UTC, day(2025, 1, 1, time.UTC), day(2026, 1, 1, time.UTC)},
	} {
		from, to, err := resolvePreset(c.preset, now, c.loc)
		if err != nil || from == nil || to == nil {
			t.Fatalf("%s: %v", c.preset, err)
		}
		if !from.Equal(c.from) || !to.Equal(c.to) {
			t.Errorf("%s in %s: [%s, %s), want [%s, %s)", c.preset, c.loc, from, to, c.from, c.to)
		}
	}
	if from, to, err := resolvePreset("all_time", now, time.UTC); err != nil || from != nil || to != nil {
		t.Errorf("all_time: %v %v %v", from, to, err)
	}
}

func TestDatePresetFilterValues(t *testing.T) {
	defer func(old func() time.Time) { Now = old }(Now)
	Now = func() time.Time { return time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC) }
	d := &dashboard.Dashboard{TimeZone: "Europe/Berlin", Filters: []dashboard.Filter{{Name: "period", Type: dashboard.FilterDateRange}}}
	parse := func(v string) (FilterValues, error) {
		return ParseFilters(d, map[string]json.RawMessage{"period": json.RawMessage(v)})
	}
	fv, err := parse(`{"preset":"today"}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := fv["period"]; got.From == nil || got.From.Format(time.RFC3339) != "2026-03-31T22:00:00Z" {
		t.Errorf("today in Berlin starts at %v, want 2026-03-31T22:00:00Z", got.From)
	}
	if fv, err := parse(`{"preset":"all_time"}`); err != nil || len(fv) != 0 {
		t.Errorf("all_time restricts nothing: %v %v", fv, err)
	}
	for _, bad := range []string{`{"preset":"yesterdayish"}`, `{"preset":"today","from":"2026-01-01"}`} {
		if _, err := parse(bad); !errors.Is(err, ErrInvalidFilter) {
			t.Errorf("%s: %v, want invalid_filter", bad, err)
		}
	}
}
