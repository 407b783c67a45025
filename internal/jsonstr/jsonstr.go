// Package jsonstr writes JSON string literals with the escaping rules of the
// writers whose output this project reproduces byte for byte. The rules
// differ only in which bytes they escape, so one Append takes the rule as a
// Mode:
//
//	byte(s)                  Rapid       Boost       Std (encoding/json)
//	'"' '\\'                 \" \\       \" \\       \" \\
//	'/'                      /           \/          /
//	\b \f \n \r \t           \b \f ...   \b \f ...   \b \f ...
//	other bytes < 0x20       \u00XX      \u00XX      \u00xx
//	'<' '>' '&'              as is       as is       \u003c \u003e \u0026
//	U+2028, U+2029           as is       as is       \u2028 \u2029
//	invalid UTF-8            as is       as is       \ufffd
//	DEL, other non-ASCII     as is       as is       as is
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
	// Std is encoding/json's default (HTML-safe) string encoding, used
	// where no osquery output is reproduced.
	Std
)

const hexDigits = "0123456789ABCDEF"

// plain[m][c] is true for a byte that mode m copies unescaped.
var plain [2][256]bool

func init() {
	for c := 0x20; c < 256; c++ {
		plain[Rapid][c] = c != '"' && c != '\\'
		plain[Boost][c] = c != '"' && c != '\\' && c != '/'
	}
}

// Append appends s to dst as a JSON string literal, quotes included,
// escaped as m's writer does.
func Append(dst []byte, s string, m Mode) []byte {
	if m == Std {
		enc, _ := json.Marshal(s) // a string always marshals
		return append(dst, enc...)
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
		switch c {
		case '"', '\\', '/':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
