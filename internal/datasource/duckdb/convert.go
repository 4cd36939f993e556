package duckdb

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/inlay/inlay/internal/datasource"
)

// converter turns one non-NULL value as the driver returns it into the contract's Go type.
type converter func(v any) any

// columnKind maps DuckDB's type name (as reported by the driver) to a contract type and the
// converter for its values. It is decided once per column, not per value.
func columnKind(dbType string) (string, converter) {
	switch dbType {
	case "BOOLEAN":
		return datasource.TypeBoolean, asIs
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER":
		return datasource.TypeInteger, toInt64
	case "UBIGINT", "HUGEINT", "UHUGEINT", "BIGNUM":
		// May not fit int64 (SUM over integers is HUGEINT in DuckDB): exact decimal text.
		return datasource.TypeDecimal, bigToNumber
	case "FLOAT", "DOUBLE":
		return datasource.TypeFloat, toFloat64
	case "VARCHAR", "ENUM":
		return datasource.TypeString, asIs
	case "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMPTZ":
		return datasource.TypeTimestamp, toUTC
	case "DATE":
		return datasource.TypeDate, toDate
	case "UUID":
		return datasource.TypeOther, uuidText
	}
	if strings.HasPrefix(dbType, "DECIMAL") {
		return datasource.TypeDecimal, decimalToNumber
	}
	return datasource.TypeOther, otherText
}

func asIs(v any) any { return v }

func toInt64(v any) any {
	switch n := v.(type) {
	case int8:
		return int64(n)
	case int16:
		return int64(n)
	case int32:
		return int64(n)
	case int64:
		return v // already the right type: avoid boxing it again
	case uint8:
		return int64(n)
	case uint16:
		return int64(n)
	case uint32:
		return int64(n)
	}
	return otherText(v)
}

func toFloat64(v any) any {
	switch f := v.(type) {
	case float32:
		return float64(f)
	case float64:
		return v
	}
	return otherText(v)
}

func toUTC(v any) any {
	if t, ok := v.(time.Time); ok {
		if t.Location() == time.UTC {
			return v
		}
		return t.UTC()
	}
	return otherText(v)
}

func toDate(v any) any {
	if t, ok := v.(time.Time); ok {
		return t.UTC().Format(time.DateOnly)
	}
	return otherText(v)
}

func bigToNumber(v any) any {
	switch n := v.(type) {
	case *big.Int:
		return json.Number(n.String())
	case uint64:
		return json.Number(strconv.FormatUint(n, 10))
	}
	return otherText(v)
}

// decimalToNumber formats a DECIMAL keeping its declared scale ("1234.50", not "1234.5"), the
// same text PostgreSQL gives for NUMERIC. The driver's own Decimal.String trims trailing zeros.
func decimalToNumber(v any) any {
	d, ok := v.(duckdb.Decimal)
	if !ok || d.Value == nil {
		return otherText(v)
	}
	digits := d.Value.String()
	sign := ""
	if digits[0] == '-' {
		sign, digits = "-", digits[1:]
	}
	scale := int(d.Scale)
	if scale == 0 {
		return json.Number(sign + digits)
	}
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	cut := len(digits) - scale
	return json.Number(sign + digits[:cut] + "." + digits[cut:])
}

// uuidText formats a UUID, which the driver hands over as its 16 raw bytes.
func uuidText(v any) any {
	if b, ok := v.([]byte); ok && len(b) == 16 {
		var u duckdb.UUID
		copy(u[:], b)
		return u.String()
	}
	return otherText(v)
}

// otherText renders types the contract has no dedicated kind for (intervals, UUIDs, lists,
// structs, maps, blobs, times of day) as text.
func otherText(v any) any {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return `\x` + hex.EncodeToString(x)
	case time.Time:
		// TIME and TIMETZ arrive as a time on 0001-01-01.
		return x.Format("15:04:05.999999")
	case duckdb.Interval:
		return intervalText(x)
	case duckdb.Decimal:
		return string(decimalToNumber(x).(json.Number))
	case *big.Int:
		return x.String()
	case fmt.Stringer:
		return x.String()
	}
	if b, err := json.Marshal(v); err == nil {
		// Lists, structs and JSON values: JSON text is readable and unambiguous.
		return string(b)
	}
	return fmt.Sprint(v)
}

// intervalText spells an interval like DuckDB does: "1 year 2 months 3 days 04:05:06".
func intervalText(iv duckdb.Interval) string {
	var b strings.Builder
	part := func(n int64, unit string) {
		if n == 0 {
			return
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatInt(n, 10))
		b.WriteByte(' ')
		b.WriteString(unit)
		if n != 1 && n != -1 {
			b.WriteByte('s')
		}
	}
	part(int64(iv.Months)/12, "year")
	part(int64(iv.Months)%12, "month")
	part(int64(iv.Days), "day")
	if iv.Micros != 0 || b.Len() == 0 {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		m := iv.Micros
		if m < 0 {
			b.WriteByte('-')
			m = -m
		}
		d := time.Duration(m) * time.Microsecond
		fmt.Fprintf(&b, "%02d:%02d:%02d", int64(d/time.Hour), int64(d/time.Minute)%60, int64(d/time.Second)%60)
		if frac := m % 1_000_000; frac != 0 {
			fmt.Fprintf(&b, ".%06d", frac)
		}
	}
	return b.String()
}
