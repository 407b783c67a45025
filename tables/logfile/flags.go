package logfile

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc"
)

// Flags are the command-line flags of logfile_lines. The fields keep the
// names of the binary's settings (they are embedded in its configuration);
// the embedded Retention holds --logfile_events_expiry and
// --logfile_events_max and gives the stream's Limits.
type Flags struct {
	LogfilePaths        string
	LogfileMaxLine      int
	LogfilePollInterval time.Duration
	LogfileMaxOpen      int
	eventsrc.Retention
}

// Register declares the flags in fs with their defaults.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.LogfilePaths, "logfile_paths", "", "Comma-separated glob patterns of log files to follow into logfile_lines (empty = none); files that start matching later are picked up")
	fs.IntVar(&f.LogfileMaxLine, "logfile_max_line", eventsrc.DefaultMaxLine, "Longest log-file line kept, in bytes; longer lines are truncated and flagged")
	f.Retention.RegisterRows(fs, "logfile", TableName)
	fs.DurationVar(&f.LogfilePollInterval, "logfile_poll_interval", DefaultPollInterval, "How often log files are checked where inotify is unavailable, and how often rotated files are drained")
	fs.IntVar(&f.LogfileMaxOpen, "logfile_max_open", DefaultMaxOpen, "Most log-file handles held open at once; idle files beyond it are closed and reopened when they change")
}

// Validate checks what the flag package cannot; every message names the
// flag.
func (f *Flags) Validate() error {
	var errs []error
	for _, p := range ParsePaths(f.LogfilePaths) {
		if _, err := filepath.Match(p, ""); err != nil {
			errs = append(errs, fmt.Errorf("--logfile_paths: bad pattern %q: %w", p, err))
		}
	}
	if err := eventsrc.ValidateMaxLine("logfile_max_line", f.LogfileMaxLine); err != nil {
		errs = append(errs, err)
	}
	if f.LogfilePollInterval < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("--logfile_poll_interval: must be at least 10ms, got %s", f.LogfilePollInterval))
	}
	if f.LogfileMaxOpen < 1 {
		errs = append(errs, fmt.Errorf("--logfile_max_open: must be >= 1, got %d", f.LogfileMaxOpen))
	}
	return errors.Join(errs...)
}

// Config is the tailer configuration the flags give; no Paths means no
// files to follow.
func (f *Flags) Config() Config {
	return Config{
		Paths:        ParsePaths(f.LogfilePaths),
		MaxLine:      f.LogfileMaxLine,
		PollInterval: f.LogfilePollInterval,
		MaxOpen:      f.LogfileMaxOpen,
	}
}
