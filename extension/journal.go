package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/stats"
	"github.com/osquery-syslog/osquery-syslog/tables/journal"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// openJournal is journal_messages over its buffer, filled from the journal
// (this host's, or --journal_path) unless --disable_journal. Where the
// journal cannot be read (no libsystemd, macOS), the journal row of
// osquery_syslog_stats says why and the table stays empty. The query
// subcommand given --journal_path reads that journal instead (queryJournal).
func openJournal(a *app) (tablekit.Table, *source, error) {
	if !a.ingest && a.cfg.Journal.Path != "" && !a.cfg.Journal.Disable {
		return a.queryJournal()
	}
	st, err := a.stream(journal.Schema(), a.cfg.Journal.Limits())
	if err != nil {
		return tablekit.Table{}, nil, err
	}
	if a.cfg.Journal.Disable {
		if a.ingest {
			a.reg.Source("journal").SetState(journal.StateDisabled)
		}
		return journal.Table(st), nil, nil
	}
	cfg, err := a.cfg.Journal.Config()
	if err != nil {
		return tablekit.Table{}, nil, err
	}
	src := &source{name: "journal", flag: "journal_path", stream: st,
		setup: func(sst *stats.Source, log *slog.Logger) (func(context.Context) error, error) {
			return func(ctx context.Context) error {
				// Run returns nil where the journal cannot be read, with
				// the reason as the source's state: wait for the stop
				// rather than set up again and again.
				if err := journal.Run(ctx, cfg, st, a.store, sst, log); err != nil {
					return err
				}
				<-ctx.Done()
				return nil
			}, nil
		}}
	return journal.Table(st), src, nil
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
// journal at --journal_path (the forensics use: a copied /var/log/journal,
// on any host): it reads that journal to its end into a private temporary
// buffer, leaving --database_path untouched; a.close removes it.
func (a *app) queryJournal() (tablekit.Table, *source, error) {
	cfg, err := a.cfg.Journal.Config()
	if err != nil {
		return tablekit.Table{}, nil, err
	}
	fail := func(err error) (tablekit.Table, *source, error) {
		return tablekit.Table{}, nil, fmt.Errorf("--journal_path %s: %w", cfg.Path, err)
	}
	dir, err := os.MkdirTemp("", "osquery-syslog-journal-")
	if err != nil {
		return fail(err)
	}
	store, err := eventstore.Open(filepath.Join(dir, "journal.db"))
	if err != nil {
		os.RemoveAll(dir)
		return fail(err)
	}
	a.closers = append(a.closers, func() error {
		defer os.RemoveAll(dir)
		return store.Close()
	})
	st, err := store.Stream(journal.Schema(), eventstore.Limits{})
	if err != nil {
		return fail(err)
	}
	if err := journal.ReadAll(context.Background(), cfg, st, store, a.reg.Source("journal"), a.log.With("component", "journal")); err != nil {
		return fail(err)
	}
	return journal.Table(st), nil, nil
}
