// Package queue is the forwarder's durable local queue: every logger call
// from osqueryd is appended here and acknowledged (deleted) only after the
// records carrying it were accepted by the sink, so a crash or kill -9 loses
// nothing and re-sends at most what was in flight.
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
}

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
	return &DB{w: w, r: r}, nil
}

// Close closes the database.
func (d *DB) Close() error {
	return errors.Join(d.r.Close(), d.w.Close())
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Queue is one sink's queue.
type Queue struct {
	db     *DB
	table  string
	max    int64 // buffered_log_max; 0 = unlimited
	count  atomic.Int64
	drops  atomic.Int64
	insert *sql.Stmt
	// delRange deletes the ids of one run: Ack.
	delRange *sql.Stmt
	closed   atomic.Bool
}

// Queue returns the queue named name, creating it if needed. max bounds the
// number of queued lines (osquery's buffered_log_max; 0 = unlimited): past
// it the oldest lines are dropped and counted.
func (d *DB) Queue(name string, max int64) (*Queue, error) {
	if !identRe.MatchString(name) {
		return nil, fmt.Errorf("queue name %q: only letters, digits and _", name)
	}
	t := "queue_" + name
	// AUTOINCREMENT: ids never go back, so "id > cursor" reads stay correct
	// after the queue drains completely.
	if _, err := d.w.Exec(`CREATE TABLE IF NOT EXISTS ` + t + ` (id INTEGER PRIMARY KEY AUTOINCREMENT, kind INTEGER NOT NULL, line BLOB NOT NULL, created INTEGER NOT NULL)`); err != nil {
		return nil, fmt.Errorf("creating queue %s: %w", name, err)
	}
	q := &Queue{db: d, table: t, max: max}
	var n int64
	if err := d.w.QueryRow(`SELECT count(*) FROM ` + t).Scan(&n); err != nil {
		return nil, err
	}
	q.count.Store(n)
	var err error
	if q.insert, err = d.w.Prepare(`INSERT INTO ` + t + ` (kind, line, created) VALUES (?, ?, ?)`); err != nil {
		return nil, err
	}
	if q.delRange, err = d.w.Prepare(`DELETE FROM ` + t + ` WHERE id BETWEEN ? AND ?`); err != nil {
		return nil, err
	}
	return q, nil
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
	now := time.Now().Unix()
	q.db.mu.Lock()
	defer q.db.mu.Unlock()
	if len(lines) == 1 {
		if _, err := q.insert.Exec(kind, lines[0], now); err != nil {
			return fmt.Errorf("queueing log line: %w", err)
		}
	} else {
		tx, err := q.db.w.Begin()
		if err != nil {
			return err
		}
		st := tx.Stmt(q.insert)
		for _, l := range lines {
			if _, err := st.Exec(kind, l, now); err != nil {
				tx.Rollback()
				return fmt.Errorf("queueing log line: %w", err)
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	n := q.count.Add(int64(len(lines)))
	if q.max > 0 && n > q.max {
		excess := n - q.max
		res, err := q.db.w.Exec(`DELETE FROM `+q.table+` WHERE id IN (SELECT id FROM `+q.table+` ORDER BY id LIMIT ?)`, excess)
		if err != nil {
			return fmt.Errorf("dropping oldest queued lines: %w", err)
		}
		d, _ := res.RowsAffected()
		q.count.Add(-d)
		q.drops.Add(d)
	}
	return nil
}

// Read returns up to limit items with id > after, oldest first, stopping
// before maxBytes of lines (at least one item is returned if any exists).
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
		rows, err := qc.QueryContext(ctx, `SELECT id, kind, line FROM `+q.table+` WHERE id > ? ORDER BY id LIMIT ?`,
			[]driver.NamedValue{{Ordinal: 1, Value: after}, {Ordinal: 2, Value: int64(limit)}})
		if err != nil {
			return err
		}
		defer rows.Close()
		dest := make([]driver.Value, 3)
		bytes := 0
		for {
			if err := rows.Next(dest); err == io.EOF {
				return nil
			} else if err != nil {
				return err
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
				return fmt.Errorf("queue: line column holds %T", v)
			}
			if len(out) > 0 && bytes+len(it.Line) > maxBytes {
				return nil
			}
			bytes += len(it.Line)
			if out == nil {
				out = make([]Item, 0, min(limit, 1<<16))
			}
			out = append(out, it)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
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

// Ack deletes the items with the given ids (shipped).
func (q *Queue) Ack(ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if q.closed.Load() {
		return ErrClosed
	}
	q.db.mu.Lock()
	defer q.db.mu.Unlock()
	tx, err := q.db.w.Begin()
	if err != nil {
		return err
	}
	// Acknowledged ids are mostly consecutive (a request carries a run of
	// the queue): one range DELETE per run instead of one per id.
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	st := tx.Stmt(q.delRange)
	var n int64
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && sorted[j] <= sorted[j-1]+1 {
			j++
		}
		res, err := st.Exec(sorted[i], sorted[j-1])
		if err != nil {
			tx.Rollback()
			return err
		}
		d, _ := res.RowsAffected()
		n += d
		i = j
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	q.count.Add(-n)
	return nil
}

// Len is the number of queued lines.
func (q *Queue) Len() int64 { return q.count.Load() }

// Dropped is the number of lines dropped by the buffered_log_max bound since
// the queue was opened.
func (q *Queue) Dropped() int64 { return q.drops.Load() }

// Oldest returns the creation time of the oldest queued line (zero if empty).
func (q *Queue) Oldest(ctx context.Context) (time.Time, error) {
	var c sql.NullInt64
	// The line queued first (lowest id), found through the primary key;
	// min(created) would scan the whole queue on every read of a backlog.
	err := q.db.r.QueryRowContext(ctx, `SELECT created FROM `+q.table+` ORDER BY id LIMIT 1`).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	if !c.Valid {
		return time.Time{}, nil
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
	return errors.Join(q.insert.Close(), q.delRange.Close())
}
