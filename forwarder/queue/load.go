package queue

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// This file holds opening a queue: reading its segments and ranges from
// the file, and migrating the old single-table layout.

func (q *Queue) segTable(first int64) string { return q.prefix + strconv.FormatInt(first, 10) }

// load reads the queue's state from the file: segments, acknowledged
// ranges (rewritten compactly if needed), and drops the segments that are
// acknowledged whole. Called under db.mu and dropMu.
func (q *Queue) load() error {
	w := q.db.w
	if _, err := w.Exec(`CREATE TABLE IF NOT EXISTS ` + q.ackTable + ` (lo INTEGER PRIMARY KEY, hi INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("creating ack table: %w", err)
	}
	if err := q.migrate(); err != nil {
		return fmt.Errorf("migrating the single-table queue: %w", err)
	}
	firsts, err := q.segmentTables()
	if err != nil {
		return err
	}
	if len(firsts) == 0 {
		if _, err := w.Exec(`CREATE TABLE ` + q.segTable(1) + segCols); err != nil {
			return fmt.Errorf("creating segment: %w", err)
		}
		firsts = []int64{1}
	}
	for i, f := range firsts {
		s := &segment{first: f, end: f - 1, table: q.segTable(f)}
		var mx sql.NullInt64
		if err := w.QueryRow(`SELECT max(id) FROM ` + s.table).Scan(&mx); err != nil {
			return fmt.Errorf("reading segment %s: %w", s.table, err)
		}
		if mx.Valid && mx.Int64 >= f {
			s.end = mx.Int64
		}
		if i < len(firsts)-1 && s.size() <= 0 {
			// An empty segment that is not the last holds nothing.
			if _, err := w.Exec(`DROP TABLE ` + s.table); err != nil {
				return fmt.Errorf("dropping empty segment: %w", err)
			}
			continue
		}
		q.segs = append(q.segs, s)
	}
	q.lastID = q.segs[len(q.segs)-1].end

	rows, err := w.Query(`SELECT lo, hi FROM ` + q.ackTable + ` ORDER BY lo`)
	if err != nil {
		return fmt.Errorf("reading acknowledged ranges: %w", err)
	}
	var stored []span
	for rows.Next() {
		var sp span
		if err := rows.Scan(&sp.lo, &sp.hi); err != nil {
			rows.Close()
			return fmt.Errorf("reading acknowledged ranges: %w", err)
		}
		stored = append(stored, sp)
		q.acked.add(sp.lo, sp.hi)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading acknowledged ranges: %w", err)
	}
	rows.Close()
	// Only ids inside the segments matter.
	q.acked.remove(-1<<63, q.segs[0].first-1)
	for i := 1; i < len(q.segs); i++ {
		q.acked.remove(q.segs[i-1].end+1, q.segs[i].first-1)
	}
	q.acked.remove(q.lastID+1, 1<<63-1)
	var n int64
	var compact []span
	for _, s := range q.segs {
		s.acked = q.acked.overlap(s.first, s.end)
		n += s.size() - s.acked
		compact = q.acked.within(compact, s.first, s.end)
	}
	q.count.Store(n)
	q.ackRows = len(stored)
	if !slices.Equal(stored, compact) {
		if err := q.rewriteAcks(compact); err != nil {
			return err
		}
	}
	if q.insert, err = w.Prepare(`INSERT INTO ` + q.segs[len(q.segs)-1].table + ` (id, kind, line, created) VALUES (?, ?, ?, ?)`); err != nil {
		return err
	}
	if q.ackIns, err = w.Prepare(`INSERT OR REPLACE INTO ` + q.ackTable + ` (lo, hi) VALUES (?, ?)`); err != nil {
		return err
	}
	return q.dropLocked()
}

// segmentTables lists the first ids of the queue's segment tables, sorted.
func (q *Queue) segmentTables() ([]int64, error) {
	rows, err := q.db.w.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		return nil, fmt.Errorf("listing segments: %w", err)
	}
	defer rows.Close()
	var firsts []int64
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("listing segments: %w", err)
		}
		rest, ok := strings.CutPrefix(name, q.prefix)
		if !ok || rest == "" || strings.TrimLeft(rest, "0123456789") != "" {
			continue
		}
		f, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || f < 1 || q.segTable(f) != name {
			continue
		}
		firsts = append(firsts, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing segments: %w", err)
	}
	slices.Sort(firsts)
	return firsts, nil
}

// migrate turns a queue table of the old layout (queue_<name>, one row per
// unacknowledged line, acknowledged rows deleted) into the first segment:
// the table is renamed, the ids missing inside it are recorded as
// acknowledged, and appends continue in a new segment after the highest
// id the old table ever used. One transaction: a crash leaves either
// layout whole.
func (q *Queue) migrate() error {
	old := "queue_" + q.name
	var n int
	if err := q.db.w.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, old).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	tx, err := q.db.w.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var seq int64
	if err := tx.QueryRow(`SELECT seq FROM sqlite_sequence WHERE name = ?`, old).Scan(&seq); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	rows, err := tx.Query(`SELECT id FROM ` + old + ` ORDER BY id`)
	if err != nil {
		return err
	}
	var first, prev int64
	var gaps []span
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		if first == 0 {
			first = id
		} else if id > prev+1 {
			gaps = append(gaps, span{prev + 1, id - 1})
		}
		prev = id
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	if first >= 1 {
		if _, err := tx.Exec(`ALTER TABLE ` + old + ` RENAME TO ` + q.segTable(first)); err != nil {
			return err
		}
		for _, g := range gaps {
			if _, err := tx.Exec(`INSERT INTO `+q.ackTable+` (lo, hi) VALUES (?, ?)`, g.lo, g.hi); err != nil {
				return err
			}
		}
	} else if _, err := tx.Exec(`DROP TABLE ` + old); err != nil {
		return err
	}
	if _, err := tx.Exec(`CREATE TABLE ` + q.segTable(max(seq, prev)+1) + segCols); err != nil {
		return err
	}
	return tx.Commit()
}
