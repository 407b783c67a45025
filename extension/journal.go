package main

import (
	"context"
	"fmt"
	"time"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/tables/journal"
)

// openJournal opens the journal stream and adds journal_messages to the
// tables.
func (rt *runtime) openJournal(ingest bool) error {
	var limits eventstore.Limits
	if ingest {
		limits = eventstore.Limits{
			MaxAge:   time.Duration(rt.cfg.Journal.EventsExpiry) * time.Second,
			MaxCount: int64(rt.cfg.Journal.EventsMax),
		}
	}
	st, err := rt.store.Stream(journal.Schema(), limits)
	if err != nil {
		return fmt.Errorf("opening journal stream: %w", err)
	}
	rt.journal = st
	rt.tables = append(rt.tables, journal.Table(st))
	return nil
}

// startJournal reads the journal until ctx is done, unless
// --disable_journal. Where the journal cannot be read (no libsystemd,
// macOS), the journal row of osquery_syslog_stats says why.
func (rt *runtime) startJournal(ctx context.Context) {
	src := rt.reg.Source("journal")
	src.RowsBuffered.Store(rt.journal.Count())
	if rt.cfg.Journal.Disable {
		src.SetState(journal.StateDisabled)
		return
	}
	cfg, err := rt.cfg.Journal.Config()
	if err != nil { // validated at start-up
		src.SetState("failed: " + err.Error())
		return
	}
	rt.wg.Add(1)
	go func() {
		defer rt.wg.Done()
		if err := journal.Run(ctx, cfg, rt.journal, rt.store, src, rt.log); err != nil {
			src.SetError(err)
			rt.log.Error("journal ingestion stopped", "err", err)
		}
	}()
}
