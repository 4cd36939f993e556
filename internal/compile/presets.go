package compile

import (
	"fmt"
	"sync"
	"time"
)

// DatePresets are the relative ranges a date_range filter accepts as {"preset": name}. The
// server resolves them, in the dashboard's time zone, when a request arrives; ranges end at the
// end of today (so "last_7_days" is today and the six days before).
var DatePresets = []string{
	"today", "last_7_days", "last_30_days", "last_90_days",
	"this_month", "this_quarter", "this_year",
	"last_month", "last_quarter", "last_year", "all_time",
}

// Now is the clock presets resolve against (tests set it).
var Now = time.Now

// resolvePreset returns the range [from, to) of a preset at now in loc; both nil for all_time.
func resolvePreset(name string, now time.Time, loc *time.Location) (from, to *time.Time, err error) {
	n := now.In(loc)
	day := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
	tomorrow := day.AddDate(0, 0, 1)
	month := time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, loc)
	quarter := time.Date(n.Year(), time.Month((int(n.Month())-1)/3*3+1), 1, 0, 0, 0, 0, loc)
	year := time.Date(n.Year(), 1, 1, 0, 0, 0, 0, loc)
	span := func(a, b time.Time) (*time.Time, *time.Time, error) {
		a, b = a.UTC(), b.UTC()
		return &a, &b, nil
	}
	switch name {
	case "today":
		return span(day, tomorrow)
	case "last_7_days":
		return span(day.AddDate(0, 0, -6), tomorrow)
	case "last_30_days":
		return span(day.AddDate(0, 0, -29), tomorrow)
	case "last_90_days":
		return span(day.AddDate(0, 0, -89), tomorrow)
	case "this_month":
		return span(month, month.AddDate(0, 1, 0))
	case "this_quarter":
		return span(quarter, quarter.AddDate(0, 3, 0))
	case "this_year":
		return span(year, year.AddDate(1, 0, 0))
	case "last_month":
		return span(month.AddDate(0, -1, 0), month)
	case "last_quarter":
		return span(quarter.AddDate(0, -3, 0), quarter)
	case "last_year":
		return span(year.AddDate(-1, 0, 0), year)
	case "all_time":
		return nil, nil, nil
	}
	return nil, nil, fmt.Errorf("unknown preset %q", name)
}

var locations sync.Map // zone name -> *time.Location

// location is the dashboard's time zone (UTC when empty or unknown: load-time checks report it).
func location(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		l = time.UTC
	}
	locations.Store(name, l)
	return l
}
