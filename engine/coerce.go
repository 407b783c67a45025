package engine

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/osquery/osquery-go/plugin/table"
)

// How osqueryd turns the strings an extension returns into SQLite values
// (DynamicTableRow::get_column in osquery/core/sql):
//
//   - TEXT and BLOB: the string as is. A missing key reads as "": osquery
//     looks the column up with std::map::operator[], which inserts it.
//   - INTEGER, BIGINT, UNSIGNED BIGINT, DOUBLE: "" is NULL.
//   - INTEGER: std::stol(value, base 0), then sqlite3_result_int, which keeps
//     the low 32 bits.
//   - BIGINT and UNSIGNED BIGINT: std::stoll(value, base 0). Values above
//     2^63-1 are out of range, hence NULL, even for UNSIGNED BIGINT.
//   - std::stol/stoll never check how much of the string was used: leading
//     white space is skipped and trailing garbage ignored ("12abc" is 12,
//     "08" is 0). No digits at all, or overflow, is NULL.
//   - DOUBLE: strtod, and the whole string must be consumed.
//   - Any other type (UNKNOWN): no result, which SQLite reads as NULL.

type valueKind uint8

const (
	kindText   valueKind = iota // TEXT, BLOB
	kindInt32                   // INTEGER
	kindInt64                   // BIGINT, UNSIGNED BIGINT
	kindDouble                  // DOUBLE
	kindNull                    // anything else
)

func kindOf(t table.ColumnType) valueKind {
	switch t {
	case table.ColumnTypeText, table.ColumnTypeBlob:
		return kindText
	case table.ColumnTypeInteger:
		return kindInt32
	case table.ColumnTypeBigInt, table.ColumnTypeUnsignedBigInt:
		return kindInt64
	case table.ColumnTypeDouble:
		return kindDouble
	}
	return kindNull
}

// cellType is the SQLite type a returned string becomes.
type cellType uint8

const (
	cellNull cellType = iota
	cellInt
	cellFloat
	cellText
)

// coerce turns the string v that a table returned for a column of kind k
// into what osqueryd hands SQLite. For cellInt the value is in i, for
// cellFloat in f; cellText means v as is.
func coerce(k valueKind, v string) (t cellType, i int64, f float64) {
	switch k {
	case kindText:
		return cellText, 0, 0
	case kindInt32:
		if x, ok := parseCInt(v); ok {
			return cellInt, int64(int32(x)), 0 // sqlite3_result_int: low 32 bits
		}
	case kindInt64:
		if x, ok := parseCInt(v); ok {
			return cellInt, x, 0
		}
	case kindDouble:
		if x, ok := parseCDouble(v); ok {
			return cellFloat, 0, x
		}
	}
	return cellNull, 0, 0
}

// cIsSpace reports whether b is white space for isspace() in the C locale.
func cIsSpace(b byte) bool {
	return b == ' ' || (b >= '\t' && b <= '\r')
}

// parseCInt parses s like C's strtoll(s, &end, 0) as called through
// std::stoll: it reports ok=false when no digits were converted or the value
// does not fit an int64, and ignores whatever follows the digits.
func parseCInt(s string) (int64, bool) {
	i := 0
	for i < len(s) && cIsSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	base := uint64(10)
	if i < len(s) && s[i] == '0' {
		if i+2 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') && hexDigit(s[i+2]) >= 0 {
			base = 16
			i += 2
		} else {
			base = 8
		}
	}
	// The magnitude limit: 2^63 for a negative result, 2^63-1 otherwise.
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var n uint64
	digits := 0
	overflow := false
	for ; i < len(s); i++ {
		d := hexDigit(s[i])
		if d < 0 || uint64(d) >= base {
			break
		}
		digits++
		if overflow {
			continue
		}
		if n > (limit-uint64(d))/base {
			overflow = true
			continue
		}
		n = n*base + uint64(d)
	}
	if digits == 0 || overflow {
		return 0, false
	}
	if neg {
		return int64(-n), true // -2^63 wraps to itself
	}
	return int64(n), true
}

func hexDigit(b byte) int {
	switch {
	case b >= '0' && b <= '9':
		return int(b - '0')
	case b >= 'a' && b <= 'f':
		return int(b-'a') + 10
	case b >= 'A' && b <= 'F':
		return int(b-'A') + 10
	}
	return -1
}

// parseCDouble parses s like C's strtod with the requirement that the whole
// string is consumed. Overflow gives ±Inf, as strtod does (osquery ignores
// errno).
func parseCDouble(s string) (float64, bool) {
	// osquery passes value.c_str(): the string ends at its first NUL.
	if n := strings.IndexByte(s, 0); n >= 0 {
		s = s[:n]
	}
	i := 0
	for i < len(s) && cIsSpace(s[i]) {
		i++
	}
	s = s[i:]
	if s == "" || strings.IndexByte(s, '_') >= 0 {
		return 0, false
	}
	// strtod accepts hexadecimal floats without a binary exponent; Go does not.
	body := strings.TrimLeft(s, "+-")
	if len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') && !strings.ContainsAny(body, "pP") {
		s += "p0"
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}
