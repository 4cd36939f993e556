// Package rls holds the viewer context that row-level security is evaluated against, and the
// rewriting of the __aibi_external_value identifier in dataset SQL into a bound parameter. It is
// pure: no database, HTTP or storage code.
package rls

import (
	"errors"
	"fmt"
	"strings"
)

// Viewer is who is looking at a dashboard, as carried by the embed token.
type Viewer struct {
	// ID is the host application's viewer id (external_viewer_id), for audit.
	ID string
	// ExternalValue is the token's external_value; nil when the token carries none.
	ExternalValue *string
	// Attributes are the named values structured RLS rules read (a single string is a
	// one-element list).
	Attributes map[string][]string
}

// ExternalValueIdent is the bare identifier dataset SQL uses for the viewer's external value.
const ExternalValueIdent = "__aibi_external_value"

// Errors of the SQL scanner. They name byte offsets, never the SQL text.
var (
	// ErrUnterminated: a string literal, quoted identifier or block comment does not end.
	ErrUnterminated = errors.New("rls: unterminated literal or comment")
	// ErrMultipleStatements: the SQL holds more than one statement.
	ErrMultipleStatements = errors.New("rls: more than one SQL statement")
)

// RewriteExternalValue replaces every bare identifier __aibi_external_value in sql (compared
// case-insensitively, as unquoted SQL identifiers are) with placeholder(), called once per
// occurrence in text order, and reports how many it replaced.
//
// It leaves alone: string literals ('..' with ” escapes, E'..' with backslash escapes), quoted
// identifiers (".." and `..`), line comments (--), block comments (/* */, nested as in
// PostgreSQL), dollar-quoted strings ($tag$..$tag$), longer identifiers that contain the name
// (x__aibi_external_value, __aibi_external_value2, a$__aibi_external_value), and qualified names
// (t.__aibi_external_value is a column of t, __aibi_external_value.x a column of a table so
// named): only the bare name stands for the viewer's value.
//
// An unterminated literal or comment is ErrUnterminated and a second statement after a ';' is
// ErrMultipleStatements; a single trailing ';' (followed only by whitespace or comments) is
// accepted and kept.
func RewriteExternalValue(sql string, placeholder func() string) (out string, n int, err error) {
	return scan(sql, placeholder, false)
}

// PrepareDataset is RewriteExternalValue for SQL about to be wrapped as a subquery: it also drops
// a trailing statement terminator ';' (replacing it with a space), which a subquery cannot hold.
func PrepareDataset(sql string, placeholder func() string) (out string, n int, err error) {
	return scan(sql, placeholder, true)
}

func isIdentStart(c byte) bool {
	return c == '_' || (c|0x20) >= 'a' && (c|0x20) <= 'z' || c >= 0x80
}

