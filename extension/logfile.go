package main

import (
	"context"
	"fmt"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/tables/logfile"
)

// openLogfile opens the logfile stream and adds logfile_lines to the tables.
func (rt *runtime) openLogfile(ingest bool) error {
	var limits eventstore.Limits
	if ingest {
		limits = rt.cfg.logfileConfig.Limits()
	}
	st, err := rt.store.Stream(logfile.Schema(), limits)
	if err != nil {
		return fmt.Errorf("opening logfile stream: %w", err)
	}
	rt.logfile = st
	rt.tables = append(rt.tables, logfile.Table(st))
	return nil
}

// startLogfile follows --logfile_paths until ctx is done.
func (rt *runtime) startLogfile(ctx context.Context) {
	cfg := rt.cfg.logfileConfig.Config()
	if len(cfg.Paths) == 0 {
		return
	}
	src := rt.reg.Source("logfile")
	src.RowsBuffered.Store(rt.logfile.Count())
	rt.wg.Add(1)
	go func() {
		defer rt.wg.Done()
		if err := logfile.Run(ctx, cfg, rt.logfile, rt.store, src, rt.log); err != nil {
			src.SetError(err)
			rt.log.Error("log file ingestion stopped", "err", err)
		}
	}()
}
