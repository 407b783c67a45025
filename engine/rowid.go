package engine

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"strconv"

	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// Rowids matter to SQLite in one place besides "SELECT rowid": a multi-index
// OR plan. For "WHERE (host='a' AND ...) OR (host='b' AND ...)" SQLite runs
// one xFilter per OR branch and merges the scans by rowid (where.c,
// WHERE_MULTI_OR): a row whose rowid an earlier branch already produced is
// skipped, so that a row matching two branches comes out once. A row's rowid
// must therefore name the row, not its position in one scan: with positions
// (what osqueryd's xRowid falls back to), the first row of the second scan
// collides with the first row of the first and is silently dropped.
//
// Declaring the tables WITHOUT ROWID would make SQLite merge by PRIMARY KEY
// instead, but the key must then be unique, SQLite trusts it (a unique key
// over every column turns SELECT DISTINCT into SELECT), and osqueryd keeps
// extension tables rowid tables. No per-table switch turns the OR plan off:
// SQLite chooses it on cost alone, and it is worth having where each branch
// narrows the read.
//
// rowID is therefore:
//
//   - the row's "rowid" value when it has one, as under osqueryd, which has
//     honoured that key in extension rows since osquery 3.3
//     (DynamicTableRow::get_rowid). Evented tables put their event id there
//     (tablekit.StreamGenerate): unique and stable across scans. A value
//     that is not a base-10 int64 is an error, as under osqueryd; since the
//     engine computes a scan's rowids together, on the first xRowid, any
//     such row fails a statement that reads rowids at all.
//   - otherwise a 64-bit hash of the row's column values. Two rows with equal
//     values are indistinguishable in SQL, so merging them across scans loses
//     nothing: SQLite checks a rowid only against earlier branches, never
//     within one scan (OP_RowSetTest batches), so duplicate rows that match
//     the same first branch all come out. A row whose values change between
//     two scans (a counter of osquery_syslog_stats) may come out once per
//     version, as it could in any query that reads the table twice. Two
//     different rows collide with probability 2^-64.
func rowID(cols []column, row map[string]string) (int64, error) {
	if s, ok := row[tablekit.RowIDKey]; ok {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid rowid %q", s)
		}
		return id, nil
	}
	var h maphash.Hash
	h.SetSeed(rowSeed)
	var n [8]byte
	for i := range cols {
		v := row[cols[i].name] // a missing key reads as "", as in xColumn
		binary.LittleEndian.PutUint64(n[:], uint64(len(v)))
		h.Write(n[:])
		h.WriteString(v)
	}
	return int64(h.Sum64()), nil
}

// rowSeed is fixed for the process: rowids need only be consistent within a
// statement.
var rowSeed = maphash.MakeSeed()
