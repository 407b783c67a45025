package logfile

import (
	"bytes"

	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc"
)

// splitter cuts file bytes into complete lines.
//
// A line is the bytes before a '\n'; one '\r' before the '\n' is removed
// (CRLF files). Bytes after the last '\n' are an unfinished line: they are
// not consumed, so the caller reads them again once the writer has finished
// the line (or emits them with flush when the file is abandoned).
//
// A line longer than max bytes is emitted as its first max bytes (less an
// incomplete UTF-8 character at the cut: eventsrc.Truncate), flagged
// truncated, as soon as more than max+1 bytes without a newline are
// available (max+1: the byte after max could be the '\r' of a CRLF); the rest
// of it, up to and including its '\n', is then skipped. skipping carries that
// across reads and is persisted with the position.
type splitter struct {
	max      int
	skipping bool
}

// line is one line found by next.
type line struct {
	text      []byte // aliases the input; copy before keeping it
	truncated bool
}

// next returns the next line of data, where it starts in data and how many
// bytes of data it consumed. ok is false when data holds no complete line;
// consumed may still be > 0 then (the skipped middle of a long line).
func (s *splitter) next(data []byte) (l line, start, consumed int, ok bool) {
	if s.skipping {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return line{}, 0, len(data), false
		}
		consumed = i + 1
		s.skipping = false
	}
	rest := data[consumed:]
	i := bytes.IndexByte(rest, '\n')
	if i < 0 {
		if len(rest) > s.max+1 {
			s.skipping = true
			return cutLine(rest, s.max), consumed, consumed + s.max, true
		}
		return line{}, 0, consumed, false
	}
	text := rest[:i]
	if n := len(text); n > 0 && text[n-1] == '\r' {
		text = text[:n-1]
	}
	l = cutLine(text, s.max)
	return l, consumed, consumed + i + 1, true
}

// flush returns the unfinished line at the end of data (everything, as a
// final line of a file no writer will finish) and the bytes it consumed.
func (s *splitter) flush(data []byte) (l line, consumed int, ok bool) {
	if s.skipping {
		s.skipping = false
		return line{}, len(data), false
	}
	if len(data) == 0 {
		return line{}, 0, false
	}
	text := data
	if n := len(text); text[n-1] == '\r' {
		text = text[:n-1]
	}
	l = cutLine(text, s.max)
	return l, len(data), true
}

// cutLine is text as a line of at most max bytes.
func cutLine(text []byte, max int) line {
	text, truncated := eventsrc.Truncate(text, max)
	return line{text: text, truncated: truncated}
}
