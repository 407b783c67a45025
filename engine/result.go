package engine

import (
	"bufio"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Value is one result cell.
type Value struct {
	// Text is SQLite's text rendering of the value (integers in decimal,
	// reals as SQLite prints them, text and blobs as stored). Empty for NULL.
	Text string
	// Null is true for SQL NULL.
	Null bool
}

// String returns v.Text; NULL reads as "", as osqueryi prints it.
func (v Value) String() string { return v.Text }

// Result is the outcome of one query: the column names in SELECT order and
// the rows, each with one Value per column.
type Result struct {
	Columns []string
	Rows    [][]Value
}

// WriteTable writes r the way osqueryi's default "pretty" mode does:
//
//	+------+-------+
//	| name | value |
//	+------+-------+
//	| a    | 1     |
//	+------+-------+
//
// Columns are as wide as their widest cell or header, measured in terminal
// cells (East Asian wide characters count two, combining marks none). Like
// osqueryi it writes nothing for a result without rows. NULL prints empty.
func WriteTable(w io.Writer, r *Result) error {
	if r == nil || len(r.Rows) == 0 || len(r.Columns) == 0 {
		return nil
	}
	widths := make([]int, len(r.Columns))
	for i, c := range r.Columns {
		widths[i] = displayWidth(c)
	}
	for _, row := range r.Rows {
		for i := range widths {
			if i < len(row) {
				widths[i] = max(widths[i], displayWidth(row[i].Text))
			}
		}
	}
	bw := bufio.NewWriter(w)
	sep := func() {
		bw.WriteByte('+')
		for _, n := range widths {
			bw.WriteString(strings.Repeat("-", n+2))
			bw.WriteByte('+')
		}
		bw.WriteByte('\n')
	}
	line := func(cell func(i int) string) {
		bw.WriteByte('|')
		for i, n := range widths {
			s := cell(i)
			bw.WriteByte(' ')
			bw.WriteString(s)
			bw.WriteString(strings.Repeat(" ", max(n-displayWidth(s), 0)+1))
			bw.WriteByte('|')
		}
		bw.WriteByte('\n')
	}
	sep()
	line(func(i int) string { return r.Columns[i] })
	sep()
	for _, row := range r.Rows {
		line(func(i int) string {
			if i < len(row) {
				return row[i].Text
			}
			return ""
		})
	}
	sep()
	return bw.Flush()
}

// WriteJSON writes r like `osqueryi --json`: a JSON array with one object
// per row, one row per line, every value a string and NULL as "". Keys follow
// the column order (osqueryi sorts them; column order reads better and
// parses the same).
func WriteJSON(w io.Writer, r *Result) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("[\n")
	if r != nil {
		for n, row := range r.Rows {
			bw.WriteString("  {")
			for i, c := range r.Columns {
				if i > 0 {
					bw.WriteByte(',')
				}
				writeJSONString(bw, c)
				bw.WriteByte(':')
				v := ""
				if i < len(row) {
					v = row[i].Text
				}
				writeJSONString(bw, v)
			}
			bw.WriteByte('}')
			if n < len(r.Rows)-1 {
				bw.WriteByte(',')
			}
			bw.WriteByte('\n')
		}
		if len(r.Rows) == 0 {
			bw.WriteByte('\n')
		}
	} else {
		bw.WriteByte('\n')
	}
	bw.WriteString("]\n")
	return bw.Flush()
}

// writeJSONString quotes s the way osquery's rapidjson writer does: only
// '"', '\\' and control characters are escaped, everything else (including
// '/', '<', '&' and non-ASCII) is written as is. Invalid UTF-8 becomes
// U+FFFD so the output stays valid JSON.
func writeJSONString(bw *bufio.Writer, s string) {
	const hex = "0123456789ABCDEF"
	bw.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				bw.WriteString("\uFFFD")
			} else {
				bw.WriteString(s[i : i+size])
			}
			i += size
			continue
		}
		switch c {
		case '"':
			bw.WriteString(`\"`)
		case '\\':
			bw.WriteString(`\\`)
		case '\b':
			bw.WriteString(`\b`)
		case '\f':
			bw.WriteString(`\f`)
		case '\n':
			bw.WriteString(`\n`)
		case '\r':
			bw.WriteString(`\r`)
		case '\t':
			bw.WriteString(`\t`)
		default:
			if c < 0x20 {
				bw.WriteString(`\u00`)
				bw.WriteByte(hex[c>>4])
				bw.WriteByte(hex[c&0xF])
			} else {
				bw.WriteByte(c)
			}
		}
		i++
	}
	bw.WriteByte('"')
}

