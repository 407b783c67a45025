package syslog

import (
	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// TableName is the table this package serves. It must differ from osquery's
// built-in syslog_events (and its view syslog), or osqueryd refuses the
// whole extension.
const TableName = "syslog_messages"

// StreamName is the event-store stream holding the rows.
const StreamName = "syslog"

// Stream column positions, in Schema() order.
const (
	colDatetime = iota
	colHost
	colSeverity
	colFacility
	colTag
	colMessage
	colEventTime
	colTruncated
	numColumns
)

// Schema is the event-store stream behind syslog_messages. Besides these,
// every stream has eid and time (ingestion time).
func Schema() eventstore.Schema {
	return eventstore.Schema{
		Name: StreamName,
		Columns: []eventstore.Column{
			colDatetime: {Name: "datetime", Type: eventstore.Text},
			colHost:     {Name: "host", Type: eventstore.Text, Indexed: true},
			// Only host (few values, growing at a few insertion points),
			// event_time (nearly in order) and the implicit time and eid
			// are indexed. severity (8 values) and facility (about 20)
			// are not: an index matching an eighth of the rows reads them
			// no faster than a scan, and costs each appended line about
			// 0.5 µs of CPU. tag is not either: rsyslog's tags carry the
			// PID ("sshd[1234]"), so its index is written at random
			// places; with thousands of distinct tags every group commit
			// rewrote thousands of index pages, 60% of the CPU of
			// ingestion (BenchmarkIngestCat, docs/BENCHMARKS.md).
			colSeverity:  {Name: "severity", Type: eventstore.Integer},
			colFacility:  {Name: "facility", Type: eventstore.Text},
			colTag:       {Name: "tag", Type: eventstore.Text},
			colMessage:   {Name: "message", Type: eventstore.Text},
			colEventTime: {Name: "event_time", Type: eventstore.Integer, Indexed: true},
			colTruncated: {Name: "truncated", Type: eventstore.Integer},
		},
	}
}

// Columns of syslog_messages: osquery's syslog_events columns, plus
// event_time and truncated. eid is hidden, and also marked additional
// because osqueryd passes an extension no constraint on a column that is
// only hidden; time keeps option 0, which gets every constraint.
func Columns() []table.ColumnDefinition {
	return []table.ColumnDefinition{
		table.BigIntColumn("time", table.ColumnDescription("When the extension read the line (unix seconds); not the syslog timestamp")),
		table.TextColumn("datetime", table.ColumnDescription("The syslog timestamp as rsyslog wrote it (RFC 3339), raw")),
		table.TextColumn("host", table.ColumnDescription("Hostname field of the message")),
		table.IntegerColumn("severity", table.ColumnDescription("Numeric syslog severity (0 emergency .. 7 debug); NULL if the field is not an integer")),
		table.TextColumn("facility", table.ColumnDescription("Syslog facility name, e.g. cron, auth, kern")),
		table.TextColumn("tag", table.ColumnDescription("Syslog tag, e.g. CRON[16538], with one trailing ':' removed")),
		table.TextColumn("message", table.ColumnDescription("The message text")),
		table.BigIntColumn("event_time", table.ColumnDescription("datetime as unix seconds, honouring its UTC offset; the ingestion time if it does not parse")),
		table.IntegerColumn("truncated", table.ColumnDescription("1 if the line was longer than --syslog_max_line and was cut to at most that many bytes, never inside a UTF-8 character, else 0")),
		eventsrc.EIDColumn(),
	}
}

// Pushdown says which constraints the store answers from its indexes;
// osquery's SQLite re-checks all of them.
func Pushdown() map[string]tablekit.Pushdown {
	return map[string]tablekit.Pushdown{
		"time":       tablekit.Range,
		"event_time": tablekit.Range,
		"eid":        tablekit.Range,
		"severity":   tablekit.EqualOnly,
		"facility":   tablekit.EqualOnly,
		"host":       tablekit.EqualOnly,
		"tag":        tablekit.EqualOnly,
	}
}

// Table is syslog_messages over st, a stream opened with Schema().
func Table(st *eventstore.Stream) tablekit.Table {
	return tablekit.StreamTable(TableName,
		"Syslog messages that rsyslog or syslog-ng wrote to the extension's pipe, "+
			"with osquery's syslog_events columns plus event_time and truncated.",
		st, Columns(), Pushdown())
}
