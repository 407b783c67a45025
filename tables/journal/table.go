package journal

import (
	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// TableName is the table this package serves.
const TableName = "journal_messages"

// StreamName is the event-store stream holding the rows.
const StreamName = "journal"

// Stream column positions, in Schema() order (the mapper relies on it).
const (
	colHost = iota
	colEventTime
	colEventTimeUsec
	colSeverity
	colFacility
	colTag
	colIdentifier
	colPID
	colUID
	colGID
	colComm
	colExe
	colCmdline
	colUnit
	colBootID
	colTransport
	colMessage
	colCursor
	colFields
	colTruncated
	numColumns
)

// Schema is the event-store stream behind journal_messages. Besides these,
// every stream has eid and time (ingestion time).
func Schema() eventstore.Schema {
	return eventstore.Schema{
		Name: StreamName,
		Columns: []eventstore.Column{
			// As in syslog_messages, only host and event_time (and the
			// implicit time and eid) are indexed. systemd_unit,
			// identifier and boot_id equality is pushed down and checked
			// while reading: an index per column costs every appended
			// entry, and unit and identifier indexes are written at
			// random places.
			colHost:          {Name: "host", Type: eventstore.Text, Indexed: true},
			colEventTime:     {Name: "event_time", Type: eventstore.Integer, Indexed: true},
			colEventTimeUsec: {Name: "event_time_usec", Type: eventstore.Integer},
			colSeverity:      {Name: "severity", Type: eventstore.Integer},
			colFacility:      {Name: "facility", Type: eventstore.Text},
			colTag:           {Name: "tag", Type: eventstore.Text},
			colIdentifier:    {Name: "identifier", Type: eventstore.Text},
			colPID:           {Name: "pid", Type: eventstore.Integer},
			colUID:           {Name: "uid", Type: eventstore.Integer},
			colGID:           {Name: "gid", Type: eventstore.Integer},
			colComm:          {Name: "comm", Type: eventstore.Text},
			colExe:           {Name: "exe", Type: eventstore.Text},
			colCmdline:       {Name: "cmdline", Type: eventstore.Text},
			colUnit:          {Name: "systemd_unit", Type: eventstore.Text},
			colBootID:        {Name: "boot_id", Type: eventstore.Text},
			colTransport:     {Name: "transport", Type: eventstore.Text},
			colMessage:       {Name: "message", Type: eventstore.Text},
			colCursor:        {Name: "cursor", Type: eventstore.Text},
			colFields:        {Name: "fields", Type: eventstore.Text},
			colTruncated:     {Name: "truncated", Type: eventstore.Integer},
		},
	}
}

// Columns of journal_messages. The names of syslog_messages (time, host,
// severity, facility, tag, message, event_time, truncated) mean the same
// here, so queries port between the two. The hidden eid column ends it, as
// every evented table.
func Columns() []table.ColumnDefinition {
	return []table.ColumnDefinition{
		table.BigIntColumn("time", table.ColumnDescription("When the extension read the entry (unix seconds): ingestion time, as in syslog_messages")),
		table.BigIntColumn("event_time", table.ColumnDescription("When journald received the entry (__REALTIME_TIMESTAMP, unix seconds)")),
		table.BigIntColumn("event_time_usec", table.ColumnDescription("__REALTIME_TIMESTAMP in microseconds since the epoch")),
		table.TextColumn("host", table.ColumnDescription("_HOSTNAME: the host that logged the entry")),
		table.IntegerColumn("severity", table.ColumnDescription("PRIORITY: syslog severity 0 (emerg) to 7 (debug); NULL if absent or not such a number (then the field is in fields)")),
		table.TextColumn("facility", table.ColumnDescription("SYSLOG_FACILITY as the name rsyslog uses (kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, ntp, audit, alert, clock, local0-7); NULL if absent or not 0-23 (then the field is in fields)")),
		table.TextColumn("tag", table.ColumnDescription("Syslog tag as rsyslog writes it: SYSLOG_IDENTIFIER (else _COMM), then [SYSLOG_PID] (else [_PID]), e.g. sshd[1234]")),
		table.TextColumn("identifier", table.ColumnDescription("SYSLOG_IDENTIFIER: the program name the entry was logged under")),
		table.BigIntColumn("pid", table.ColumnDescription("_PID: process id of the logging process (trusted, set by journald)")),
		table.BigIntColumn("uid", table.ColumnDescription("_UID: user id of the logging process (trusted)")),
		table.BigIntColumn("gid", table.ColumnDescription("_GID: group id of the logging process (trusted)")),
		table.TextColumn("comm", table.ColumnDescription("_COMM: name of the logging process (trusted)")),
		table.TextColumn("exe", table.ColumnDescription("_EXE: executable path of the logging process (trusted)")),
		table.TextColumn("cmdline", table.ColumnDescription("_CMDLINE: command line of the logging process (trusted)")),
		table.TextColumn("systemd_unit", table.ColumnDescription("_SYSTEMD_UNIT: the systemd unit of the logging process, e.g. ssh.service")),
		table.TextColumn("boot_id", table.ColumnDescription("_BOOT_ID: the boot the entry was logged in (32 hex digits)")),
		table.TextColumn("transport", table.ColumnDescription("_TRANSPORT: how journald received the entry (journal, syslog, stdout, kernel, audit, driver)")),
		table.TextColumn("message", table.ColumnDescription("MESSAGE, byte for byte: multi-line text stays whole and a binary MESSAGE keeps its bytes")),
		table.TextColumn("cursor", table.ColumnDescription("__CURSOR: journald's position of the entry (journalctl --cursor / --after-cursor)")),
		table.TextColumn("fields", table.ColumnDescription("Every other field of the entry, and __MONOTONIC_TIMESTAMP, as a JSON object: a UTF-8 value as a string, any other as an array of byte values (as journalctl -o json writes them); a field that occurs more than once as an array of its values")),
		table.IntegerColumn("truncated", table.ColumnDescription("1 if MESSAGE was longer than --journal_max_line and was cut to at most that many bytes, never inside a UTF-8 character, else 0")),
		eventsrc.EIDColumn(),
	}
}

// Pushdown says which constraints the store answers; osquery's SQLite
// re-checks all of them.
func Pushdown() map[string]tablekit.Pushdown {
	return map[string]tablekit.Pushdown{
		"time":         tablekit.Range,
		"event_time":   tablekit.Range,
		"eid":          tablekit.Range,
		"host":         tablekit.EqualOnly,
		"systemd_unit": tablekit.EqualOnly,
		"identifier":   tablekit.EqualOnly,
		"boot_id":      tablekit.EqualOnly,
	}
}

// Table is journal_messages over st, a stream opened with Schema().
func Table(st *eventstore.Stream) tablekit.Table {
	return tablekit.StreamTable(TableName,
		"systemd journal entries (journald, or a copied journal directory), with syslog_messages' "+
			"columns plus journald's own fields.",
		st, Columns(), Pushdown())
}
