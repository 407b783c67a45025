package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/osquery-syslog/osquery-syslog/stats"
	"github.com/osquery-syslog/osquery-syslog/tables/logfile"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// logfileConfig is the settings of logfile_lines.
type logfileConfig struct {
	LogfilePaths        string
	LogfileMaxLine      int
	LogfileEventsExpiry uint64
	LogfileEventsMax    uint64
	LogfilePollInterval time.Duration
	LogfileMaxOpen      int
}

func addLogfileFlags(fs *flag.FlagSet, c *logfileConfig) {
	fs.StringVar(&c.LogfilePaths, "logfile_paths", "", "Comma-separated glob patterns of log files to follow into logfile_lines (empty = none); files that start matching later are picked up")
	fs.IntVar(&c.LogfileMaxLine, "logfile_max_line", logfile.DefaultMaxLine, "Longest log-file line kept, in bytes; longer lines are truncated and flagged")
	fs.Uint64Var(&c.LogfileEventsExpiry, "logfile_events_expiry", 2592000, "Seconds logfile_lines rows are kept (0 = forever)")
	fs.Uint64Var(&c.LogfileEventsMax, "logfile_events_max", 100000, "Most logfile_lines rows kept, counted in events (0 = unlimited)")
	fs.DurationVar(&c.LogfilePollInterval, "logfile_poll_interval", logfile.DefaultPollInterval, "How often log files are checked where inotify is unavailable, and how often rotated files are drained")
	fs.IntVar(&c.LogfileMaxOpen, "logfile_max_open", logfile.DefaultMaxOpen, "Most log-file handles held open at once; idle files beyond it are closed and reopened when they change")
}

// validate checks the logfile flags; every message names its flag.
func (c *logfileConfig) validate() error {
	var errs []error
	for _, p := range logfile.ParsePaths(c.LogfilePaths) {
		if _, err := filepath.Match(p, ""); err != nil {
			errs = append(errs, fmt.Errorf("--logfile_paths: bad pattern %q: %w", p, err))
		}
	}
	if c.LogfileMaxLine < 256 || c.LogfileMaxLine > 64<<20 {
		errs = append(errs, fmt.Errorf("--logfile_max_line: must be between 256 and %d bytes, got %d", 64<<20, c.LogfileMaxLine))
	}
	if c.LogfilePollInterval < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("--logfile_poll_interval: must be at least 10ms, got %s", c.LogfilePollInterval))
	}
	if c.LogfileMaxOpen < 1 {
		errs = append(errs, fmt.Errorf("--logfile_max_open: must be >= 1, got %d", c.LogfileMaxOpen))
	}
	return errors.Join(errs...)
}

// openLogfile is logfile_lines over its buffer, filled from the files
// --logfile_paths matches, if any.
func openLogfile(a *app) (tablekit.Table, *source, error) {
	st, err := a.stream(logfile.Schema(), a.cfg.LogfileEventsExpiry, a.cfg.LogfileEventsMax)
	if err != nil {
		return tablekit.Table{}, nil, err
	}
	paths := logfile.ParsePaths(a.cfg.LogfilePaths)
	if len(paths) == 0 {
		return logfile.Table(st), nil, nil
	}
	cfg := logfile.Config{
		Paths:        paths,
		MaxLine:      a.cfg.LogfileMaxLine,
		PollInterval: a.cfg.LogfilePollInterval,
		MaxOpen:      a.cfg.LogfileMaxOpen,
	}
	src := &source{name: "logfile", flag: "logfile_paths", stream: st,
		setup: func(sst *stats.Source, log *slog.Logger) (func(context.Context) error, error) {
			// Reading the saved positions is the setup.
			t, err := logfile.New(cfg, st, a.store, sst, log)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context) error {
				defer t.Close()
				return t.Run(ctx)
			}, nil
		}}
	return logfile.Table(st), src, nil
}
