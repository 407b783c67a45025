package main

import (
	"github.com/osquery-syslog/osquery-syslog/tables/asl"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// aslTable is asl_messages over --asl_store_path. It reads the store files
// at query time, so every mode serves it, the query subcommand included.
func aslTable(rt *runtime) tablekit.Table {
	t := asl.New(asl.Config{StorePath: rt.cfg.ASLStorePath, Registry: rt.reg, Logger: rt.log})
	return tablekit.Table{
		Name:        asl.TableName,
		Description: asl.Description,
		Columns:     asl.Columns(),
		Generate:    t.Generate,
	}
}
