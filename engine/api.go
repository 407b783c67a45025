package engine

import (
	"errors"

	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

var (
	// ErrNoVTable is returned by New in a binary built without the
	// sqlite_vtable tag.
	ErrNoVTable = errors.New("engine: built without the sqlite_vtable tag; build with make build")
	// ErrClosed is returned by Query after Close.
	ErrClosed = errors.New("engine: closed")
)

// PoolSize is the number of connections, hence of queries running at once;
// further Query calls wait for a free connection. It equals tablekit's
// default per-table concurrency cap: one query runs at most one generate
// call at a time (SQLite's nested loops call them one after the other), so
// the pool alone never makes a wrapped table answer ErrBusy.
const PoolSize = tablekit.DefaultConcurrency
