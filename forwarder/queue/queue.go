// Package queue is the forwarder's durable local queue: every logger call
// from osqueryd is appended here and acknowledged only after the records
// carrying it were accepted by the sink, so a crash or kill -9 loses nothing
// and re-sends at most what was in flight.
//
// Layout: the lines of a queue live in segment tables q_<name>_<first id>,
// a new one every SegmentRows lines; ids are global and never go back. An
// acknowledgement does not delete rows: it records the acknowledged id
// ranges in q_<name>_acked (one small insert per Ack, ranges merged in
// memory), reads skip those ranges, and a segment whose every id is
// acknowledged (and that is not the one being appended to) is dropped whole
// together with its ranges. After a restart the queued lines are the rows
// of the segments not covered by the persisted ranges.
package queue

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// ErrClosed is returned by operations on a closed queue.
var ErrClosed = errors.New("queue: closed")

// Item is one queued logger call.
type Item struct {
	ID   int64
	Kind uint8
	Line []byte
}

// DB is one queue file holding one queue per sink.
type DB struct {
	w  *sql.DB // one connection: all writes are serialised by SQLite anyway
	r  *sql.DB // readers (WAL: never block the writer)
	mu sync.Mutex
	// segRows is the number of lines per segment (SegmentRows; tests
	// shrink it).
	segRows int64
}

// SegmentRows is how many lines a segment table holds before the next
// append starts a new one. A segment is dropped once all its lines are
// acknowledged, so this bounds both the cost of one drop and the space a
// drained queue keeps.
const SegmentRows = 65536

// Open opens (creating if needed) the queue database at path. Synchronous is
// NORMAL: a committed append survives the process being killed; only a power
// loss can take the last transactions of the WAL.
func Open(path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("creating queue directory: %w", err)
	}
	dsn := "file:" + path + "?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=5000&_txlock=immediate"
	w, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	if err := w.Ping(); err != nil {
		w.Close()
		return nil, fmt.Errorf("opening queue %s: %w", path, err)
	}
	r, err := sql.Open("sqlite3", dsn+"&mode=ro")
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(4)
	return &DB{w: w, r: r, segRows: SegmentRows}, nil
}

