package logfile

import (
	"strings"
	"time"

	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc"
)

// Config configures the tailer. Zero values mean the defaults below.
type Config struct {
	Paths          []string      // glob patterns (filepath.Match syntax); new matches are picked up
	MaxLine        int           // longest line kept whole, in bytes (eventsrc.DefaultMaxLine)
	PollInterval   time.Duration // how often files are checked without inotify (DefaultPollInterval)
	MaxOpen        int           // most file handles held at once (DefaultMaxOpen)
	RotateWait     time.Duration // how long a rotated or deleted file is kept open after it stopped growing (DefaultRotateWait; negative: not at all)
	BatchSize      int           // most lines per Append (eventsrc.DefaultBatchSize)
	NoInotify      bool          // poll only, even where inotify exists
	RescanInterval time.Duration // with inotify, how often every pattern is scanned anyway (DefaultRescanInterval)
	ExpireInterval time.Duration // how often the store's age and count limits are applied (eventsrc.DefaultExpireInterval)
}

// Defaults of Config; the others are eventsrc's.
const (
	DefaultPollInterval   = time.Second
	DefaultMaxOpen        = 256
	DefaultRotateWait     = 5 * time.Second
	DefaultRescanInterval = 30 * time.Second
)

// minReadBuf is the smallest read buffer; it is also at least MaxLine+2 so
// that a too-long line is always recognised within one read.
const minReadBuf = 256 << 10

func (c Config) withDefaults() Config {
	if c.MaxLine <= 0 {
		c.MaxLine = eventsrc.DefaultMaxLine
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.MaxOpen <= 0 {
		c.MaxOpen = DefaultMaxOpen
	}
	if c.RotateWait == 0 {
		c.RotateWait = DefaultRotateWait
	} else if c.RotateWait < 0 {
		c.RotateWait = 0 // finish a rotated file as soon as it is read to its end
	}
	if c.BatchSize <= 0 {
		c.BatchSize = eventsrc.DefaultBatchSize
	}
	if c.RescanInterval <= 0 {
		c.RescanInterval = DefaultRescanInterval
	}
	if c.ExpireInterval <= 0 {
		c.ExpireInterval = eventsrc.DefaultExpireInterval
	}
	return c
}

// ParsePaths splits the comma-separated --logfile_paths value.
func ParsePaths(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
