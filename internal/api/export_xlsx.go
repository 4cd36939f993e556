package api

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
)

// xlsxContentType is the media type of an .xlsx workbook.
const xlsxContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// wantsXLSX reports whether an export asks for a workbook (?format=xlsx or that Accept type).
func wantsXLSX(format, accept string) bool {
	return strings.EqualFold(format, "xlsx") || strings.Contains(accept, xlsxContentType)
}

// columnFormats maps a widget's result columns to their dashboard number formats.
func columnFormats(w *dashboard.Widget) map[string]string {
	out := map[string]string{}
	add := func(f *dashboard.Field) {
		if f != nil && f.Key != "" {
			if _, seen := out[f.Key]; !seen {
				out[f.Key] = f.Format
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

// excelFormat is the spreadsheet number format for a column: the dashboard's format where it
// names one, whole numbers without separators for ids, dates and times as dates.
func excelFormat(col datasource.Column, label, format string) string {
	switch format {
	case dashboard.FormatCurrency:
		return `"$"#,##0.00`
	case dashboard.FormatPercent:
		return "0.0%"
	case dashboard.FormatInteger:
		return "#,##0"
	case dashboard.FormatCompact, dashboard.FormatNumber:
		return "#,##0.##"
	}
	switch col.Type {
	case datasource.TypeTimestamp:
		return "yyyy-mm-dd hh:mm"
	case "date":
		return "yyyy-mm-dd"
	case "integer":
		if isIDColumn(col.Name, label) {
			return "0"
		}
		return "#,##0"
	case "float", "decimal":
		return "#,##0.##"
	}
	return ""
}

func isIDColumn(key, label string) bool {
	k := strings.ToLower(key)
	if k == "id" || strings.HasSuffix(k, "_id") {
		return true
	}
	for _, w := range strings.Fields(strings.ToLower(label)) {
		if w == "id" {
			return true
		}
	}
	return false
}

// writeXLSX writes an export as a one-sheet workbook: the viewer's labels as a bold header,
// numbers as numbers with the widget's formats, times as spreadsheet dates (UTC).
func writeXLSX(w io.Writer, sheet string, res *datasource.Result, wd *dashboard.Widget) error {
	f := excelize.NewFile()
	defer f.Close()
	name := sheetName(sheet)
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	labels, formats := columnLabels(wd), columnFormats(wd)
	header := make([]any, len(res.Columns))
	styles := make([]int, len(res.Columns))
	for i, col := range res.Columns {
		label := col.Name
		if l, ok := labels[col.Name]; ok {
			label = l
		}
		if col.Type == datasource.TypeTimestamp {
			label += " (UTC)"
		}
		header[i] = excelize.Cell{StyleID: bold, Value: label}
		if nf := excelFormat(col, label, formats[col.Name]); nf != "" {
			if styles[i], err = f.NewStyle(&excelize.Style{CustomNumFmt: &nf}); err != nil {
				return err
			}
		}
		width := float64(len(label) + 4)
		if width < 12 {
			width = 12
		}
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return err
		}
	}
	// The header row stays in view while the rows scroll.
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := sw.SetRow("A1", header, excelize.RowOpts{Height: 18}); err != nil {
		return err
	}
	row := make([]any, len(res.Columns))
	for r, values := range res.Rows {
		for i, v := range values {
			row[i] = excelize.Cell{StyleID: styles[i], Value: xlsxValue(v)}
		}
		cell, err := excelize.CoordinatesToCellName(1, r+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(cell, row); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.Write(w)
}

// xlsxValue is a cell's value as the workbook stores it: numbers as numbers (decimals arrive
// as json.Number), times in UTC, text as text (with formula injection defused).
func xlsxValue(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case time.Time:
		return x.UTC()
	case json.Number:
		if f, err := strconv.ParseFloat(x.String(), 64); err == nil {
			return f
		}
		return x.String()
	case string:
		return csvSafe(x)
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, bool:
		return x
	default:
		return csvSafe(fmt.Sprint(x))
	}
}

// sheetName is a valid worksheet name: at most 31 characters, none of : \ / ? * [ ].
func sheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) {
			return ' '
		}
		return r
	}, s)
	if s = strings.TrimSpace(s); s == "" {
		s = "Data"
	}
	if r := []rune(s); len(r) > 31 {
		s = string(r[:31])
	}
	return s
}
