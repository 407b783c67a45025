package eventstore

import (
	"database/sql"
	"errors"
)

// LastEID returns the highest eid ever assigned in the stream (0 if none),
// as of the last committed write. Expired rows do not lower it: eids are
// never reused, so it is a safe upper bound for "everything appended so far"
// (a per-reader cursor over the stream).
func (st *Stream) LastEID() (int64, error) {
	t := st.t
	if t.s.closed.Load() {
		return 0, ErrClosed
	}
	// AUTOINCREMENT keeps the high-water mark in sqlite_sequence, updated in
	// the same transaction as the insert.
	var seq int64
	err := t.s.rdb.QueryRow(`SELECT seq FROM sqlite_sequence WHERE name = ?`, tableName(t.schema.Name)).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, t.readErr(err)
	}
	return seq, nil
}
