package rcache

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/inlay/inlay/internal/datasource"
)

// A result is stored in a compact binary form that keeps every cell's Go type (the datasource
// contract's: nil, bool, int64, float64, string, json.Number, time.Time), so an answer served
// from Redis is the same value the query produced, not a JSON approximation of it.

const codecVersion = 1

var errCodec = errors.New("rcache: malformed entry")

func encode(res *datasource.Result) ([]byte, error) {
	b := []byte{codecVersion}
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(len(res.Columns)))
	for _, c := range res.Columns {
		str(c.Name)
		str(c.Type)
	}
	if res.Truncated {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(res.Rows)))
	for _, row := range res.Rows {
		b = binary.AppendUvarint(b, uint64(len(row)))
		for _, cell := range row {
			switch v := cell.(type) {
			case nil:
				b = append(b, 'n')
			case bool:
				if v {
					b = append(b, 'T')
				} else {
					b = append(b, 'F')
				}
			case int64:
				b = binary.AppendVarint(append(b, 'i'), v)
			case float64:
				b = binary.BigEndian.AppendUint64(append(b, 'd'), math.Float64bits(v))
			case string:
				b = append(b, 's')
				str(v)
			case json.Number:
				b = append(b, 'N')
				str(string(v))
			case time.Time:
				t, err := v.MarshalBinary()
				if err != nil {
					return nil, err
				}
				b = append(b, 't')
				str(string(t))
			default:
				return nil, fmt.Errorf("rcache: cannot store a %T cell", cell)
			}
		}
	}
	return b, nil
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err, r.b = errCodec, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n uint64) []byte {
	if n > uint64(len(r.b)) {
		r.err, r.b = errCodec, nil
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) str() string { return string(r.bytes(r.uvarint())) }

// count reads a length and checks it against what the remaining bytes can hold (each element
// takes at least one byte), so a corrupt entry cannot ask for a huge allocation.
func (r *reader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err, r.b = errCodec, nil
		return 0
	}
	return int(n)
}

func decode(b []byte) (*datasource.Result, error) {
	if len(b) == 0 || b[0] != codecVersion {
		return nil, errCodec
	}
	r := &reader{b: b[1:]}
	res := &datasource.Result{Columns: make([]datasource.Column, r.count())}
	for i := range res.Columns {
		res.Columns[i] = datasource.Column{Name: r.str(), Type: r.str()}
	}
	tb := r.bytes(1)
	res.Truncated = len(tb) == 1 && tb[0] == 1
	res.Rows = make([][]any, r.count())
	for i := range res.Rows {
		row := make([]any, r.count())
		for j := range row {
			tag := r.bytes(1)
			if r.err != nil {
				return nil, r.err
			}
			switch tag[0] {
			case 'n':
			case 'T':
				row[j] = true
			case 'F':
				row[j] = false
			case 'i':
				v, n := binary.Varint(r.b)
				if n <= 0 {
					return nil, errCodec
				}
				r.b = r.b[n:]
				row[j] = v
			case 'd':
				fb := r.bytes(8)
				if r.err != nil {
					return nil, r.err
				}
				row[j] = math.Float64frombits(binary.BigEndian.Uint64(fb))
			case 's':
				row[j] = r.str()
			case 'N':
				row[j] = json.Number(r.str())
			case 't':
				var t time.Time
				if err := t.UnmarshalBinary(r.bytes(r.uvarint())); err != nil {
					return nil, errCodec
				}
				row[j] = t
			default:
				return nil, errCodec
			}
			if r.err != nil {
				return nil, r.err
			}
		}
		res.Rows[i] = row
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, errCodec
	}
	return res, nil
}
