package eventsrc

import (
	"flag"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
)

// Line limits shared by every source's --<source>_max_line flag.
const (
	DefaultMaxLine = 64 << 10 // longest line kept whole, in bytes, newline excluded
	MinMaxLine     = 256
	MaxMaxLine     = 64 << 20
)

// Retention defaults of every source's --<source>_events_expiry and
// --<source>_events_max flags.
const (
	DefaultEventsExpiry uint64 = 2592000 // seconds (30 days)
	DefaultEventsMax    uint64 = 100000  // rows
)

// Write-side defaults (WriterConfig, and the batch size of synchronous
// sources).
const (
	DefaultBatchSize      = 5000 // rows per transaction at most
	DefaultFlushInterval  = 100 * time.Millisecond
	DefaultExpireInterval = 60 * time.Second
	DefaultRetryFor       = 30 * time.Second
	// DefaultAppendAt is how many pending rows wake the Writer before the
	// next flush tick (see WriterConfig.AppendAt).
	DefaultAppendAt = 1000
)

// Truncate returns s unchanged and false if it is at most max bytes long.
// Otherwise it returns its first max bytes, less a trailing incomplete UTF-8
// sequence, and true: truncation never makes a valid UTF-8 line invalid.
// Bytes that are not UTF-8 anyway are cut at max. The result aliases s.
func Truncate[T ~string | ~[]byte](s T, max int) (T, bool) {
	if len(s) <= max {
		return s, false
	}
	s = s[:max]
	// A character cut at max has its lead byte in the last UTFMax-1 bytes.
	for k := 1; k <= utf8.UTFMax-1 && k <= len(s); k++ {
		c := s[len(s)-k]
		if c < utf8.RuneSelf {
			break // ASCII: nothing incomplete
		}
		if utf8.RuneStart(c) {
			var tail [utf8.UTFMax]byte
			n := copy(tail[:], s[len(s)-k:])
			if !utf8.FullRune(tail[:n]) {
				s = s[:len(s)-k]
			}
			break
		}
	}
	return s, true
}

// ValidateMaxLine checks the value of a --<source>_max_line flag (named
// with or without its dashes), in the words every source uses.
func ValidateMaxLine(flagName string, v int) error {
	if v < MinMaxLine || v > MaxMaxLine {
		return fmt.Errorf("--%s: must be between %d and %d bytes, got %d", strings.TrimLeft(flagName, "-"), MinMaxLine, MaxMaxLine, v)
	}
	return nil
}

// Retention is how long, and how many, rows a source's stream keeps.
type Retention struct {
	Expiry uint64 // seconds a row is kept (0 = forever)
	Max    uint64 // rows kept at most, the oldest expired first (0 = unlimited)
}

// Register declares --<source>_events_expiry and --<source>_events_max,
// with the defaults above, into r. The usage texts call the rows
// "<source> rows".
func (r *Retention) Register(fs *flag.FlagSet, source string) {
	r.RegisterRows(fs, source, source)
}

// RegisterRows is Register with the usage texts calling the rows
// "<rows> rows" (a table name, say, where it differs from the source's).
func (r *Retention) RegisterRows(fs *flag.FlagSet, source, rows string) {
	RegisterRetention(fs, source, rows, &r.Expiry, &r.Max)
}

// Limits is r as the event store's limits.
func (r Retention) Limits() eventstore.Limits {
	return eventstore.Limits{
		MaxAge:   time.Duration(r.Expiry) * time.Second,
		MaxCount: int64(r.Max),
	}
}

// RegisterRetention is RegisterRows for a source that keeps the two values
// in fields of its own.
func RegisterRetention(fs *flag.FlagSet, source, rows string, expiry, max *uint64) {
	fs.Uint64Var(expiry, source+"_events_expiry", DefaultEventsExpiry, "Seconds "+rows+" rows are kept (0 = forever)")
	fs.Uint64Var(max, source+"_events_max", DefaultEventsMax, "Most "+rows+" rows kept, counted in events (0 = unlimited)")
}
