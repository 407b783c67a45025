package main

import (
	"flag"
	"time"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/tables/statstable"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// tableOpener opens one table over the app's store and, for an evented
// table whose ingestion is enabled, returns the source that fills it.
type tableOpener func(a *app) (tablekit.Table, *source, error)

// tableFlags are a table's own flags (tables/*/flags.go), embedded in
// config.
type tableFlags interface {
	Register(fs *flag.FlagSet)
	Validate() error
}

// tableRegistry is every table of the binary, in the order osqueryd lists
// them, with its flags (nil: none of its own). Adding a table is one line
// here and, for its flags, a field in config.
var tableRegistry = []struct {
	flags func(*config) tableFlags
	open  tableOpener
}{
	{func(c *config) tableFlags { return &c.syslogFlags }, openSyslog},
	{nil, openStats},
	{func(c *config) tableFlags { return &c.aslFlags }, openASL},
	{func(c *config) tableFlags { return &c.logfileConfig }, openLogfile},
	{func(c *config) tableFlags { return &c.Journal }, openJournal},
}

// openTables opens every table and wraps it, the one place tables are
// wrapped: osqueryd and the embedded engine serve a.tables as they are.
func (a *app) openTables() error {
	opts := tablekit.Options{
		Timeout:       time.Duration(a.cfg.TableTimeout) * time.Second,
		MaxConcurrent: a.cfg.TableConcurrency,
		Logger:        a.log.With("component", "tables"),
	}
	for _, r := range tableRegistry {
		t, src, err := r.open(a)
		if err != nil {
			return err
		}
		a.tables = append(a.tables, tablekit.Wrap(t, opts))
		if src != nil {
			a.sources = append(a.sources, src)
		}
	}
	return nil
}

// openStats is osquery_syslog_stats. A live process shows its own
// counters; snapshots persisted by other processes' sources would be stale
// copies of the same ones, so only a reader (query) shows those.
func openStats(a *app) (tablekit.Table, *source, error) {
	var persisted *eventstore.Store
	if !a.ingest {
		persisted = a.store
	}
	return statstable.Table(a.reg, persisted), nil, nil
}