// isIdentPart covers PostgreSQL's identifier characters: letters, digits, '_', '$' and any
// non-ASCII byte (DuckDB is a subset).
func isIdentPart(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '$'
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// scan walks sql once, copying it to the output and replacing bare occurrences of the identifier.
func scan(sql string, placeholder func() string, dropTerminator bool) (string, int, error) {
	var b strings.Builder
	b.Grow(len(sql))
	n := 0
	afterDot := false // the previous significant token was '.'
	terminated := -1  // offset of a statement-ending ';', once seen
	i := 0
	for i < len(sql) {
		c := sql[i]
		start := i
		if terminated >= 0 && !isSpace(c) && !(c == '-' && i+1 < len(sql) && sql[i+1] == '-') &&
			!(c == '/' && i+1 < len(sql) && sql[i+1] == '*') {
			return "", 0, fmt.Errorf("%w: text after the ';' at byte %d", ErrMultipleStatements, terminated)
		}
		switch {
		case isSpace(c):
			i++
			b.WriteByte(c)
			continue // whitespace keeps afterDot
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			end := strings.IndexByte(sql[i:], '\n')
			if end < 0 {
				i = len(sql)
			} else {
				i += end + 1
			}
			b.WriteString(sql[start:i])
			continue
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end, err := blockCommentEnd(sql, i)
			if err != nil {
				return "", 0, err
			}
			i = end
			b.WriteString(sql[start:i])
			continue
		case c == '\'':
			end, err := quotedEnd(sql, i, '\'', false)
			if err != nil {
				return "", 0, err
			}
			i = end
		case c == '"' || c == '`':
			end, err := quotedEnd(sql, i, c, false)
			if err != nil {
				return "", 0, err
			}
			i = end
		case c == '$' && dollarTag(sql, i) > 0:
			tagLen := dollarTag(sql, i)
			tag := sql[i : i+tagLen]
			end := strings.Index(sql[i+tagLen:], tag)
			if end < 0 {
				return "", 0, fmt.Errorf("%w: dollar-quoted string at byte %d", ErrUnterminated, i)
			}
			i += tagLen + end + tagLen
		case c >= '0' && c <= '9':
			// A number, with whatever letters follow it (1e5, 0x1F, 1_000): never an identifier.
			for i < len(sql) && (isIdentPart(sql[i]) || sql[i] == '.') {
				i++
			}
		case isIdentStart(c):
			for i < len(sql) && isIdentPart(sql[i]) {
				i++
			}
			word := sql[start:i]
			if (word == "e" || word == "E") && i < len(sql) && sql[i] == '\'' {
				end, err := quotedEnd(sql, i, '\'', true)
				if err != nil {
					return "", 0, err
				}
				i = end
				break
			}
			if strings.EqualFold(word, ExternalValueIdent) && !afterDot && !followedByDot(sql, i) {
				b.WriteString(placeholder())
				n++
				afterDot = false
				continue
			}
		case c == ';':
			i++
			terminated = start
			afterDot = false
			if dropTerminator {
				b.WriteByte(' ')
				continue
			}
			b.WriteByte(c)
			continue
		default:
			i++
		}
		afterDot = c == '.'
		b.WriteString(sql[start:i])
	}
	return b.String(), n, nil
}

// quotedEnd returns the offset just past the closing quote of the literal or quoted identifier
// opening at sql[i] == q. A doubled quote is an escaped quote; with backslash, '\' escapes the
// next byte (E'..' strings).
func quotedEnd(sql string, i int, q byte, backslash bool) (int, error) {
	j := i + 1
	for j < len(sql) {
		switch sql[j] {
		case '\\':
			if backslash {
				j += 2
				continue
			}
		case q:
			if j+1 < len(sql) && sql[j+1] == q {
				j += 2
				continue
			}
			return j + 1, nil
		}
		j++
	}
	what := "string literal"
	if q != '\'' {
		what = "quoted identifier"
	}
	return 0, fmt.Errorf("%w: %s at byte %d", ErrUnterminated, what, i)
}

// blockCommentEnd returns the offset just past the block comment opening at i, counting nested
// /* */ pairs as PostgreSQL does.
func blockCommentEnd(sql string, i int) (int, error) {
	depth := 0
	j := i
	for j+1 < len(sql) {
		switch {
		case sql[j] == '/' && sql[j+1] == '*':
			depth++
			j += 2
		case sql[j] == '*' && sql[j+1] == '/':
			depth--
			j += 2
			if depth == 0 {
				return j, nil
			}
		default:
			j++
		}
	}
	return 0, fmt.Errorf("%w: block comment at byte %d", ErrUnterminated, i)
}

// dollarTag returns the length of a dollar-quote opening tag ($$ or $name$) at sql[i], or 0 when
// sql[i] starts no tag ($1 is a parameter, not a tag: a tag cannot start with a digit).
func dollarTag(sql string, i int) int {
	j := i + 1
	if j < len(sql) && isIdentStart(sql[j]) {
		for j < len(sql) && isIdentPart(sql[j]) && sql[j] != '$' {
			j++
		}
	}
	if j < len(sql) && sql[j] == '$' {
		return j + 1 - i
	}
	return 0
}

// followedByDot reports whether the next significant character after i is '.', which makes the
// word before it a qualifier rather than a bare identifier.
func followedByDot(sql string, i int) bool {
	for i < len(sql) && isSpace(sql[i]) {
		i++
	}
	return i < len(sql) && sql[i] == '.'
}
