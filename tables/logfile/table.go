package logfile

import (
	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// TableName is the table this package serves.
const TableName = "logfile_lines"

// StreamName is the event-store stream holding the rows.
const StreamName = "logfile"

// Stream column positions, in Schema() order (emit relies on it).
const (
	colPath = iota
	colLine
	colMessage
	colOffset
	colInode
	colTruncated
	numColumns
)

// Schema is the event-store stream behind logfile_lines. Besides these,
// every stream has eid and time (ingestion time).
func Schema() eventstore.Schema {
	return eventstore.Schema{
		Name: StreamName,
		Columns: []eventstore.Column{
			colPath:      {Name: "path", Type: eventstore.Text, Indexed: true},
			colLine:      {Name: "line", Type: eventstore.Integer},
			colMessage:   {Name: "message", Type: eventstore.Text},
			colOffset:    {Name: "offset", Type: eventstore.Integer},
			colInode:     {Name: "inode", Type: eventstore.Integer},
			colTruncated: {Name: "truncated", Type: eventstore.Integer},
		},
	}
}

// Columns of logfile_lines. eid is hidden and additional (osqueryd passes
// no constraint on a column that is only hidden), as in syslog_messages.
func Columns() []table.ColumnDefinition {
	return []table.ColumnDefinition{
		table.TextColumn("path", table.ColumnDescription("Path of the log file (as matched by --logfile_paths; a rotated generation keeps the path it was read under)")),
		table.BigIntColumn("line", table.ColumnDescription("Line number within the file generation, from 1; a rotation or truncation starts a new generation")),
		table.BigIntColumn("time", table.ColumnDescription("When the extension read the line (unix seconds)")),
		table.TextColumn("message", table.ColumnDescription("The line without its newline (and without a CR before it)")),
		table.BigIntColumn("offset", table.ColumnDescription("Byte offset of the line's start in its file generation")),
		table.BigIntColumn("inode", table.ColumnDescription("Inode of the file generation the line was read from")),
		table.IntegerColumn("truncated", table.ColumnDescription("1 if the line was longer than --logfile_max_line and was cut to at most that many bytes, never inside a UTF-8 character, else 0")),
		eventsrc.EIDColumn(),
	}
}

// Pushdown says which constraints the store answers from its indexes;
// osquery's SQLite re-checks all of them.
func Pushdown() map[string]tablekit.Pushdown {
	return map[string]tablekit.Pushdown{
		"path": tablekit.EqualOnly,
		"time": tablekit.Range,
		"eid":  tablekit.Range,
	}
}

// Table is logfile_lines over st, a stream opened with Schema().
func Table(st *eventstore.Stream) tablekit.Table {
	return tablekit.StreamTable(TableName,
		"Lines of the log files matched by --logfile_paths, each complete line exactly once "+
			"across rename rotation, copytruncate, delete and recreate, and restarts.",
		st, Columns(), Pushdown())
}
