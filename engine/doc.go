// Package engine answers SQL over this project's tables without osqueryd:
// it opens a private in-memory SQLite database in which every
// tablekit.Table is a virtual table, and makes each table's generate
// function see exactly what it would see under osqueryd (the same
// constraints, encoded the same way, and the same coercion of the returned
// strings), so a table behaves the same in standalone mode and as an
// extension.
//
// The SQLite is the one github.com/mattn/go-sqlite3 compiles in. Its Go
// virtual table API cannot be used: it sets aConstraintUsage[].omit for every
// constraint a table accepts, so SQLite stops re-checking those WHERE terms
// and a table that treats constraints as hints (as osquery allows) returns
// wrong rows. The engine therefore registers its own small C module and
// drives its own connections (see vtab.c). It is compiled only with the
// sqlite_vtable build tag (make build); without it New returns an error.
//
// A row's rowid is its "rowid" value when it has one, as under osqueryd, and
// otherwise a hash of its values, never its position in a scan: SQLite
// merges the scans of a multi-index OR plan by rowid (see rowid.go).
//
// Query is safe for concurrent use: the Engine keeps a small pool of
// independent connections. The tables are eponymous virtual tables, so every
// connection has all of them with no shared state to keep in sync.
package engine
