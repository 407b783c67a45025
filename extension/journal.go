package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/tables/journal"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// openJournal opens the journal stream and adds journal_messages to the
// tables.
func (rt *runtime) openJournal(ingest bool) error {
	var limits eventstore.Limits
	if ingest {
		limits = rt.cfg.Journal.Limits()
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

// queryJournalSince makes the query subcommand read a journal given with
// --journal_path from its oldest entry unless --journal_since is set: a
// copied journal is usually from another host, or another boot.
func queryJournalSince(cfg *config, explicit map[string]bool) {
	if cfg.Journal.Path != "" && !explicit["journal_since"] {
		cfg.Journal.Since = "all"
	}
}

// queryJournal serves journal_messages in the query subcommand from the
// journal at --journal_path, when given (the forensics use: a copied
// /var/log/journal, on any host): it reads that journal to its end into a
// private temporary buffer, leaving --database_path untouched. The returned
// function removes the buffer.
func (rt *runtime) queryJournal(ctx context.Context) (func(), error) {
	if rt.cfg.Journal.Path == "" || rt.cfg.Journal.Disable {
		return func() {}, nil
	}
	cfg, err := rt.cfg.Journal.Config()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "osquery-syslog-journal-")
	if err != nil {
		return nil, fmt.Errorf("--journal_path: %w", err)
	}
	store, err := eventstore.Open(filepath.Join(dir, "journal.db"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("--journal_path: %w", err)
	}
	cleanup := func() {
		store.Close()
		os.RemoveAll(dir)
	}
	st, err := store.Stream(journal.Schema(), eventstore.Limits{})
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("--journal_path: %w", err)
	}
	if err := journal.ReadAll(ctx, cfg, st, store, rt.reg.Source("journal"), rt.log); err != nil {
		cleanup()
		return nil, fmt.Errorf("--journal_path %s: %w", cfg.Path, err)
	}
	i := slices.IndexFunc(rt.tables, func(t tablekit.Table) bool { return t.Name == journal.TableName })
	rt.tables[i] = journal.Table(st)
	return cleanup, nil
}
