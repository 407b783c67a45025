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

// stateNS holds the persisted snapshots in the event store's state, one per
// source: "stats/<source>".
var stateNS = eventstore.NewNamespace("stats")

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
		table.BigIntColumn("received", table.ColumnDescription("Logger plugins: log lines received from osqueryd and queued")),
		table.BigIntColumn("shipped", table.ColumnDescription("Logger plugins: log lines accepted by the sink")),
		table.BigIntColumn("records_shipped", table.ColumnDescription("Logger plugins: records (aggregates, joined records) accepted by the sink")),
		table.DoubleColumn("aggregation_ratio", table.ColumnDescription("Logger plugins: shipped lines per shipped record")),
		table.BigIntColumn("retried", table.ColumnDescription("Logger plugins: records sent again after a failure (only failed entries are resent)")),
		table.BigIntColumn("failed", table.ColumnDescription("Logger plugins: failed record attempts (all later retried)")),
		table.TextColumn("failed_by_code", table.ColumnDescription("Logger plugins: failed attempts by AWS error code, JSON")),
		table.BigIntColumn("dropped", table.ColumnDescription("Logger plugins: lines dropped (buffered_log_max, unshippable)")),
		table.TextColumn("dropped_by_reason", table.ColumnDescription("Logger plugins: dropped lines by reason, JSON")),
		table.BigIntColumn("queue_depth", table.ColumnDescription("Logger plugins: lines waiting in the durable queue")),
		table.BigIntColumn("oldest_queued_age", table.ColumnDescription("Logger plugins: seconds the oldest queued line has waited")),
		table.BigIntColumn("bytes_raw", table.ColumnDescription("Logger plugins: bytes shipped before compression")),
		table.BigIntColumn("bytes_shipped", table.ColumnDescription("Logger plugins: bytes shipped as sent (after compression)")),
		table.BigIntColumn("billed_units", table.ColumnDescription("Logger plugins: billing units of the accepted records: Kinesis PUT payload units (25 KiB per started chunk of a record), Firehose 5 KiB steps (each record rounded up)")),
		table.TextColumn("state", table.ColumnDescription("Logger plugins: ok, or paused with the terminal error that paused the sink; journal: reading, disabled, or unavailable with the reason")),
		table.TextColumn("last_error", table.ColumnDescription("Last error of the source")),
		table.BigIntColumn("last_error_time", table.ColumnDescription("Unix time of last_error")),
		table.BigIntColumn("updated_time", table.ColumnDescription("Unix time these figures were taken")),
		table.BigIntColumn("rotations", table.ColumnDescription("Log files: rotations, replacements and truncations seen")),
		table.BigIntColumn("errors", table.ColumnDescription("I/O and store errors of the source")),
		table.BigIntColumn("gaps", table.ColumnDescription("Journal: times the stored cursor's entry was gone (vacuumed or rotated away) and reading resumed at the oldest entry still there")),
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
		if err := store.PutState(stateNS.Key(s.Source), string(b)); err != nil {
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
			states, err := store.States(stateNS.Prefix())
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
		"source":            s.Source,
		"lines_read":        i(s.LinesRead, 10),
		"bytes_read":        i(s.BytesRead, 10),
		"parse_errors":      i(s.ParseErrors, 10),
		"truncated_lines":   i(s.TruncatedLines, 10),
		"rows_buffered":     i(s.RowsBuffered, 10),
		"rows_expired":      i(s.RowsExpired, 10),
		"received":          i(s.Received, 10),
		"shipped":           i(s.Shipped, 10),
		"records_shipped":   i(s.RecordsShipped, 10),
		"aggregation_ratio": "",
		"retried":           i(s.Retried, 10),
		"failed":            i(s.Failed, 10),
		"failed_by_code":    tallyJSON(s.FailedByCode),
		"dropped":           i(s.Dropped, 10),
		"dropped_by_reason": tallyJSON(s.DroppedBy),
		"queue_depth":       i(s.QueueDepth, 10),
		"oldest_queued_age": i(s.OldestQueued, 10),
		"bytes_raw":         i(s.BytesRaw, 10),
		"bytes_shipped":     i(s.BytesShipped, 10),
		"billed_units":      i(s.BilledUnits, 10),
		"state":             s.State,
		"last_error":        s.LastError,
		"last_error_time":   "",
		"updated_time":      i(s.UpdatedTime, 10),
		"live":              l,
		"rotations":         i(s.Rotations, 10),
		"errors":            i(s.Errors, 10),
		"gaps":              i(s.Gaps, 10),
	}
	if s.RecordsShipped > 0 {
		r["aggregation_ratio"] = strconv.FormatFloat(float64(s.Shipped)/float64(s.RecordsShipped), 'f', 2, 64)
	}
	if s.LastErrorTime != 0 {
		r["last_error_time"] = i(s.LastErrorTime, 10)
	}
	return r
}

func tallyJSON(m map[string]int64) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m) // sorted keys
	return string(b)
}
