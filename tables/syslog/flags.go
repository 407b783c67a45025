package syslog

import (
	"errors"
	"flag"
	"fmt"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc"
)

// Flags are the command-line flags of syslog ingestion and syslog_messages.
// The field names are the binary's settings as they always were (they are
// embedded in its configuration), so the retention is two fields rather
// than an embedded eventsrc.Retention; Retention returns it.
type Flags struct {
	DisableSyslog        bool
	SyslogPipePath       string
	SyslogMaxLine        int
	SyslogLinesPerSecond int
	SyslogEventsExpiry   uint64
	SyslogEventsMax      uint64
}

// Register declares the flags in fs with their defaults.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.BoolVar(&f.DisableSyslog, "disable_syslog", false, "Do not read the syslog pipe (syslog_messages then serves what is buffered)")
	fs.StringVar(&f.SyslogPipePath, "syslog_pipe_path", "/var/osquery/syslog_pipe", "Named pipe rsyslog/syslog-ng writes the osquery CSV format into")
	fs.IntVar(&f.SyslogMaxLine, "syslog_max_line", eventsrc.DefaultMaxLine, "Longest syslog line kept, in bytes; longer lines are truncated and flagged")
	fs.IntVar(&f.SyslogLinesPerSecond, "syslog_lines_per_second", 0, "Cap on syslog lines ingested per second (0 = unlimited)")
	eventsrc.RegisterRetention(fs, "syslog", "syslog", &f.SyslogEventsExpiry, &f.SyslogEventsMax)
}

// Validate checks what the flag package cannot; every message names the
// flag.
func (f *Flags) Validate() error {
	var errs []error
	if !f.DisableSyslog && f.SyslogPipePath == "" {
		errs = append(errs, errors.New("--syslog_pipe_path: must not be empty"))
	}
	if err := eventsrc.ValidateMaxLine("syslog_max_line", f.SyslogMaxLine); err != nil {
		errs = append(errs, err)
	}
	if f.SyslogLinesPerSecond < 0 {
		errs = append(errs, fmt.Errorf("--syslog_lines_per_second: must be >= 0, got %d", f.SyslogLinesPerSecond))
	}
	return errors.Join(errs...)
}

// Config is the ingestion configuration the flags give.
func (f *Flags) Config() Config {
	return Config{PipePath: f.SyslogPipePath, MaxLine: f.SyslogMaxLine, LinesPerSecond: f.SyslogLinesPerSecond}
}

// Retention is --syslog_events_expiry and --syslog_events_max.
func (f *Flags) Retention() eventsrc.Retention {
	return eventsrc.Retention{Expiry: f.SyslogEventsExpiry, Max: f.SyslogEventsMax}
}

// Limits are the stream's limits the flags give.
func (f *Flags) Limits() eventstore.Limits { return f.Retention().Limits() }
