// Package eventstore is the durable, bounded buffer behind the evented tables:
// one SQLite database (WAL) holding one table per stream, appended to in
// batches, expired by age and count, and queried by time, eid and indexed
// columns.
//
// # State
//
// Beside the streams, the store keeps small key/values (PutState, States,
// PruneStates, and Stream.AppendState, which stores them atomically with
// rows). Every key follows one rule: "<namespace>/<name>", where namespace
// is registered by its owner with NewNamespace (once, at package level) and
// name is non-empty and may hold further '/'. Writes of any other key fail.
// The owners and their names:
//
//	logfile/<dev>:<ino>/<path>   tables/logfile: a followed file's position
//	stats/<source>               tables/statstable: a source's last snapshot
//	schedule/interval/<query>    schedule: a query's splayed interval
//	schedule/query/<query>       schedule: a query's previous results and cursor
//	daemon/instance_id           extension: the daemon's instance id
//
// Releases before the rule wrote "daemon.instance_id",
// "schedule.interval.<query>" and "schedule.query.<query>"; Open renames
// them, in one transaction.
package eventstore

import (
	"errors"
	"time"
)

// ColumnType is the storage type of a stream column.
type ColumnType int

const (
	Text    ColumnType = iota // stored as TEXT, values are string
	Integer                   // stored as INTEGER, values are int64
)

// Column is one column of a stream, besides the implicit eid and time.
type Column struct {
	Name    string
	Type    ColumnType
	Indexed bool // an index is kept so that equality/range conditions are cheap
}

// Schema describes a stream: its name (a SQLite identifier) and its columns.
// Every stream also has eid (INTEGER, monotonic, never reused, even across
// restarts) and time (INTEGER unix seconds, indexed).
type Schema struct {
	Name    string
	Columns []Column
}

// Limits bound a stream. Zero means unlimited.
type Limits struct {
	MaxAge   time.Duration // rows whose time is older than now-MaxAge are expired
	MaxCount int64         // at most this many rows are kept; the oldest go first
}

// Event is one row to append. Values are in Schema.Columns order; each is a
// string for Text columns and an int64 for Integer columns, or nil (stored as
// NULL).
type Event struct {
	Time   int64
	Values []any
}

// Op is a comparison operator of a Cond.
type Op int

const (
	Eq Op = iota
	Gt
	Ge
	Lt
	Le
)

// Cond is one condition of a query: Column Op Value. Column is "eid", "time"
// or a schema column; Value is an int64 for integer columns and a string for
// text columns.
type Cond struct {
	Column string
	Op     Op
	Value  any
}

// Row is one stored event as returned by Query. Values are in schema column
// order (string or int64, nil for NULL).
type Row struct {
	EID    int64
	Time   int64
	Values []any
}

// ErrClosed is returned by operations on a closed store.
var ErrClosed = errors.New("eventstore: closed")
