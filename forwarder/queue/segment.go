package queue

import (
	"fmt"
	"time"
)

// segCols is the layout of a segment table (the same as the single table
// of the old layout, so an old table becomes a segment by a rename).
const segCols = ` (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, line BLOB NOT NULL, created INTEGER NOT NULL)`

// segment is one segment table, holding ids first..end. Every id of that
// span is either a row of the table or acknowledged (the gaps an old-layout
// table had are recorded as acknowledged when it is migrated).
type segment struct {
	first, end int64 // end grows while this is the segment appended to
	acked      int64 // acknowledged ids in first..end
	table      string
}

func (s *segment) size() int64 { return s.end - s.first + 1 }

// Append queues one line. It returns once the line is committed.
func (q *Queue) Append(kind uint8, line []byte) error {
	return q.AppendMany(kind, [][]byte{line})
}

// AppendMany queues several lines of one kind in one transaction (a status
// relay carries many lines).
func (q *Queue) AppendMany(kind uint8, lines [][]byte) error {
	if q.closed.Load() {
		return ErrClosed
	}
	if len(lines) == 0 {
		return nil
	}
	now := time.Now().Unix()
	q.db.mu.Lock()
	if q.closed.Load() {
		q.db.mu.Unlock()
		return ErrClosed
	}
	err := q.appendLocked(kind, lines, now)
	drop := false
	if err == nil && q.max > 0 && q.count.Load() > q.max {
		drop, err = q.dropOldestLocked()
	}
	q.db.mu.Unlock()
	if err != nil {
		return err
	}
	if drop {
		return q.dropSegments()
	}
	return nil
}

func (q *Queue) appendLocked(kind uint8, lines [][]byte, now int64) error {
	id := q.lastID + 1
	if id-q.segs[len(q.segs)-1].first >= q.db.segRows {
		if err := q.startSegment(id); err != nil {
			return fmt.Errorf("starting a queue segment: %w", err)
		}
	}
	if len(lines) == 1 {
		if _, err := q.insert.Exec(id, kind, lines[0], now); err != nil {
			return fmt.Errorf("queueing log line: %w", err)
		}
	} else {
		tx, err := q.db.w.Begin()
		if err != nil {
			return fmt.Errorf("queueing log lines: %w", err)
		}
		st := tx.Stmt(q.insert)
		for i, l := range lines {
			if _, err := st.Exec(id+int64(i), kind, l, now); err != nil {
				tx.Rollback()
				return fmt.Errorf("queueing log line: %w", err)
			}
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("queueing log lines: %w", err)
		}
	}
	n := 0
	for _, l := range lines {
		n += len(l) + 32
	}
	q.db.wrote(n)
	q.mu.Lock()
	q.lastID = id + int64(len(lines)) - 1
	q.segs[len(q.segs)-1].end = q.lastID
	q.mu.Unlock()
	q.count.Add(int64(len(lines)))
	return nil
}

// startSegment creates the segment table that appends continue in, from
// id first on. A crash right after leaves an empty last segment, which
// load reads as "last id = first-1": ids still never go back.
func (q *Queue) startSegment(first int64) error {
	t := q.segTable(first)
	if _, err := q.db.w.Exec(`CREATE TABLE ` + t + segCols); err != nil {
		return err
	}
	ins, err := q.db.w.Prepare(`INSERT INTO ` + t + ` (id, kind, line, created) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	q.insert.Close()
	q.insert = ins
	q.mu.Lock()
	q.segs = append(q.segs, &segment{first: first, end: first - 1, table: t})
	q.mu.Unlock()
	return nil
}

// dropOldestLocked enforces buffered_log_max: the oldest unacknowledged
// lines past the bound are acknowledged (recorded like shipped ones) and
// counted as dropped. It reports whether a segment can now be dropped.
func (q *Queue) dropOldestLocked() (bool, error) {
	excess := q.count.Load() - q.max
	var pieces []span
	var n int64
	q.mu.Lock()
	for _, s := range q.segs {
		for _, u := range q.acked.uncovered(nil, s.first, s.end) {
			take := min(u.size(), excess-n)
			pieces = q.markLocked(pieces, u.lo, u.lo+take-1)
			n += take
			if n >= excess {
				break
			}
		}
		if n >= excess {
			break
		}
	}
	drop := q.droppableLocked()
	q.mu.Unlock()
	q.drops.Add(n)
	if err := q.persistAcks(pieces); err != nil {
		return false, fmt.Errorf("dropping oldest queued lines: %w", err)
	}
	return drop, nil
}

// droppableLocked reports whether a segment other than the last is
// acknowledged whole.
func (q *Queue) droppableLocked() bool {
	for _, s := range q.segs[:len(q.segs)-1] {
		if s.acked == s.size() {
			return true
		}
	}
	return false
}

// dropSegments drops the segments acknowledged whole, waiting for reads of
// them to finish.
func (q *Queue) dropSegments() error {
	q.dropMu.Lock()
	defer q.dropMu.Unlock()
	q.db.mu.Lock()
	defer q.db.mu.Unlock()
	if q.closed.Load() {
		return nil
	}
	return q.dropLocked()
}

// dropLocked drops every segment but the last whose ids are all
// acknowledged, with its ranges, in one transaction; under dropMu and
// db.mu. Should the transaction fail, the segments are only forgotten in
// memory: the next open finds them acknowledged whole and drops them.
func (q *Queue) dropLocked() error {
	q.mu.Lock()
	var gone []*segment
	last := len(q.segs) - 1
	keep := q.segs[:0]
	for i, s := range q.segs {
		if i < last && s.acked == s.size() {
			gone = append(gone, s)
			q.acked.remove(s.first, s.end)
			continue
		}
		keep = append(keep, s)
	}
	clear(q.segs[len(keep):])
	q.segs = keep
	q.mu.Unlock()
	if len(gone) == 0 {
		return nil
	}
	tx, err := q.db.w.Begin()
	if err != nil {
		return fmt.Errorf("dropping acknowledged segments: %w", err)
	}
	defer tx.Rollback()
	var deleted int64
	for _, s := range gone {
		if _, err := tx.Exec(`DROP TABLE ` + s.table); err != nil {
			return fmt.Errorf("dropping acknowledged segments: %w", err)
		}
		res, err := tx.Exec(`DELETE FROM `+q.ackTable+` WHERE lo BETWEEN ? AND ?`, s.first, s.end)
		if err != nil {
			return fmt.Errorf("dropping acknowledged segments: %w", err)
		}
		n, _ := res.RowsAffected()
		deleted += n
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("dropping acknowledged segments: %w", err)
	}
	q.ackRows -= int(deleted)
	q.db.wrote(checkpointBytes) // a drop rewrites many pages
	return nil
}