// displayWidth is the number of terminal cells s takes: combining marks and
// format characters take none, East Asian wide and fullwidth characters (and
// most emoji) take two, everything else one. Invalid bytes count one each.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	switch {
	case r < 0x300:
		return 1
	case r == 0x200B || unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	case isWide(r):
		return 2
	}
	return 1
}

// wideRanges are the East Asian Wide (W) and Fullwidth (F) blocks, plus the
// emoji blocks terminals draw two cells wide.
var wideRanges = [...][2]rune{
	{0x1100, 0x115F},   // Hangul Jamo initials
	{0x231A, 0x231B},   // watch, hourglass
	{0x2329, 0x232A},   // angle brackets
	{0x23E9, 0x23EC},   // media symbols
	{0x23F0, 0x23F0},   // alarm clock
	{0x23F3, 0x23F3},   // hourglass
	{0x25FD, 0x25FE},   // small squares
	{0x2614, 0x2615},   // umbrella, hot beverage
	{0x2648, 0x2653},   // zodiac
	{0x267F, 0x267F},   // wheelchair
	{0x2693, 0x2693},   // anchor
	{0x26A1, 0x26A1},   // high voltage
	{0x26AA, 0x26AB},   // circles
	{0x26BD, 0x26BE},   // balls
	{0x26C4, 0x26C5},   // snowman, sun
	{0x26CE, 0x26CE},   // ophiuchus
	{0x26D4, 0x26D4},   // no entry
	{0x26EA, 0x26EA},   // church
	{0x26F2, 0x26F3},   // fountain, golf
	{0x26F5, 0x26F5},   // sailboat
	{0x26FA, 0x26FA},   // tent
	{0x26FD, 0x26FD},   // fuel pump
	{0x2705, 0x2705},   // check mark
	{0x270A, 0x270B},   // fists
	{0x2728, 0x2728},   // sparkles
	{0x274C, 0x274C},   // cross mark
	{0x274E, 0x274E},   // cross mark
	{0x2753, 0x2755},   // question marks
	{0x2757, 0x2757},   // exclamation
	{0x2795, 0x2797},   // math
	{0x27B0, 0x27B0},   // curly loop
	{0x27BF, 0x27BF},   // double curly loop
	{0x2B1B, 0x2B1C},   // large squares
	{0x2B50, 0x2B50},   // star
	{0x2B55, 0x2B55},   // circle
	{0x2E80, 0x303E},   // CJK radicals, Kangxi, CJK symbols and punctuation
	{0x3041, 0x33FF},   // Hiragana, Katakana, Bopomofo, Hangul compatibility, CJK compatibility
	{0x3400, 0x4DBF},   // CJK extension A
	{0x4E00, 0x9FFF},   // CJK unified ideographs
	{0xA000, 0xA4CF},   // Yi
	{0xA960, 0xA97F},   // Hangul Jamo extended A
	{0xAC00, 0xD7A3},   // Hangul syllables
	{0xF900, 0xFAFF},   // CJK compatibility ideographs
	{0xFE10, 0xFE19},   // vertical forms
	{0xFE30, 0xFE6F},   // CJK compatibility forms, small forms
	{0xFF00, 0xFF60},   // fullwidth forms
	{0xFFE0, 0xFFE6},   // fullwidth signs
	{0x16FE0, 0x16FE4}, // ideographic symbols
	{0x17000, 0x18CFF}, // Tangut
	{0x1B000, 0x1B2FF}, // Kana supplement, extended
	{0x1F004, 0x1F004}, // mahjong
	{0x1F0CF, 0x1F0CF}, // joker
	{0x1F18E, 0x1F18E}, // AB button
	{0x1F191, 0x1F19A}, // squared words
	{0x1F200, 0x1F251}, // enclosed ideographic supplement
	{0x1F300, 0x1F64F}, // pictographs, emoticons
	{0x1F680, 0x1F6FF}, // transport and map
	{0x1F7E0, 0x1F7EB}, // coloured circles and squares
	{0x1F90C, 0x1F9FF}, // supplemental symbols and pictographs
	{0x1FA70, 0x1FAFF}, // symbols and pictographs extended A
	{0x20000, 0x2FFFD}, // CJK extension B and later
	{0x30000, 0x3FFFD}, // CJK extension G and later
}

func isWide(r rune) bool {
	lo, hi := 0, len(wideRanges)
	for lo < hi {
		m := (lo + hi) / 2
		switch {
		case r < wideRanges[m][0]:
			hi = m
		case r > wideRanges[m][1]:
			lo = m + 1
		default:
			return true
		}
	}
	return false
}
