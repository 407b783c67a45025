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
			return syslog.Open(cfg, st, sst, log)
		}}
	return syslog.Table(st), src, nil
}
