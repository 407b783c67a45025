// Package jsonstr writes JSON string literals with the escaping rules of the
// writers whose output this project reproduces byte for byte. The rules
// differ only in which bytes they escape, so one Append takes the rule as a
// Mode:
//
//	byte(s)             Rapid       Boost       Journal        Std (encoding/json)
//	'"' '\\'            \" \\       \" \\       \" \\          \" \\
//	'/'                 /           \/          /              /
//	\n \r \t            \n \r \t    \n \r \t    \n \r \t       \n \r \t
//	\b \f               \b \f       \b \f       \u0008 \u000c  \b \f
//	other bytes < 0x20  \u00XX      \u00XX      \u00xx         \u00xx
//	DEL (0x7f)          as is       as is       \u007f         as is
//	'<' '>' '&'         as is       as is       as is          \u003c \u003e \u0026
//	U+2028, U+2029      as is       as is       as is          \u2028 \u2029
//	invalid UTF-8       as is       as is       as is          \ufffd
//	other non-ASCII     as is       as is       as is          as is
package jsonstr

import "encoding/json"

// Mode names a JSON writer's string escaping.
type Mode uint8

const (
	// Rapid is rapidjson's Writer, which osqueryd's result and status lines
	// go through (schedule's line formats).
	Rapid Mode = iota
	// Boost is Boost.PropertyTree's write_json (1.77), which osquery's asl
	// table uses for its extra column: Rapid, plus '/' written as "\/".
	Boost
	// Journal is journalctl -o json's (for values that are valid UTF-8).
	Journal
	// Std is encoding/json's default (HTML-safe) string encoding, used
	// where no osquery output is reproduced.
	Std
)

// plain[m][c] is true for a byte that mode m copies unescaped.
var plain [Std][256]bool

func init() {
	for c := 0x20; c < 256; c++ {
		plain[Rapid][c] = c != '"' && c != '\\'
		plain[Boost][c] = c != '"' && c != '\\' && c != '/'
		plain[Journal][c] = c != '"' && c != '\\' && c != 0x7f
	}
}

// Append appends s (a string or a byte slice) to dst as a JSON string
// literal, quotes included, escaped as m's writer does.
func Append[S ~string | ~[]byte](dst []byte, s S, m Mode) []byte {
	if m == Std {
		enc, _ := json.Marshal(string(s)) // a string always marshals
		return append(dst, enc...)
	}
	hex := "0123456789ABCDEF"
	if m == Journal {
		hex = "0123456789abcdef"
	}
	keep := &plain[m]
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if keep[c] {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch {
		case c == '"' || c == '\\' || c == '/':
			dst = append(dst, '\\', c)
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\b' && m != Journal:
			dst = append(dst, '\\', 'b')
		case c == '\f' && m != Journal:
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
