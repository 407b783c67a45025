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
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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
//
// Checkpoints (copying the WAL back into the database file, with an
// fsync) run on a connection of their own, in the background: left to
// SQLite's auto-checkpoint they ran inside whichever commit crossed 1,000
// WAL pages, usually a logger call's append, which then took tens of
// milliseconds instead of tens of microseconds (BenchmarkLogBusy).
type DB struct {
	w  *sql.DB // one connection: all writes are serialised by SQLite anyway
	r  *sql.DB // readers (WAL: never block the writer)
	ck *sql.DB // checkpoints
	mu sync.Mutex
	// segRows is the number of lines per segment (SegmentRows; tests
	// shrink it).
	segRows int64

	walBytes atomic.Int64  // bytes committed since the last checkpoint (estimate)
	ckWake   chan struct{} // a checkpoint is due
	ckStop   chan struct{}
	ckDone   chan struct{}
	stopOnce sync.Once
}

// checkpointBytes is how much may be committed before a checkpoint is
// asked for (SQLite's default auto-checkpoint is 1,000 pages of 4 KiB);
// checkpointEvery bounds the wait of a smaller amount.
const (
	checkpointBytes = 4 << 20
	checkpointEvery = time.Second
)

// SegmentRows is how many lines a segment table holds before the next
// append starts a new one. A segment is dropped once all its lines are
// acknowledged, so this bounds both the cost of one drop and the space a
// drained queue keeps. A drop holds the writer, and a logger call's append
// waits for it: SQLite reads every page of the table to free it, about
// 120 ms for 65,536 typical lines under load (BenchmarkLogBusy's slowest
// call), so segments are kept to 8,192 lines (a few MB).
const SegmentRows = 8192

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
	ck, err := sql.Open("sqlite3", dsn)
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	ck.SetMaxOpenConns(1)
	// The writer's single connection lives as long as the DB; should it
	// ever be reopened, it auto-checkpoints again, which is only slower.
	if _, err := w.Exec(`PRAGMA wal_autocheckpoint=0`); err != nil {
		errors.Join(w.Close(), r.Close(), ck.Close())
		return nil, fmt.Errorf("opening queue %s: %w", path, err)
	}
	d := &DB{w: w, r: r, ck: ck, segRows: SegmentRows,
		ckWake: make(chan struct{}, 1), ckStop: make(chan struct{}), ckDone: make(chan struct{})}
	go d.checkpointer()
	return d, nil
}

// Close closes the database.
func (d *DB) Close() error {
	d.stopOnce.Do(func() { close(d.ckStop) })
	<-d.ckDone
	_, err := d.ck.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
	return errors.Join(err, d.ck.Close(), d.r.Close(), d.w.Close())
}

// wrote counts n bytes committed and asks for a checkpoint when enough
// are.
func (d *DB) wrote(n int) {
	if d.walBytes.Add(int64(n)) >= checkpointBytes {
		select {
		case d.ckWake <- struct{}{}:
		default:
		}
	}
}

// checkpointer runs PASSIVE checkpoints, which never block the writer or
// the readers, when asked and every checkpointEvery while anything was
// written.
func (d *DB) checkpointer() {
	defer close(d.ckDone)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-d.ckStop:
			return
		case <-d.ckWake:
		case <-t.C:
			if d.walBytes.Load() == 0 {
				continue
			}
		}
		d.walBytes.Store(0)
		d.ck.Exec(`PRAGMA wal_checkpoint(PASSIVE)`) // a failed checkpoint is retried next time
	}
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

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
