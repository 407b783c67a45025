// Package eventsrctest holds the checks every evented source must pass, to
// run from each source's own tests against its real ingestion path.
package eventsrctest

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc"
)

// IngestFunc stores one line, message, through the source with a line limit
// of max bytes for the message, and returns the message and truncated
// column of the row it stored.
type IngestFunc func(t *testing.T, message string, max int) (stored string, truncated bool)

// TruncationMax is the message limit TestTruncation passes to IngestFunc.
const TruncationMax = 64

// TestTruncation checks that a source truncates by the one rule
// (eventsrc.Truncate): a line longer than the limit is stored cut to at
// most the limit, never inside a UTF-8 character, flagged truncated; a
// line within the limit is stored whole.
func TestTruncation(t *testing.T, ingest IngestFunc) {
	const n = TruncationMax
	a := func(k int) string { return strings.Repeat("a", k) }
	tests := []struct {
		name, message, want string
		truncated           bool
	}{
		{"short", "hello", "hello", false},
		{"exactly max", a(n), a(n), false},
		{"ascii over max", a(n) + "bcd", a(n), true},
		{"2-byte character straddles the limit", a(n-1) + "é tail", a(n - 1), true},
		{"3-byte character, 1 byte in", a(n-1) + "€ tail", a(n - 1), true},
		{"3-byte character, 2 bytes in", a(n-2) + "€ tail", a(n - 2), true},
		{"4-byte character, 1 byte in", a(n-1) + "😀 tail", a(n - 1), true},
		{"4-byte character, 3 bytes in", a(n-3) + "😀 tail", a(n - 3), true},
		{"character ends at the limit", a(n-2) + "é tail", a(n-2) + "é", true},
		{"multi-byte text throughout", strings.Repeat("日本", n), strings.Repeat("日本", n/6) + "日", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if want, trunc := eventsrc.Truncate(tt.message, n); want != tt.want || trunc != tt.truncated {
				t.Fatalf("case out of step with eventsrc.Truncate: %q %v", want, trunc)
			}
			got, truncated := ingest(t, tt.message, n)
			if got != tt.want || truncated != tt.truncated {
				t.Errorf("stored %q truncated=%v, want %q truncated=%v", got, truncated, tt.want, tt.truncated)
			}
			if !utf8.ValidString(got) {
				t.Errorf("stored %q: not valid UTF-8", got)
			}
		})
	}
}