// Close closes the database.
func (d *DB) Close() error {
	return errors.Join(d.r.Close(), d.w.Close())
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

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

// Queue is one sink's queue.
type Queue struct {
	db       *DB
	name     string
	prefix   string // segment tables are prefix + first id
	ackTable string
	max      int64 // buffered_log_max; 0 = unlimited
	count    atomic.Int64
	drops    atomic.Int64
	closed   atomic.Bool

	// dropMu keeps a segment from being dropped while Read or Oldest
	// queries it: they hold it shared, a drop holds it exclusively (taken
	// before db.mu).
	dropMu sync.RWMutex

	// mu guards the in-memory state below. Changes hold db.mu and then mu,
	// so holding either one is enough to read it; mu is only ever held for
	// memory work, never across SQL.
	mu     sync.Mutex
	segs   []*segment // oldest first; the last one is appended to
	acked  spanSet    // acknowledged ids within the segments
	lastID int64      // highest id appended (committed)

	// ackRows is the number of rows in the ack table; under db.mu.
	ackRows int

	// Statements on the writer connection, used under db.mu.
	insert *sql.Stmt // into the last segment
	ackIns *sql.Stmt
}

// Queue returns the queue named name, creating it if needed (or migrating
// a queue of the old single-table layout). max bounds the number of queued
// lines (osquery's buffered_log_max; 0 = unlimited): past it the oldest
// lines are dropped and counted.
func (d *DB) Queue(name string, max int64) (*Queue, error) {
	if !identRe.MatchString(name) {
		return nil, fmt.Errorf("queue name %q: only letters, digits and _", name)
	}
	q := &Queue{db: d, name: name, prefix: "q_" + name + "_", ackTable: "q_" + name + "_acked", max: max}
	q.dropMu.Lock()
	defer q.dropMu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := q.load(); err != nil {
		q.closeStmts()
		return nil, fmt.Errorf("opening queue %s: %w", name, err)
	}
	return q, nil
}

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

// rewriteAcks replaces the persisted ranges by spans (one transaction).
func (q *Queue) rewriteAcks(spans []span) error {
	tx, err := q.db.w.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`DELETE FROM ` + q.ackTable); err != nil {
		return fmt.Errorf("compacting acknowledged ranges: %w", err)
	}
	for _, sp := range spans {
		if _, err := tx.Exec(`INSERT INTO `+q.ackTable+` (lo, hi) VALUES (?, ?)`, sp.lo, sp.hi); err != nil {
			return fmt.Errorf("compacting acknowledged ranges: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("compacting acknowledged ranges: %w", err)
	}
	q.ackRows = len(spans)
	return nil
}

// compactSpans lists the acknowledged ranges as they are persisted: the
// merged in-memory spans, cut at segment boundaries. Under db.mu.
func (q *Queue) compactSpans() []span {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []span
	for _, s := range q.segs {
		out = q.acked.within(out, s.first, s.end)
	}
	return out
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

// Read returns up to limit items with id > after, oldest first, stopping
// before maxBytes of lines (at least one item is returned if any exists).
// Acknowledged lines are skipped.
//
// It reads through the driver directly rather than database/sql's Rows:
// the driver already hands each line over in a fresh Go slice, which
// becomes Item.Line as it is, where Rows.Scan would copy it again and add
// locking and conversions per row (about a third of Read's CPU for lines
// of a few hundred bytes).
func (q *Queue) Read(ctx context.Context, after int64, limit, maxBytes int) ([]Item, error) {
	if q.closed.Load() {
		return nil, ErrClosed
	}
	q.dropMu.RLock()
	defer q.dropMu.RUnlock()
	plan := q.plan(after, int64(limit))
	if len(plan) == 0 {
		return nil, nil
	}
	conn, err := q.db.r.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var out []Item
	err = conn.Raw(func(dc any) error {
		qc, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("queue: driver connection %T cannot query", dc)
		}
		bytes := 0
		dest := make([]driver.Value, 3)
		for _, p := range plan {
			full, err := func() (bool, error) {
				rows, err := qc.QueryContext(ctx, `SELECT id, kind, line FROM `+p.table+` WHERE id BETWEEN ? AND ? ORDER BY id`,
					[]driver.NamedValue{{Ordinal: 1, Value: p.lo}, {Ordinal: 2, Value: p.hi}})
				if err != nil {
					return false, err
				}
				defer rows.Close()
				for {
					if err := rows.Next(dest); err == io.EOF {
						return false, nil
					} else if err != nil {
						return false, err
					}
					it := Item{ID: asInt64(dest[0]), Kind: uint8(asInt64(dest[1]))}
					switch v := dest[2].(type) {
					case []byte:
						it.Line = v[:len(v):len(v)]
					case string:
						it.Line = []byte(v)
					case nil:
						it.Line = []byte{}
					default:
						return false, fmt.Errorf("queue: line column holds %T", v)
					}
					if len(out) > 0 && bytes+len(it.Line) > maxBytes {
						return true, nil
					}
					bytes += len(it.Line)
					if out == nil {
						out = make([]Item, 0, min(limit, 1<<16))
					}
					out = append(out, it)
				}
			}()
			if err != nil || full {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readPiece is one range of unacknowledged ids of one segment.
type readPiece struct {
	table  string
	lo, hi int64
}

// plan lists the unacknowledged ids after after, up to limit of them, as
// ranges per segment.
func (q *Queue) plan(after, limit int64) []readPiece {
	q.mu.Lock()
	defer q.mu.Unlock()
	var plan []readPiece
	var scratch []span
	i := sort.Search(len(q.segs), func(i int) bool { return q.segs[i].end > after })
	for ; i < len(q.segs) && limit > 0; i++ {
		s := q.segs[i]
		if s.acked == s.size() {
			continue
		}
		scratch = q.acked.uncovered(scratch[:0], max(after+1, s.first), s.end)
		for _, u := range scratch {
			take := min(u.size(), limit)
			plan = append(plan, readPiece{s.table, u.lo, u.lo + take - 1})
			limit -= take
			if limit == 0 {
				break
			}
		}
	}
	return plan
}

// Ack records the items with the given ids as shipped: their id ranges
// are persisted (one small insert per run of consecutive ids, usually one
// per call), reads skip them, and a segment acknowledged whole is dropped.
// Unknown and already acknowledged ids are ignored.
func (q *Queue) Ack(ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if q.closed.Load() {
		return ErrClosed
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	q.db.mu.Lock()
	if q.closed.Load() {
		q.db.mu.Unlock()
		return ErrClosed
	}
	q.mu.Lock()
	var pieces []span
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && sorted[j] <= sorted[j-1]+1 {
			j++
		}
		pieces = q.markLocked(pieces, sorted[i], sorted[j-1])
		i = j
	}
	drop := q.droppableLocked()
	q.mu.Unlock()
	err := q.persistAcks(pieces)
	q.db.mu.Unlock()
	if err != nil {
		return fmt.Errorf("recording acknowledged lines: %w", err)
	}
	if drop {
		return q.dropSegments()
	}
	return nil
}

// markLocked marks the not yet acknowledged ids of [lo, hi] that lie in a
// segment as acknowledged, updating the counts, and appends them to dst as
// ranges that never cross a segment boundary. Called under db.mu and mu.
func (q *Queue) markLocked(dst []span, lo, hi int64) []span {
	i := sort.Search(len(q.segs), func(i int) bool { return q.segs[i].end >= lo })
	for ; i < len(q.segs) && q.segs[i].first <= hi; i++ {
		s := q.segs[i]
		a, b := max(lo, s.first), min(hi, s.end)
		if a > b {
			continue
		}
		n := len(dst)
		dst = q.acked.uncovered(dst, a, b)
		for _, u := range dst[n:] {
			q.acked.add(u.lo, u.hi)
			s.acked += u.size()
			q.count.Add(-u.size())
		}
	}
	return dst
}

// persistAcks stores acknowledged ranges; under db.mu. Acks arriving one
// line at a time (a quiet host) add a row each although they merge in
// memory, so once the table holds many more rows than there are merged
// spans it is rewritten from memory, which keeps it as small as the set.
func (q *Queue) persistAcks(pieces []span) error {
	if len(pieces) == 0 {
		return nil
	}
	if err := q.insertAcks(pieces); err != nil {
		return err
	}
	q.ackRows += len(pieces)
	// len(q.acked.s) may be read under db.mu alone: changes hold both.
	if q.ackRows > 2*len(q.acked.s)+compactRows {
		return q.rewriteAcks(q.compactSpans())
	}
	return nil
}

// compactRows is how many ack table rows beyond twice the merged spans
// trigger a rewrite.
const compactRows = 256

func (q *Queue) insertAcks(pieces []span) error {
	if len(pieces) == 1 {
		_, err := q.ackIns.Exec(pieces[0].lo, pieces[0].hi)
		return err
	}
	tx, err := q.db.w.Begin()
	if err != nil {
		return err
	}
	st := tx.Stmt(q.ackIns)
	for _, p := range pieces {
		if _, err := st.Exec(p.lo, p.hi); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
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
	return nil
}

// Len is the number of queued (unacknowledged) lines.
func (q *Queue) Len() int64 { return q.count.Load() }

// Dropped is the number of lines dropped by the buffered_log_max bound since
// the queue was opened.
func (q *Queue) Dropped() int64 { return q.drops.Load() }

// Oldest returns the creation time of the oldest queued line (zero if empty).
func (q *Queue) Oldest(ctx context.Context) (time.Time, error) {
	if q.closed.Load() {
		return time.Time{}, ErrClosed
	}
	q.dropMu.RLock()
	defer q.dropMu.RUnlock()
	var table string
	var id int64
	q.mu.Lock()
	for _, s := range q.segs {
		if s.acked == s.size() {
			continue
		}
		if v, ok := q.acked.firstUncovered(s.first, s.end); ok {
			table, id = s.table, v
			break
		}
	}
	q.mu.Unlock()
	if table == "" {
		return time.Time{}, nil
	}
	var c sql.NullInt64
	err := q.db.r.QueryRowContext(ctx, `SELECT created FROM `+table+` WHERE id = ?`, id).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !c.Valid) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(c.Int64, 0), nil
}

// Close releases the queue's statements; the DB stays open.
func (q *Queue) Close() error {
	if q.closed.Swap(true) {
		return nil
	}
	q.db.mu.Lock()
	defer q.db.mu.Unlock()
	return q.closeStmts()
}

func (q *Queue) closeStmts() error {
	var errs []error
	for _, st := range []*sql.Stmt{q.insert, q.ackIns} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// asInt64 converts an integer column value as the sqlite3 driver returns it.
func asInt64(v any) int64 {
	switch v := v.(type) {
	case int64:
		return v
	case nil:
		return 0
	}
	panic(fmt.Sprintf("queue: integer column holds %T", v))
}
