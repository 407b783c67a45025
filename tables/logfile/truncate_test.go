package logfile

import (
	"testing"

	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc/eventsrctest"
)

// TestTruncationUTF8: a line cut at --logfile_max_line keeps whole UTF-8
// characters and is flagged (the splitter once cut raw bytes), through the
// tailer and the real store; for a line that ends with a newline and for
// one whose end has not been written yet.
func TestTruncationUTF8(t *testing.T) {
	for name, newline := range map[string]bool{"complete": true, "unfinished": false} {
		t.Run(name, func(t *testing.T) {
			eventsrctest.TestTruncation(t, func(t *testing.T, message string, max int) (string, bool) {
				return ingestLine(t, message, max, newline)
			})
		})
	}
}

// ingestLine stores message as the only line of a file, with or without
// its newline, and returns the row's message and truncated flag.
func ingestLine(t *testing.T, message string, max int, newline bool) (string, bool) {
	h := newHarness(t, Config{MaxLine: max})
	if !newline && len(message) <= max+1 {
		newline = true // an unfinished line is not stored until it is too long
	}
	if newline {
		message += "\n"
	}
	appendFile(t, h.path("a.log"), message)
	h.step()
	rows := h.rows()
	if len(rows) != 1 {
		t.Fatalf("%d rows stored, want 1", len(rows))
	}
	return rows[0].Message, rows[0].Truncated == 1
}
