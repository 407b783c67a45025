package schedule

import "unicode/utf8"

const hexDigits = "0123456789ABCDEF"

// escapeRows applies osquery's escapeNonPrintableBytesEx to every value of
// differential (non-snapshot) results, as osqueryd's scheduler does before it
// stores and diffs them: control bytes (below 0x20) and bytes that are not
// part of valid UTF-8 become the four characters \xHH (upper-case hex);
// valid UTF-8 is kept (osquery made the escaping UTF-8 aware in 2026, PR
// #8777; before that every byte >= 0x80 was escaped). Snapshot results are
// not escaped, as in osquery.
func escapeRows(rows []Row) {
	for _, r := range rows {
		for k, v := range r {
			if needsEscape(v) {
				r[k] = escapeValue(v)
			}
		}
	}
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 {
			return true
		}
	}
	return !utf8.ValidString(s)
}

func escapeValue(s string) string {
	b := make([]byte, 0, len(s)+16)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c < 0x20:
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xF])
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n <= 1 {
				b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xF])
				i++
				continue
			}
			b = append(b, s[i:i+n]...)
			i += n
		}
	}
	return string(b)
}
