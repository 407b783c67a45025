package main

import (
	"context"
	"log/slog"

	"github.com/osquery-syslog/osquery-syslog/stats"
	"github.com/osquery-syslog/osquery-syslog/tables/syslog"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// openSyslog is syslog_messages over its buffer, filled from
// --syslog_pipe_path unless --disable_syslog.
func openSyslog(a *app) (tablekit.Table, *source, error) {
	st, err := a.stream(syslog.Schema(), a.cfg.syslogFlags.Limits())
	if err != nil {
		return tablekit.Table{}, nil, err
	}
	if a.cfg.DisableSyslog {
		return syslog.Table(st), nil, nil
	}
	cfg := a.cfg.syslogFlags.Config()
	src := &source{name: "syslog", flag: "syslog_pipe_path", stream: st,
		setup: func(sst *stats.Source, log *slog.Logger) (func(context.Context) error, error) {
			// Opening the pipe is the whole setup: its errors (permissions,
			// another reader holding the lock) come back here at once.
			f, err := syslog.OpenPipe(cfg.PipePath, log)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context) error {
				defer f.Close()
				log.Info("reading syslog pipe", "path", cfg.PipePath)
				return syslog.Ingest(ctx, f, cfg, st, sst, log)
			}, nil
		}}
	return syslog.Table(st), src, nil
}
