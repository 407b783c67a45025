// Package statstable serves osquery_syslog_stats: the extension's own
// counters, live from this process's registry and, for sources this process
// does not run (the query subcommand reading a daemon's buffer), the last
// snapshot the running process persisted in the event store.
package statstable

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/stats"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// StateKeyPrefix prefixes the event-store state keys holding persisted
// snapshots, one per source.
const StateKeyPrefix = "stats/"

// Name is the table name.
const Name = "osquery_syslog_stats"

// Columns of osquery_syslog_stats.
func Columns() []table.ColumnDefinition {
	return []table.ColumnDefinition{
		table.TextColumn("source", table.ColumnDescription("Component: syslog, a log file, a logger plugin")),
		table.BigIntColumn("lines_read", table.ColumnDescription("Complete lines read from the input")),
		table.BigIntColumn("bytes_read", table.ColumnDescription("Bytes read from the input")),
		table.BigIntColumn("parse_errors", table.ColumnDescription("Malformed lines counted and skipped")),
		table.BigIntColumn("truncated_lines", table.ColumnDescription("Lines longer than the limit, stored truncated")),
		table.BigIntColumn("rows_buffered", table.ColumnDescription("Rows currently in the event buffer")),
		table.BigIntColumn("rows_expired", table.ColumnDescription("Rows removed by age or count expiry")),
		table.TextColumn("last_error", table.ColumnDescription("Last error of the source")),
		table.BigIntColumn("last_error_time", table.ColumnDescription("Unix time of last_error")),
		table.BigIntColumn("updated_time", table.ColumnDescription("Unix time these figures were taken")),
		table.IntegerColumn("live", table.ColumnDescription("1 if the source runs in this process, 0 if the figures come from the snapshot a running extension or daemon stored")),
	}
}

// Persist stores a snapshot of every source of reg in store, so that another
// process can read them.
func Persist(reg *stats.Registry, store *eventstore.Store) error {
	for _, s := range reg.Snapshots() {
		b, err := json.Marshal(s)
		if err != nil {
			return err
		}
		if err := store.PutState(StateKeyPrefix+s.Source, string(b)); err != nil {
			return err
		}
	}
	return nil
}

// Table returns osquery_syslog_stats over reg and, if store is not nil, the
// snapshots persisted in store.
func Table(reg *stats.Registry, store *eventstore.Store) tablekit.Table {
	return tablekit.Table{
		Name:        Name,
		Description: "Counters of osquery-syslog's own sources: lines, bytes, parse errors, truncation, buffered and expired rows, last error.",
		Columns:     Columns(),
		Generate: func(ctx context.Context, _ table.QueryContext) ([]map[string]string, error) {
			seen := map[string]bool{}
			var rows []map[string]string
			for _, s := range reg.Snapshots() {
				seen[s.Source] = true
				rows = append(rows, row(s, true))
			}
			if store == nil {
				return rows, nil
			}
			states, err := store.States(StateKeyPrefix)
			if err != nil {
				return rows, err
			}
			for _, v := range states {
				var s stats.Snapshot
				if json.Unmarshal([]byte(v), &s) != nil || seen[s.Source] {
					continue
				}
				rows = append(rows, row(s, false))
			}
			return rows, nil
		},
	}
}

func row(s stats.Snapshot, live bool) map[string]string {
	i := strconv.FormatInt
	l := "0"
	if live {
		l = "1"
	}
	r := map[string]string{
		"source":          s.Source,
		"lines_read":      i(s.LinesRead, 10),
		"bytes_read":      i(s.BytesRead, 10),
		"parse_errors":    i(s.ParseErrors, 10),
		"truncated_lines": i(s.TruncatedLines, 10),
		"rows_buffered":   i(s.RowsBuffered, 10),
		"rows_expired":    i(s.RowsExpired, 10),
		"last_error":      s.LastError,
		"last_error_time": "",
		"updated_time":    i(s.UpdatedTime, 10),
		"live":            l,
	}
	if s.LastErrorTime != 0 {
		r["last_error_time"] = i(s.LastErrorTime, 10)
	}
	return r
}
