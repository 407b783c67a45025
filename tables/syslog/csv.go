package syslog

import (
	"bytes"
	"errors"
	"strings"
)

// Message is one rsyslog CSV record, split and cleaned exactly as osquery's
// syslog publisher does: every field unquoted, then trimmed of ASCII
// whitespace, and one trailing ':' removed from Tag. No field is validated.
type Message struct {
	Datetime string // CSV field 1, raw (rsyslog's date-rfc3339, e.g. 2016-03-22T21:17:01.701882+00:00)
	Host     string // field 2
	Severity string // field 3, numeric syslog severity as text
	Facility string // field 4, e.g. cron
	Tag      string // field 5, e.g. CRON[16538] (rsyslog's "CRON[16538]:")
	Message  string // field 6
}

// NumFields is the number of CSV fields of an rsyslog line in osquery's
// template: timestamp, hostname, severity, facility, tag, message.
const NumFields = 6

// The parse errors carry osquery's exact wording so that admins who know
// osquery's "... in line: ..." logs recognise them.
var (
	ErrFewerFields = errors.New("Received fewer fields than expected") //nolint:staticcheck // osquery's wording
	ErrMoreFields  = errors.New("Received more fields than expected")  //nolint:staticcheck // osquery's wording
)

// ParseLine parses one line (without its newline) of osquery's rsyslog CSV
// template. A trailing '\r' is ignored. The returned strings share one
// allocation.
//
// The tokenizer is osquery's RsyslogCsvSeparator: ',' separates fields
// outside quotes; '"' opens and closes quoting and is dropped; inside quotes
// '""' is a literal '"'; text outside quotes is kept (a"b,c"d is "ab,cd"); an
// unterminated quote runs to the end of the line. Backslashes are literal.
func ParseLine(line []byte) (Message, error) {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) == 0 {
		return Message{}, ErrFewerFields
	}
	// Unquoting never makes a token longer, so all tokens fit in one buffer
	// the size of the line (on the stack for usual lines); the fields are
	// sub-strings of the one string made from it.
	var scratch [512]byte
	buf := scratch[:0]
	if len(line) > len(scratch) {
		buf = make([]byte, 0, len(line))
	}
	var span [NumFields][2]int
	i := 0
	for f := 0; ; f++ {
		var sep bool
		start := len(buf)
		i, sep, buf = appendToken(buf, line, i)
		span[f] = trimSpan(buf, start)
		if !sep {
			if f+1 < NumFields {
				return Message{}, ErrFewerFields
			}
			break
		}
		if f+1 == NumFields {
			return Message{}, ErrMoreFields
		}
	}
	s := string(buf)
	field := func(f int) string { return s[span[f][0]:span[f][1]] }
	return Message{
		Datetime: field(0),
		Host:     field(1),
		Severity: field(2),
		Facility: field(3),
		Tag:      strings.TrimSuffix(field(4), ":"),
		Message:  field(5),
	}, nil
}

// appendToken appends the unquoted bytes of the token starting at line[i]
// to buf. It returns the index after the token (after its separator, if
// any) and whether a ',' ended it.
func appendToken(buf, line []byte, i int) (int, bool, []byte) {
	for i < len(line) {
		// Outside quotes: up to the next ',' or '"'.
		j := indexCommaOrQuote(line[i:])
		if j < 0 {
			return len(line), false, append(buf, line[i:]...)
		}
		buf = append(buf, line[i:i+j]...)
		i += j
		if line[i] == ',' {
			return i + 1, true, buf
		}
		// Inside quotes: up to the closing '"'; '""' is a literal '"'.
		i++
		for {
			j := bytes.IndexByte(line[i:], '"')
			if j < 0 { // unterminated: the rest of the line
				return len(line), false, append(buf, line[i:]...)
			}
			buf = append(buf, line[i:i+j]...)
			i += j + 1
			if i < len(line) && line[i] == '"' {
				buf = append(buf, '"')
				i++
				continue
			}
			break
		}
	}
	return i, false, buf
}

// trimSpan is the span of buf[start:] without leading and trailing
// whitespace.
func trimSpan(buf []byte, start int) [2]int {
	end := len(buf)
	for start < end && isSpace(buf[start]) {
		start++
	}
	for end > start && isSpace(buf[end-1]) {
		end--
	}
	return [2]int{start, end}
}

func indexCommaOrQuote(b []byte) int {
	for i, c := range b {
		if c == ',' || c == '"' {
			return i
		}
	}
	return -1
}

// isSpace is C-locale isspace, which is what boost::trim uses in osquery:
// bytes of multi-byte UTF-8 sequences are never whitespace.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// SplitCSV returns the raw tokens of line as osquery's tokenizer yields them,
// unquoted but neither trimmed nor counted: empty input gives no token, and a
// line ending in ',' ends with an empty token. ParseLine is the hot path;
// SplitCSV exists for diagnostics and tests.
func SplitCSV(line []byte) []string {
	var out []string
	if len(line) == 0 {
		return out
	}
	var tok []byte
	inQuote := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ',' && !inQuote:
			out = append(out, string(tok))
			tok = tok[:0]
		case c == '"' && !inQuote:
			inQuote = true
		case c == '"' && i+1 < len(line) && line[i+1] == '"':
			tok = append(tok, '"')
			i++
		case c == '"':
			inQuote = false
		default:
			tok = append(tok, c)
		}
	}
	return append(out, string(tok))
}
