package main

import (
	"context"
	"maps"
	"slices"

	osquery "github.com/osquery/osquery-go"
	"github.com/osquery/osquery-go/plugin/logger"

	"github.com/osquery-syslog/osquery-syslog/forwarder"
	"github.com/osquery-syslog/osquery-syslog/forwarder/pack"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// plugins is what the extension registers with osqueryd: every table (already
// wrapped, see openTables) and a logger plugin per forwarder.
func (a *app) plugins() []osquery.OsqueryPlugin {
	var out []osquery.OsqueryPlugin
	for _, t := range a.tables {
		out = append(out, tablekit.Plugin(t))
	}
	for _, name := range slices.Sorted(maps.Keys(a.forwarders)) {
		out = append(out, loggerPlugin(name, a.forwarders[name]))
	}
	return out
}

// loggerPlugin adapts a forwarder to osquery-go's logger plugin: every call
// only queues the line durably and returns.
func loggerPlugin(name string, f *forwarder.Forwarder) *logger.Plugin {
	return logger.NewPlugin(name, func(_ context.Context, typ logger.LogType, line string) error {
		switch typ {
		case logger.LogTypeString:
			return f.Log(pack.Result, []byte(line))
		case logger.LogTypeSnapshot:
			return f.Log(pack.Snapshot, []byte(line))
		case logger.LogTypeStatus:
			return f.Log(pack.Status, []byte(line))
		}
		// init carries the process name and health is never sent.
		return nil
	})
}
