package main

import (
	"context"
	"errors"
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
			j, err := journal.Open(cfg, st, a.store, sst, log)
			if errors.Is(err, journal.ErrUnavailable) {
				// The reason is the source's state; setting up again
				// would not change it.
				return func(ctx context.Context) error {
					<-ctx.Done()
					return nil
				}, nil
			}
			if err != nil {
				return nil, err
			}
			return j.Run, nil
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
	j, err := journal.Open(cfg, st, store, a.reg.Source("journal"), a.log.With("component", "journal"))
	if err == nil {
		err = j.ReadAll(context.Background())
	}
	if err != nil && !errors.Is(err, journal.ErrUnavailable) {
		return fail(err)
	}
	return journal.Table(st), nil, nil
}
