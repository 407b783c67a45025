// Package eventstore is the durable, bounded buffer behind the evented tables:
// one SQLite database (WAL) holding one table per stream, appended to in
// batches, expired by age and count, and queried by time, eid and indexed
// columns.
package eventstore

import (
	"context"
	"errors"
	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
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
// string for Text columns and an int64 for Integer columns.
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
// order (string or int64).
type Row struct {
	EID    int64
	Time   int64
	Values []any
}

// ErrClosed is returned by operations on a closed store.
var ErrClosed = errors.New("eventstore: closed")

// Store is an open event database.
type Store struct{}

// Open opens (creating if needed) the database at path in WAL mode. Many
// processes may open the same file: one writer (the extension or daemon) and
// any number of readers (the query subcommand); readers never block the
// writer.
func Open(path string) (*Store, error) { return nil, errors.New("not implemented") }

// Close closes the database.
func (s *Store) Close() error { return nil }

// Stream returns the stream described by schema, creating its table and
// indexes if missing. Limits are applied by Append and Expire.
func (s *Store) Stream(schema Schema, limits Limits) (*Stream, error) {
	return nil, errors.New("not implemented")
}

// PutState stores a small key/value (stats snapshots, positions).
func (s *Store) PutState(key, value string) error { return errors.New("not implemented") }

// States returns every key/value whose key starts with prefix.
func (s *Store) States(prefix string) (map[string]string, error) {
	return nil, errors.New("not implemented")
}

// Stream is one table of events.
type Stream struct{}

// Append stores events in one transaction, assigning increasing eids, then
// enforces the limits. It returns the number of rows expired by the limits.
func (st *Stream) Append(events []Event) (expired int64, err error) {
	return 0, errors.New("not implemented")
}

// Expire applies the limits relative to now and returns the rows removed.
func (st *Stream) Expire(now time.Time) (int64, error) { return 0, errors.New("not implemented") }

// Schema returns the stream's schema.
func (st *Stream) Schema() Schema { return Schema{} }

// Count returns the number of rows currently stored.
func (st *Stream) Count() int64 { return 0 }

// Query calls fn for every row matching all conds (AND), in eid order.
// Conditions on eid, time and Indexed columns use indexes.
func (st *Stream) Query(ctx context.Context, conds []Cond, fn func(Row) error) error {
	return errors.New("not implemented")
}
