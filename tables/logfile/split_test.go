package logfile

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc"
)

// refSplit is the obvious definition of the lines of data: split at '\n',
// drop one '\r' before it, cut at max bytes by the one truncation rule
// (eventsrc.Truncate: never inside a UTF-8 character). An unterminated tail
// is a line only once it is longer than max+1 bytes (then it is surely too
// long).
func refSplit(data []byte, max int) []line {
	var out []line
	cut := func(b []byte) line {
		b, _ = eventsrc.Truncate(b, max)
		return line{text: b, truncated: true}
	}
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if len(data) > max+1 {
				out = append(out, cut(data))
			}
			return out
		}
		text := bytes.TrimSuffix(data[:i], []byte("\r"))
		if len(text) > max {
			out = append(out, cut(text))
		} else {
			out = append(out, line{text: text})
		}
		data = data[i+1:]
	}
}

// splitIncremental feeds data to a splitter as a file that grows by step
// bytes at a time, the way the tailer reads it.
func splitIncremental(data []byte, max, step int) []line {
	s := splitter{max: max}
	var out []line
	pos := 0
	for avail := 0; avail < len(data); {
		avail = min(len(data), avail+step)
		for {
			l, _, c, ok := s.next(data[pos:avail])
			pos += c
			if !ok {
				break
			}
			out = append(out, line{text: append([]byte(nil), l.text...), truncated: l.truncated})
		}
	}
	return out
}

func describeLines(ls []line) string {
	var b strings.Builder
	for _, l := range ls {
		fmt.Fprintf(&b, "%q/%v ", l.text, l.truncated)
	}
	return b.String()
}

func TestSplit(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "a\nb\n", 10, `"a"/false "b"/false `},
		{"unfinished", "a\nb", 10, `"a"/false `},
		{"crlf", "a\r\nb\r\n", 10, `"a"/false "b"/false `},
		{"lone cr kept", "a\rb\n", 10, `"a\rb"/false `},
		{"empty lines", "\n\r\n", 10, `""/false ""/false `},
		{"exactly max with crlf", "abc\r\n", 3, `"abc"/false `},
		{"long", "abcdef\nx\n", 3, `"abc"/true "x"/false `},
		{"long unfinished", "abcdef", 3, `"abc"/true `},
		{"max+1 unfinished waits", "abcd", 3, ``},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for step := 1; step <= len(tt.in); step++ {
				if got := describeLines(splitIncremental([]byte(tt.in), tt.max, step)); got != tt.want {
					t.Errorf("step %d: got %s, want %s", step, got, tt.want)
				}
			}
		})
	}
}

func TestFlush(t *testing.T) {
	s := splitter{max: 4}
	if l, c, ok := s.flush([]byte("abc\r")); !ok || string(l.text) != "abc" || c != 4 {
		t.Errorf("flush = %q %d %v", l.text, c, ok)
	}
	if l, c, ok := s.flush([]byte("abcdefg")); !ok || string(l.text) != "abcd" || !l.truncated || c != 7 {
		t.Errorf("flush long = %q %d %v", l.text, c, ok)
	}
	s.skipping = true
	if _, c, ok := s.flush([]byte("rest of a long line")); ok || c != 19 {
		t.Errorf("flush while skipping = %d %v", c, ok)
	}
}

// FuzzSplit checks that lines do not depend on how the file grew between
// reads, match the reference definition, and are valid UTF-8 when the file
// is.
func FuzzSplit(f *testing.F) {
	f.Add([]byte("a\nb\r\nc"), uint8(4), uint8(1))
	f.Add([]byte("long line here\nx\n"), uint8(3), uint8(2))
	f.Add([]byte("\r\n\r\r\n\n"), uint8(1), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, max, step uint8) {
		m := int(max%64) + 1
		st := int(step%32) + 1
		want := describeLines(refSplit(data, m))
		got := describeLines(splitIncremental(data, m, st))
		if got != want {
			t.Fatalf("max %d step %d:\n got  %s\n want %s", m, st, got, want)
		}
		for _, l := range refSplit(data, m) {
			if len(l.text) > m || bytes.IndexByte(l.text, '\n') >= 0 {
				t.Fatalf("bad line %q", l.text)
			}
			if utf8.Valid(data) && !utf8.Valid(l.text) {
				t.Fatalf("line %q of valid UTF-8 is not valid UTF-8", l.text)
			}
		}
	})
}
