package pack

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// This file holds a small, allocation-free JSON scanner. The hot path needs
// three things from every line: is it one JSON object, where is the value of
// a top-level "log_type" key (osquery replaces it in place), and where is the
// partition-key field. encoding/json.Valid answers only the first question
// and is about three times slower (BenchmarkValidate: ~370 MB/s against
// ~1.2 GB/s on a 550-byte event line), so Pack validates every line with
// scanTop in the same pass that finds those spans. Validating every line,
// rather than only when parsing is needed anyway, is what keeps a non-JSON
// line from being shipped with a log_type spliced into it. The grammar accepted is exactly encoding/json's (the fuzz
// target FuzzValid checks agreement): RFC 8259 values, whitespace of space,
// tab, CR and LF, at most maxDepth nested containers, and — like
// encoding/json — no UTF-8 validation inside strings.

// maxDepth mirrors encoding/json's nesting limit.
const maxDepth = 10000

// span is a half-open byte range [s, e) into a line; s < 0 means absent.
type span struct{ s, e int }

var none = span{-1, -1}

func (sp span) ok() bool { return sp.s >= 0 }

// strPlain marks bytes that may appear unescaped inside a JSON string and
// need no further attention ('"', '\\' and control bytes are false).
var strPlain [256]bool

var hexDigit [256]bool

func init() {
	for c := 0x20; c < 256; c++ {
		strPlain[c] = c != '"' && c != '\\'
	}
	for _, c := range []byte("0123456789abcdefABCDEF") {
		hexDigit[c] = true
	}
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// needsAttention reports whether any of the eight bytes in w is '"', '\\'
// or a control byte (< 0x20): exactly the bytes strPlain rejects. The
// zero-byte and less-than tests are the classic exact SWAR forms (valid for
// thresholds up to 0x80, so bytes >= 0x80 never count).
func needsAttention(w uint64) bool {
	q := w ^ (ones * '"')
	s := w ^ (ones * '\\')
	return ((w-ones*0x20)&^w|(q-ones)&^q|(s-ones)&^s)&highs != 0
}

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(b []byte, i int) int {
	for i < len(b) && isWS(b[i]) {
		i++
	}
	return i
}

// trimWS trims JSON whitespace from both ends.
func trimWS(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isWS(b[i]) {
		i++
	}
	for j > i && isWS(b[j-1]) {
		j--
	}
	return b[i:j]
}

// scanValue validates the value starting at b[i] (no leading whitespace)
// and returns the index just past it.
func scanValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '"':
		return scanString(b, i)
	case c == '{':
		return scanObject(b, i, depth+1)
	case c == '[':
		return scanArray(b, i, depth+1)
	case c == '-' || (c >= '0' && c <= '9'):
		return scanNumber(b, i)
	case c == 't':
		return scanLit(b, i, "true")
	case c == 'f':
		return scanLit(b, i, "false")
	case c == 'n':
		return scanLit(b, i, "null")
	}
	return i, false
}

func scanLit(b []byte, i int, lit string) (int, bool) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return i, false
}

// scanString expects b[i] == '"'.
func scanString(b []byte, i int) (int, bool) {
	i++
	for {
		// Fast path, eight bytes at a time while none needs attention.
		for i+8 <= len(b) && !needsAttention(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		for i < len(b) && strPlain[b[i]] {
			i++
		}
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case '"':
			return i + 1, true
		case '\\':
			i++
			if i >= len(b) {
				return i, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+4 >= len(b) || !hexDigit[b[i+1]] || !hexDigit[b[i+2]] || !hexDigit[b[i+3]] || !hexDigit[b[i+4]] {
					return i, false
				}
				i += 5
			default:
				return i, false
			}
		default: // control byte
			return i, false
		}
	}
}

func scanDigits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

func scanNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
		if i >= len(b) {
			return i, false
		}
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		i = scanDigits(b, i+1)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := scanDigits(b, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := scanDigits(b, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func scanArray(b []byte, i, depth int) (int, bool) {
	if depth > maxDepth {
		return i, false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for {
		var ok bool
		if i, ok = scanValue(b, i, depth); !ok {
			return i, false
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case ']':
			return i + 1, true
		default:
			return i, false
		}
	}
}

func scanObject(b []byte, i, depth int) (int, bool) {
	if depth > maxDepth {
		return i, false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		var ok bool
		if i >= len(b) || b[i] != '"' {
			return i, false
		}
		if i, ok = scanString(b, i); !ok {
			return i, false
		}
		i = skipWS(b, i)
		if i >= len(b) || b[i] != ':' {
			return i, false
		}
		if i, ok = scanValue(b, skipWS(b, i+1), depth); !ok {
			return i, false
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return i + 1, true
		default:
			return i, false
		}
	}
}

// validJSON reports whether b is exactly one JSON value (surrounding
// whitespace allowed), with the same answer as encoding/json.Valid.
func validJSON(b []byte) bool {
	i := skipWS(b, 0)
	i, ok := scanValue(b, i, 0)
	return ok && skipWS(b, i) == len(b)
}

// topInfo is what scanTop learns about a line's top-level object.
type topInfo struct {
	members int  // number of top-level members
	logType span // value of the first top-level "log_type" member
	field   span // value of the first top-level member named like the partition-key field
}

// scanTop validates that b (already whitespace-trimmed) is exactly one JSON
// object, and records the spans Pack needs in one pass. Keys are compared in
// their raw (escaped) form: a key spelt with escapes such as "log\u005ftype"
// is not recognised, which osquery never produces.
func scanTop(b []byte, field string) (topInfo, bool) {
	info := topInfo{logType: none, field: none}
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return info, false
	}
	i := skipWS(b, 1)
	if b[i] == '}' {
		return info, i+1 == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return info, false
		}
		ks := i + 1
		ke, ok := scanString(b, i)
		if !ok {
			return info, false
		}
		key := b[ks : ke-1]
		i = skipWS(b, ke)
		if i >= len(b) || b[i] != ':' {
			return info, false
		}
		vs := skipWS(b, i+1)
		ve, ok := scanValue(b, vs, 1)
		if !ok {
			return info, false
		}
		info.members++
		if len(key) == 8 && !info.logType.ok() && string(key) == "log_type" {
			info.logType = span{vs, ve}
		}
		if field != "" && len(key) == len(field) && !info.field.ok() && string(key) == field {
			info.field = span{vs, ve}
		}
		i = skipWS(b, ve)
		if i >= len(b) {
			return info, false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return info, i+1 == len(b)
		default:
			return info, false
		}
	}
}

// member is one key/value pair of an already validated object. key excludes
// the quotes.
type member struct{ key, val span }

// members iterates the members of the validated object b[obj.s:obj.e].
// It must only be used on input that scanTop/scanValue accepted.
type members struct {
	b    []byte
	i, e int
}

func iterMembers(b []byte, obj span) members {
	return members{b: b, i: skipWS(b, obj.s+1), e: obj.e}
}

func (it *members) next() (member, bool) {
	b := it.b
	if it.i >= it.e || b[it.i] != '"' {
		return member{}, false
	}
	ke, _ := scanString(b, it.i)
	m := member{key: span{it.i + 1, ke - 1}}
	vs := skipWS(b, skipWS(b, ke)+1)
	ve, _ := scanValue(b, vs, 1)
	m.val = span{vs, ve}
	it.i = skipWS(b, ve)
	if it.i < it.e && b[it.i] == ',' {
		it.i = skipWS(b, it.i+1)
	} else {
		it.i = it.e
	}
	return m, true
}

// elements appends the spans of the elements of the validated array
// b[arr.s:arr.e] to dst.
func elements(dst []span, b []byte, arr span) []span {
	i := skipWS(b, arr.s+1)
	if b[i] == ']' {
		return dst
	}
	for {
		e, _ := scanValue(b, i, 1)
		dst = append(dst, span{i, e})
		i = skipWS(b, e)
		if b[i] != ',' {
			return dst
		}
		i = skipWS(b, i+1)
	}
}

// lookup finds the member named key (raw form) in the validated object.
func lookup(b []byte, obj span, key string) span {
	it := iterMembers(b, obj)
	for {
		m, ok := it.next()
		if !ok {
			return none
		}
		if string(b[m.key.s:m.key.e]) == key {
			return m.val
		}
	}
}

// scalarText turns a JSON scalar into partition-key text: a string's
// unescaped content, or a number's/bool's source text. Objects, arrays,
// null and the empty string yield "" (absent). raw reports whether the
// result aliases b (no unescaping was needed).
func scalarText(b []byte, v span) (text []byte, raw bool) {
	if !v.ok() || v.e <= v.s {
		return nil, true
	}
	switch c := b[v.s]; {
	case c == '"':
		inner := b[v.s+1 : v.e-1]
		if bytes.IndexByte(inner, '\\') < 0 {
			return inner, true
		}
		var s string
		if json.Unmarshal(b[v.s:v.e], &s) != nil {
			return nil, true
		}
		return []byte(s), false
	case c == '-' || (c >= '0' && c <= '9'), c == 't', c == 'f':
		return b[v.s:v.e], true
	}
	return nil, true
}

// truncRunes cuts s to at most n Unicode characters (Kinesis partition keys
// are 1–256 characters) and replaces invalid UTF-8.
func truncRunes(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= n { // at most n bytes means at most n runes
		return s
	}
	i, count := 0, 0
	for i < len(s) && count < n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
	}
	return s[:i]
}
