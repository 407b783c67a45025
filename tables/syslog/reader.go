package syslog

import (
	"bytes"
	"io"

	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc"
)

// minReadBuffer is the reader's smallest buffer: one read can take a full
// 1 MiB pipe buffer, so a burst is drained in few system calls.
const minReadBuffer = 1 << 20

// Line is one line produced by a LineReader.
type Line struct {
	// Data is the line without its '\n', at most MaxLine bytes. It aliases
	// the reader's buffer and is valid until the next call to Next.
	Data []byte
	// Truncated says the line was longer than MaxLine: Data holds its first
	// MaxLine bytes (less an incomplete UTF-8 sequence at the cut), the rest
	// up to the newline was discarded.
	Truncated bool
}

// LineReader splits a byte stream into lines.
//
// It differs on purpose from osquery's NonBlockingFStream, which drops the
// first 2 KiB of a longer line and then emits its tail as a bogus line:
//   - a line longer than MaxLine is emitted once, cut to MaxLine bytes and
//     flagged; the bytes after the cut are skipped up to and including the
//     next '\n', so no fragment ever becomes a line of its own;
//   - a partial line (no '\n' yet) is never emitted; it waits in the buffer
//     for the rest, and is dropped if the input ends first;
//   - empty lines are never emitted.
//
// Resynchronisation is therefore always at the next '\n': when rsyslog's
// ompipe writes a message partly (it ignores short writes to a full
// non-blocking pipe), the fragment glues onto the next message to form one
// malformed line, and the line after it is intact.
type LineReader struct {
	r     io.Reader
	max   int
	buf   []byte
	start int // first byte of the pending line
	scan  int // buf[start:scan] is known to hold no '\n'
	end   int // end of the buffered bytes
	skip  bool
	bytes int64
	err   error // sticky error from r, returned once the buffer has no line
}

// NewLineReader returns a reader of lines of at most maxLine bytes
// (eventsrc.DefaultMaxLine if maxLine <= 0) from r, with a buffer of at least 1 MiB.
func NewLineReader(r io.Reader, maxLine int) *LineReader {
	if maxLine <= 0 {
		maxLine = eventsrc.DefaultMaxLine
	}
	return newLineReaderSize(r, maxLine, max(minReadBuffer, maxLine+64<<10))
}

func newLineReaderSize(r io.Reader, maxLine, size int) *LineReader {
	return &LineReader{r: r, max: maxLine, buf: make([]byte, max(size, maxLine+1))}
}

// BytesRead is the number of bytes taken from the input so far, newlines,
// discarded tails and any still-buffered partial line included.
func (lr *LineReader) BytesRead() int64 { return lr.bytes }

// Next returns the next line. It blocks in the underlying reader when no
// complete line is buffered. It returns the reader's error (io.EOF at the
// end of input) once no complete line is left; after a transient error such
// as a read deadline, Next may be called again and continues where it was.
func (lr *LineReader) Next() (Line, error) {
	emptyReads := 0
	for {
		if i := bytes.IndexByte(lr.buf[lr.scan:lr.end], '\n'); i >= 0 {
			nl := lr.scan + i
			data := lr.buf[lr.start:nl]
			skipped := lr.skip
			lr.start, lr.scan, lr.skip = nl+1, nl+1, false
			if skipped || len(data) == 0 {
				continue // the tail of a truncated line, or an empty line
			}
			if len(data) > lr.max {
				return truncated(data, lr.max), nil
			}
			return Line{Data: data}, nil
		}
		lr.scan = lr.end
		if lr.skip {
			lr.start = lr.end
		} else if lr.end-lr.start > lr.max {
			// Longer than MaxLine and no newline yet: emit the head now
			// and skip the rest when it comes.
			data := lr.buf[lr.start:lr.end]
			lr.start, lr.skip = lr.end, true
			return truncated(data, lr.max), nil
		}
		if lr.err != nil {
			err := lr.err
			if !isSticky(err) {
				lr.err = nil
			}
			return Line{}, err
		}
		lr.fill()
		if lr.err == nil && lr.scan == lr.end {
			if emptyReads++; emptyReads >= 100 {
				lr.err = io.ErrNoProgress
			}
		}
	}
}

// stopReading makes Next return err, instead of reading, once no complete
// line is buffered.
func (lr *LineReader) stopReading(err error) { lr.err = err }

// fill reads once into the free end of the buffer, first moving the pending
// partial line to the front when the buffer is full. The pending line is at
// most MaxLine bytes, so there is always room.
func (lr *LineReader) fill() {
	if lr.start == lr.end {
		lr.start, lr.scan, lr.end = 0, 0, 0
	} else if lr.end == len(lr.buf) {
		n := copy(lr.buf, lr.buf[lr.start:lr.end])
		lr.start, lr.scan, lr.end = 0, n, n
	}
	n, err := lr.r.Read(lr.buf[lr.end:])
	if n < 0 || n > len(lr.buf)-lr.end {
		n, err = 0, io.ErrShortBuffer // a broken reader; never trust n
	}
	lr.end += n
	lr.bytes += int64(n)
	lr.err = err
}

// isSticky says whether err ends the input for good (as opposed to a read
// deadline, after which reading may resume).
func isSticky(err error) bool {
	type timeout interface{ Timeout() bool }
	if t, ok := err.(timeout); ok && t.Timeout() {
		return false
	}
	return true
}

// truncated is the line data cut to max bytes by the one truncation rule
// (eventsrc.Truncate: never inside a UTF-8 character), flagged.
func truncated(data []byte, max int) Line {
	data, _ = eventsrc.Truncate(data, max)
	return Line{Data: data, Truncated: true}
}
