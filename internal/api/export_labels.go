package api

import (
	"encoding/csv"
	"io"
	"time"

	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
)

// columnLabels maps a widget's result columns (field keys) to the labels the viewer shows, so
// an export's header reads "Revenue", not "sum_amount".
func columnLabels(w *dashboard.Widget) map[string]string {
	out := map[string]string{}
	add := func(f *dashboard.Field) {
		if f != nil && f.Key != "" && f.Label != "" {
			if _, seen := out[f.Key]; !seen {
				out[f.Key] = f.Label
			}
		}
	}
	for _, f := range []*dashboard.Field{w.Value, w.X, w.Series, w.Label} {
		add(f)
	}
	for _, list := range [][]dashboard.Field{w.Y, w.Columns, w.Rows, w.PivotColumns, w.Values} {
		for i := range list {
			add(&list[i])
		}
	}
	return out
}

// writeLabeledCSV writes an export with the viewer's column labels and times a spreadsheet
// reads as times ("2025-12-30 08:15:00", UTC; a date without a time when it is midnight).
func writeLabeledCSV(w io.Writer, res *datasource.Result, labels map[string]string) error {
	cw := csv.NewWriter(w)
	row := make([]string, len(res.Columns))
	for i, col := range res.Columns {
		name := col.Name
		if l, ok := labels[col.Name]; ok {
			name = l
		}
		if col.Type == datasource.TypeTimestamp {
			name += " (UTC)"
		}
		row[i] = csvSafe(name)
	}
	if err := cw.Write(row); err != nil {
		return err
	}
	for _, r := range res.Rows {
		for i, v := range r {
			if t, ok := v.(time.Time); ok {
				t = t.UTC()
				if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
					row[i] = t.Format(time.DateOnly)
				} else {
					row[i] = t.Format(time.DateTime)
				}
				continue
			}
			row[i] = csvSafe(csvText(v))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
