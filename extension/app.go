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
	"github.com/osquery-syslog/osquery-syslog/forwarder/awsconf"
	"github.com/osquery-syslog/osquery-syslog/forwarder/queue"
	"github.com/osquery-syslog/osquery-syslog/stats"
	"github.com/osquery-syslog/osquery-syslog/tables/statstable"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// statsPersistInterval is how often live counters are written to the event
// store for the query subcommand (and for a look after a crash).
const statsPersistInterval = 5 * time.Second

// sourceRetryInterval is how long the extension waits before setting up
// again a source that failed (a pipe with the wrong permissions, a second
// reader holding it).
const sourceRetryInterval = 10 * time.Second

// app is the data side of the binary: the event store, the tables over it
// and the sources that fill them, and the logger plugins' queue and
// forwarders. Every mode goes through the same steps:
//
//	a, err := openApp(cfg, log, ingest) // store, tables (registry.go)
//	err = a.openLoggers(ctx, names, host) // extension, daemon
//	err = a.start(policy)                 // extension, daemon
//	... serve a.tables / a.plugins() ...
//	a.close()                             // stops what start started, closes store and queue
type app struct {
	cfg    *config
	log    *slog.Logger
	ingest bool // this process owns the buffer: expiry applies, sources may run
	store  *eventstore.Store
	reg    *stats.Registry

	tables  []tablekit.Table // wrapped: served as they are, by osqueryd or the engine
	sources []*source        // the enabled sources of the evented tables

	queue      *queue.DB
	forwarders map[string]*forwarder.Forwarder // by logger plugin name

	cancel  context.CancelFunc // stops what start started
	wg      sync.WaitGroup
	closers []func() error // what the tables opened besides the store (query's copied journal)
}

// source is the ingestion side of an evented table.
type source struct {
	name   string // its row in osquery_syslog_stats and its log component
	flag   string // the flag a setup error names when it fails the start-up
	stream *eventstore.Stream
	// setup readies ingestion (opens the pipe, reads saved positions) and
	// returns what ingests until ctx is done. Only its errors depend on the
	// mode (see setupPolicy).
	setup func(st *stats.Source, log *slog.Logger) (run func(ctx context.Context) error, err error)
}

// setupPolicy is what a source that cannot be set up does to its process.
type setupPolicy int

const (
	// retrySetup (extension): the tables keep serving the buffer,
	// osquery_syslog_stats shows the error, and the setup is retried every
	// sourceRetryInterval; so is a source that stops with an error.
	retrySetup setupPolicy = iota
	// failSetup (daemon): start fails naming the source's flag.
	failSetup
)

// openApp opens the store and the tables. ingest says whether this process
// owns the buffer (expiry limits apply and sources may run) or only reads it
// (the query subcommand).
func openApp(cfg *config, log *slog.Logger, ingest bool) (*app, error) {
	store, err := eventstore.Open(cfg.DatabasePath)
	if err != nil {
		return nil, fmt.Errorf("--database_path %s: opening event buffer: %w", cfg.DatabasePath, err)
	}
	a := &app{cfg: cfg, log: log, ingest: ingest, store: store, reg: stats.NewRegistry()}
	if err := a.openTables(); err != nil {
		store.Close()
		return nil, err
	}
	return a, nil
}

// stream opens the buffer of an evented table; its limits (the source's
// retention flags) apply only in a process that ingests.
func (a *app) stream(schema eventstore.Schema, limits eventstore.Limits) (*eventstore.Stream, error) {
	if !a.ingest {
		limits = eventstore.Limits{}
	}
	st, err := a.store.Stream(schema, limits)
	if err != nil {
		return nil, fmt.Errorf("opening %s stream: %w", schema.Name, err)
	}
	return st, nil
}

// openLoggers opens the durable queue and a forwarder for each AWS logger
// plugin in names (the daemon's filesystem logger is not one). host is the
// default partition key; "" means the hostname. Errors (a missing stream
// name, bad AWS settings) name the flag and fail the start-up.
func (a *app) openLoggers(ctx context.Context, names []string, host string) error {
	for _, name := range names {
		if name != awsconf.Kinesis && name != awsconf.Firehose {
			continue
		}
		if a.queue == nil {
			db, err := queue.Open(a.cfg.ForwarderQueuePath)
			if err != nil {
				return fmt.Errorf("--forwarder_queue_path %s: %w", a.cfg.ForwarderQueuePath, err)
			}
			a.queue = db
			a.forwarders = map[string]*forwarder.Forwarder{}
		}
		f, err := forwarder.Open(ctx, name, a.cfg.AWS, host, a.queue, a.reg.Source(name), a.log.With("component", name))
		if err != nil {
			return err
		}
		a.forwarders[name] = f
	}
	return nil
}

// start runs the sources, the forwarders and the stats persister until
// close. A source that cannot be set up is handled by policy; with
// failSetup its error is returned and the caller must still close.
func (a *app) start(policy setupPolicy) error {
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	for _, s := range a.sources {
		if err := a.startSource(ctx, s, policy); err != nil {
			return err
		}
	}
	for name, f := range a.forwarders {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			if err := f.Run(ctx); err != nil {
				a.log.Error("logger stopped", "logger", name, "err", err)
			}
		}()
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		t := time.NewTicker(statsPersistInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				a.persistStats()
				return
			case <-t.C:
				a.persistStats()
			}
		}
	}()
	return nil
}

// startSource sets s up at once, so that a setup error is known (returned
// or in the stats) when start returns, and runs it in the background.
func (a *app) startSource(ctx context.Context, s *source, policy setupPolicy) error {
	st := a.reg.Source(s.name)
	st.RowsBuffered.Store(s.stream.Count())
	log := a.log.With("component", s.name)
	report := func(err error) {
		st.SetError(err)
		if policy == failSetup {
			log.Error("ingestion stopped", "err", err)
			return
		}
		log.Error("ingestion stopped; retrying", "err", err, "retry_in", sourceRetryInterval.String())
	}
	run, err := s.setup(st, log)
	if err != nil {
		if policy == failSetup {
			return fmt.Errorf("--%s: %w", s.flag, err)
		}
		report(err)
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		for {
			if err == nil {
				err = run(ctx)
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					report(err)
				}
				if policy == failSetup {
					return
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(sourceRetryInterval):
			}
			if run, err = s.setup(st, log); err != nil {
				report(err)
			}
		}
	}()
	return nil
}

func (a *app) persistStats() {
	if err := statstable.Persist(a.reg, a.store); err != nil && !errors.Is(err, eventstore.ErrClosed) {
		a.log.Warn("persisting stats", "err", err)
	}
}

// close stops what start started, waits for it, and closes the queue and
// the store.
func (a *app) close() error {
	if a.cancel != nil {
		a.cancel()
	}
	a.wg.Wait()
	var errs []error
	if a.queue != nil {
		errs = append(errs, a.queue.Close())
	}
	for _, c := range a.closers {
		errs = append(errs, c())
	}
	return errors.Join(append(errs, a.store.Close())...)
}
