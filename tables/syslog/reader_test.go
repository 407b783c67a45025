package syslog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"testing/iotest"
)

type gotLine struct {
	Data      string
	Truncated bool
}

func (g gotLine) String() string { return fmt.Sprintf("{%q %v}", g.Data, g.Truncated) }

// readAll returns every line of lr until its error.
func readAll(lr *LineReader) ([]gotLine, error) {
	var out []gotLine
	for {
		l, err := lr.Next()
		if err != nil {
			return out, err
		}
		out = append(out, gotLine{string(l.Data), l.Truncated})
	}
}

// modelLines is what a LineReader must produce from input, written the
// obvious way: split at '\n', drop empty lines, cut long lines to maxLine
// bytes, drop an unterminated tail unless it is already too long (a long
// line's head is emitted without waiting for its end).
func modelLines(input string, maxLine int) []gotLine {
	var out []gotLine
	parts := strings.Split(input, "\n")
	if tail := parts[len(parts)-1]; len(tail) <= maxLine {
		parts = parts[:len(parts)-1]
	}
	for _, p := range parts {
		switch {
		case p == "":
		case len(p) > maxLine:
			out = append(out, gotLine{string(cut([]byte(p), maxLine)), true})
		default:
			out = append(out, gotLine{p, false})
		}
	}
	return out
}

// chunkReader returns its data in reads of the given sizes, cycling.
type chunkReader struct {
	data  []byte
	sizes []int
	n     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), len(c.data), c.sizes[c.n%len(c.sizes)])
	c.n++
	copy(p, c.data[:k])
	c.data = c.data[k:]
	return k, nil
}

func TestLineReader(t *testing.T) {
	const maxLine = 16
	long := strings.Repeat("L", 40)
	tests := []struct {
		name  string
		input string
		want  []gotLine
	}{
		{"lines", "a\nbb\nccc\n", []gotLine{{"a", false}, {"bb", false}, {"ccc", false}}},
		{"exactly max", strings.Repeat("x", 16) + "\nz\n", []gotLine{{strings.Repeat("x", 16), false}, {"z", false}}},
		{"one over max", strings.Repeat("x", 17) + "\nz\n", []gotLine{{strings.Repeat("x", 16), true}, {"z", false}}},
		{"long line then a line", long + "\nnext\n", []gotLine{{long[:16], true}, {"next", false}}},
		{"two long lines", long + "\n" + long + "\n", []gotLine{{long[:16], true}, {long[:16], true}}},
		{"empty lines skipped", "\n\na\n\n\nb\n", []gotLine{{"a", false}, {"b", false}}},
		{"partial tail dropped", "a\nparti", []gotLine{{"a", false}}},
		{"long partial tail", "a\n" + long, []gotLine{{"a", false}, {long[:16], true}}},
		{"crlf kept for the parser", "a\r\n", []gotLine{{"a\r", false}}},
		{"cut before an incomplete UTF-8 sequence", strings.Repeat("x", 15) + "é\n", []gotLine{{strings.Repeat("x", 15), true}}},
		{"complete UTF-8 at the cut kept", strings.Repeat("x", 14) + "éé\n", []gotLine{{strings.Repeat("x", 14) + "é", true}}},
		{"invalid bytes cut at max", strings.Repeat("\xff", 20) + "\n", []gotLine{{strings.Repeat("\xff", 16), true}}},
	}
	readers := map[string]func(string) io.Reader{
		"whole":    func(s string) io.Reader { return strings.NewReader(s) },
		"one byte": func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) },
		"chunks":   func(s string) io.Reader { return &chunkReader{data: []byte(s), sizes: []int{3, 7, 1, 20}} },
	}
	for _, tt := range tests {
		for rname, mk := range readers {
			for _, size := range []int{maxLine + 1, 24, 1 << 10} {
				t.Run(fmt.Sprintf("%s/%s/buf%d", tt.name, rname, size), func(t *testing.T) {
					lr := newLineReaderSize(mk(tt.input), maxLine, size)
					got, err := readAll(lr)
					if err != io.EOF {
						t.Errorf("err = %v, want io.EOF", err)
					}
					if fmt.Sprint(got) != fmt.Sprint(tt.want) {
						t.Errorf("lines = %v, want %v", got, tt.want)
					}
					if lr.BytesRead() != int64(len(tt.input)) {
						t.Errorf("BytesRead = %d, want %d", lr.BytesRead(), len(tt.input))
					}
					if _, err := lr.Next(); err != io.EOF {
						t.Errorf("Next after EOF: err = %v, want io.EOF again", err)
					}
				})
			}
		}
	}
}

// TestLineReaderModel feeds random streams through random read sizes and
// buffer sizes and compares with modelLines.
func TestLineReaderModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 500 {
		maxLine := 1 + rng.IntN(40)
		var b strings.Builder
		for range rng.IntN(60) {
			n := rng.IntN(2 * maxLine)
			if rng.IntN(10) == 0 {
				n = 0
			}
			for range n {
				b.WriteByte("ab,\"é\xc3"[rng.IntN(6)])
			}
			if rng.IntN(20) != 0 {
				b.WriteByte('\n')
			}
		}
		input := b.String()
		sizes := []int{1 + rng.IntN(5), 1 + rng.IntN(100), 1 + rng.IntN(3)}
		bufSize := maxLine + 1 + rng.IntN(3*maxLine)
		lr := newLineReaderSize(&chunkReader{data: []byte(input), sizes: sizes}, maxLine, bufSize)
		got, err := readAll(lr)
		want := modelLines(input, maxLine)
		if err != io.EOF || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("iteration %d: maxLine %d buffer %d reads %v input %q:\ngot  %v (%v)\nwant %v", iter, maxLine, bufSize, sizes, input, got, err, want)
		}
		if lr.BytesRead() != int64(len(input)) {
			t.Fatalf("iteration %d: BytesRead = %d, want %d", iter, lr.BytesRead(), len(input))
		}
	}
}

// timeoutOnce fails its first read with a timeout, then reads from r.
type timeoutOnce struct {
	r    io.Reader
	done bool
}

func (t *timeoutOnce) Read(p []byte) (int, error) {
	if !t.done {
		t.done = true
		return 0, os.ErrDeadlineExceeded
	}
	return t.r.Read(p)
}

func TestLineReaderResumesAfterTimeout(t *testing.T) {
	lr := NewLineReader(&timeoutOnce{r: strings.NewReader("a\nb\n")}, 0)
	if _, err := lr.Next(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("first Next: err = %v, want the timeout", err)
	}
	got, err := readAll(lr)
	if err != io.EOF || fmt.Sprint(got) != fmt.Sprint([]gotLine{{"a", false}, {"b", false}}) {
		t.Errorf("after the timeout: %v, %v", got, err)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestLineReaderNoProgress(t *testing.T) {
	if _, err := NewLineReader(zeroReader{}, 0).Next(); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("err = %v, want io.ErrNoProgress", err)
	}
}

func TestLineReaderDefaults(t *testing.T) {
	lr := NewLineReader(bytes.NewReader(nil), 0)
	if lr.max != DefaultMaxLine || len(lr.buf) < minReadBuffer {
		t.Errorf("max %d buffer %d, want %d and >= %d", lr.max, len(lr.buf), DefaultMaxLine, minReadBuffer)
	}
	lr = NewLineReader(bytes.NewReader(nil), 4<<20)
	if len(lr.buf) <= 4<<20 {
		t.Errorf("buffer %d cannot hold a 4 MiB line", len(lr.buf))
	}
}
