package main

import (
	"github.com/osquery-syslog/osquery-syslog/tables/asl"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// openASL is asl_messages over --asl_store_path. It reads the store files
// at query time, so every mode serves it, the query subcommand included.
func openASL(a *app) (tablekit.Table, *source, error) {
	t := asl.New(asl.Config{StorePath: a.cfg.ASLStorePath, Registry: a.reg, Logger: a.log.With("component", "asl")})
	return tablekit.Table{
		Name:        asl.TableName,
		Description: asl.Description,
		Columns:     asl.Columns(),
		Generate:    t.Generate,
	}, nil, nil
}
