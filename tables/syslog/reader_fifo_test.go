//go:build unix

package syslog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestLineReaderNonBlockingFStreamSteps replays osquery's
// test_nonblockingfstream (osquery-behavior.md §1.4) against LineReader on
// a real FIFO, with MaxLine 20 for osquery's 20-byte buffer. "No line" is a
// read deadline passing (osquery's getline fails at once instead).
// Deliberate differences: a 20-byte line fits MaxLine and is delivered
// (osquery drops it: its buffer holds 20 bytes including the newline); a
// longer one is delivered truncated and flagged, and the rest of it never
// becomes a line; empty lines are never delivered (osquery returns "" for
// the leftover newline and for a partial line).
func TestLineReaderNonBlockingFStreamSteps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	f, err := OpenPipe(path, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := os.OpenFile(path, os.O_WRONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	lr := NewLineReader(f, 20)

	a := func(n int) string { return strings.Repeat("A", n) }
	steps := []struct {
		name      string
		write     string
		want      string // "" means no line
		truncated bool
	}{
		{"1: 19 A and newline", a(19) + "\n", a(19), false},
		{"2: 10 A, no newline", a(10), "", false},
		{"3: the rest of the line", "A\n", a(11), false},
		{"4: nothing", "", "", false},
		{"5: 20 A and newline fit MaxLine (osquery: too much data)", a(20) + "\n", a(20), false},
		{"5b: 21 A and newline are cut (osquery: dropped)", a(21) + "\n", a(20), true},
		{"6: nothing (osquery: the leftover newline as an empty line)", "", "", false},
		{"7: two lines in one write", a(9) + "\n" + a(9) + "\n", a(9), false},
		{"8: nothing: the second line from the buffer", "", a(9), false},
		{"9: nothing", "", "", false},
	}
	for _, tt := range steps {
		if tt.write != "" {
			if _, err := w.Write([]byte(tt.write)); err != nil {
				t.Fatalf("%s: write: %v", tt.name, err)
			}
		}
		wait := 5 * time.Second
		if tt.want == "" {
			wait = 50 * time.Millisecond
		}
		f.SetReadDeadline(time.Now().Add(wait))
		line, err := lr.Next()
		if tt.want == "" {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("%s: got %q, %v; want no line", tt.name, line.Data, err)
			}
			continue
		}
		if err != nil || string(line.Data) != tt.want || line.Truncated != tt.truncated {
			t.Fatalf("%s: got %q truncated=%v, %v; want %q truncated=%v", tt.name, line.Data, line.Truncated, err, tt.want, tt.truncated)
		}
	}
}
