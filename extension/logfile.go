package main

import (
	"context"
	"log/slog"

	"github.com/osquery-syslog/osquery-syslog/stats"
	"github.com/osquery-syslog/osquery-syslog/tables/logfile"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// openLogfile is logfile_lines over its buffer, filled from the files
// --logfile_paths matches, if any.
func openLogfile(a *app) (tablekit.Table, *source, error) {
	st, err := a.stream(logfile.Schema(), a.cfg.logfileConfig.Limits())
	if err != nil {
		return tablekit.Table{}, nil, err
	}
	cfg := a.cfg.logfileConfig.Config()
	if len(cfg.Paths) == 0 {
		return logfile.Table(st), nil, nil
	}
	src := &source{name: "logfile", flag: "logfile_paths", stream: st,
		setup: func(sst *stats.Source, log *slog.Logger) (func(context.Context) error, error) {
			// Reading the saved positions is the setup.
			t, err := logfile.New(cfg, st, a.store, sst, log)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context) error {
				defer t.Close()
				return t.Run(ctx)
			}, nil
		}}
	return logfile.Table(st), src, nil
}
