package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/forwarder"
	"github.com/osquery-syslog/osquery-syslog/forwarder/queue"
	"github.com/osquery-syslog/osquery-syslog/stats"
	"github.com/osquery-syslog/osquery-syslog/tables/statstable"
	"github.com/osquery-syslog/osquery-syslog/tables/syslog"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// statsPersistInterval is how often live counters are written to the event
// store for the query subcommand (and for a look after a crash).
const statsPersistInterval = 5 * time.Second

// pipeRetryInterval is how long the extension waits before retrying a pipe
// it could not set up (missing permissions, a second reader holding it).
const pipeRetryInterval = 10 * time.Second

// runtime is the data side of the binary: the event store, its streams and
// the tables over them. Extension, daemon and query modes share it.
type runtime struct {
	cfg    *config
	log    *slog.Logger
	store  *eventstore.Store
	reg    *stats.Registry
	syslog *eventstore.Stream
	tables []tablekit.Table // unwrapped; see tableOptions

	logfile *eventstore.Stream // logfile_lines (logfile.go)
	journal *eventstore.Stream // journal_messages (journal.go)

	queue      *queue.DB
	forwarders map[string]*forwarder.Forwarder // by logger plugin name
	hostID     string                          // partition key of the loggers; "" = the hostname

	wg sync.WaitGroup
}

// openRuntime opens the store and builds the tables. ingest says whether
// this process owns the buffer (expiry limits apply and sources may run) or
// only reads it (the query subcommand).
func openRuntime(cfg *config, log *slog.Logger, ingest bool) (*runtime, error) {
	store, err := eventstore.Open(cfg.DatabasePath)
	if err != nil {
		return nil, fmt.Errorf("--database_path %s: opening event buffer: %w", cfg.DatabasePath, err)
	}
	rt := &runtime{cfg: cfg, log: log, store: store, reg: stats.NewRegistry()}
	var limits eventstore.Limits
	if ingest {
		limits = cfg.syslogFlags.Limits()
	}
	rt.syslog, err = store.Stream(syslog.Schema(), limits)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("opening syslog stream: %w", err)
	}
	statsStore := store
	if ingest {
		// A live process shows its own counters; snapshots of other
		// processes' sources would be stale copies of the same ones.
		statsStore = nil
	}
	rt.tables = []tablekit.Table{
		syslog.Table(rt.syslog),
		statstable.Table(rt.reg, statsStore),
		aslTable(rt),
	}
	if err := rt.openLogfile(ingest); err != nil {
		store.Close()
		return nil, err
	}
	if err := rt.openJournal(ingest); err != nil {
		store.Close()
		return nil, err
	}
	return rt, nil
}

// tableOptions is how every table is wrapped, whether osqueryd or the
// embedded engine serves it.
func (rt *runtime) tableOptions() tablekit.Options {
	return tablekit.Options{
		Timeout:       time.Duration(rt.cfg.TableTimeout) * time.Second,
		MaxConcurrent: rt.cfg.TableConcurrency,
		Logger:        rt.log,
	}
}

// startSources starts ingestion and the stats persister; they stop when ctx
// is done. With retry, a source that cannot start (a pipe problem) is
// retried in the background instead of failing the start-up; without it the
// first setup error is returned.
func (rt *runtime) startSources(ctx context.Context, retry bool) error {
	if !rt.cfg.DisableSyslog {
		src := rt.reg.Source("syslog")
		src.RowsBuffered.Store(rt.syslog.Count())
		scfg := rt.cfg.syslogFlags.Config()
		errc := make(chan error, 1)
		rt.wg.Add(1)
		go func() {
			defer rt.wg.Done()
			first := true
			for {
				err := syslog.Run(ctx, scfg, rt.syslog, src, rt.log)
				if first {
					errc <- err
					first = false
				}
				if ctx.Err() != nil || !retry {
					return
				}
				if err != nil {
					src.SetError(err)
					rt.log.Error("syslog ingestion stopped; retrying", "err", err, "retry_in", pipeRetryInterval.String())
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(pipeRetryInterval):
				}
			}
		}()
		if !retry {
			// Run returns at once on a setup error and otherwise only when
			// ctx ends; give setup a moment to fail before declaring success.
			select {
			case err := <-errc:
				if err != nil && ctx.Err() == nil {
					return fmt.Errorf("--syslog_pipe_path: %w", err)
				}
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	rt.startLogfile(ctx)
	rt.startJournal(ctx)
	rt.wg.Add(1)
	go func() {
		defer rt.wg.Done()
		t := time.NewTicker(statsPersistInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				rt.persistStats()
				return
			case <-t.C:
				rt.persistStats()
			}
		}
	}()
	return nil
}

func (rt *runtime) persistStats() {
	if err := statstable.Persist(rt.reg, rt.store); err != nil && !errors.Is(err, eventstore.ErrClosed) {
		rt.log.Warn("persisting stats", "err", err)
	}
}

// openLoggers opens the durable queue and one forwarder per configured
// logger plugin. Errors (a missing stream name, bad AWS settings) name the
// flag and fail the start-up.
func (rt *runtime) openLoggers(ctx context.Context) error {
	names := rt.cfg.loggers()
	if len(names) == 0 {
		return nil
	}
	db, err := queue.Open(rt.cfg.ForwarderQueuePath)
	if err != nil {
		return fmt.Errorf("--forwarder_queue_path %s: %w", rt.cfg.ForwarderQueuePath, err)
	}
	rt.queue = db
	rt.forwarders = map[string]*forwarder.Forwarder{}
	for _, name := range names {
		f, err := forwarder.Open(ctx, name, rt.cfg.AWS, rt.hostID, db, rt.reg.Source(name), rt.log)
		if err != nil {
			return err
		}
		rt.forwarders[name] = f
	}
	return nil
}

// startLoggers runs the forwarders until ctx is done.
func (rt *runtime) startLoggers(ctx context.Context) {
	for name, f := range rt.forwarders {
		rt.wg.Add(1)
		go func() {
			defer rt.wg.Done()
			if err := f.Run(ctx); err != nil {
				rt.log.Error("logger stopped", "logger", name, "err", err)
			}
		}()
	}
}

// close waits for the sources and loggers (their context must be done) and
// closes the store and the queue.
func (rt *runtime) close() error {
	rt.wg.Wait()
	var qerr error
	if rt.queue != nil {
		qerr = rt.queue.Close()
	}
	return errors.Join(rt.store.Close(), qerr)
}
