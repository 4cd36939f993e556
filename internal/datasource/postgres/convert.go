package postgres

import (
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/inlay/inlay/internal/datasource"
)

// binaryOIDs are the types read in PostgreSQL's binary format, decoded by pgx without parsing
// text. Every other type (numeric, text, intervals, uuids, arrays, json...) is requested in text
// format: numeric text is exact, and for the rest the engine's text form is what the contract
// asks for.
var binaryOIDs = pgx.QueryResultFormatsByOID{
	pgtype.BoolOID:        pgx.BinaryFormatCode,
	pgtype.Int2OID:        pgx.BinaryFormatCode,
	pgtype.Int4OID:        pgx.BinaryFormatCode,
	pgtype.Int8OID:        pgx.BinaryFormatCode,
	pgtype.Float4OID:      pgx.BinaryFormatCode,
	pgtype.Float8OID:      pgx.BinaryFormatCode,
	pgtype.TimestampOID:   pgx.BinaryFormatCode,
	pgtype.TimestamptzOID: pgx.BinaryFormatCode,
	pgtype.DateOID:        pgx.BinaryFormatCode,
}

// column holds one reusable scan target and reads the contract value out of it after each row.
type column struct {
	target any
	value  func() any // nil for SQL NULL
}

// newColumn picks the contract type and scan target for a result column's type OID.
func newColumn(oid uint32) (string, column) {
	switch oid {
	case pgtype.BoolOID:
		var v pgtype.Bool
		return datasource.TypeBoolean, column{&v, func() any {
			if !v.Valid {
				return nil
			}
			return v.Bool
		}}
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID:
		var v pgtype.Int8
		return datasource.TypeInteger, column{&v, func() any {
			if !v.Valid {
				return nil
			}
			return v.Int64
		}}
	case pgtype.Float4OID, pgtype.Float8OID:
		var v pgtype.Float8
		return datasource.TypeFloat, column{&v, func() any {
			if !v.Valid {
				return nil
			}
			return v.Float64
		}}
	case pgtype.TimestampOID:
		var v pgtype.Timestamp
		return datasource.TypeTimestamp, column{&v, func() any {
			// ±infinity has no time.Time; it is reported as NULL.
			if !v.Valid || v.InfinityModifier != pgtype.Finite {
				return nil
			}
			return v.Time.UTC()
		}}
	case pgtype.TimestamptzOID:
		var v pgtype.Timestamptz
		return datasource.TypeTimestamp, column{&v, func() any {
			if !v.Valid || v.InfinityModifier != pgtype.Finite {
				return nil
			}
			return v.Time.UTC()
		}}
	case pgtype.DateOID:
		var v pgtype.Date
		return datasource.TypeDate, column{&v, func() any {
			if !v.Valid || v.InfinityModifier != pgtype.Finite {
				return nil
			}
			return v.Time.Format(time.DateOnly)
		}}
	case pgtype.NumericOID:
		var v pgtype.Text
		return datasource.TypeDecimal, column{&v, func() any {
			if !v.Valid {
				return nil
			}
			switch v.String {
			case "NaN", "Infinity", "-Infinity":
				// Not a JSON number; reported as NULL rather than breaking the response.
				return nil
			}
			return json.Number(v.String)
		}}
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.QCharOID:
		return datasource.TypeString, textColumn()
	}
	return datasource.TypeOther, textColumn()
}

func textColumn() column {
	var v pgtype.Text
	return column{&v, func() any {
		if !v.Valid {
			return nil
		}
		return v.String
	}}
}
