package eventstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Connection settings. Every connection, the writer's and the readers', gets
// the busy timeout, so that the rare moments where SQLite needs a lock in WAL
// mode (recovery, checkpoint-on-close, a schema change) wait instead of
// failing with SQLITE_BUSY.
const (
	busyTimeoutMS = 5000

	// pageSize only applies when the file is created. 2, 8 and 16 KiB
	// were measured slower for appends.
	pageSize = 4096
	// walAutocheckpoint is the WAL size (pages) that makes a commit
	// checkpoint. 10000 pages (40 MB) rather than SQLite's 1000 cuts
	// append CPU by ~15%: a page rewritten by many commits is copied
	// into the database file once per checkpoint.
	walAutocheckpoint = 10000

	// writerCacheKiB is the page cache of the write connection: large
	// enough for the hot pages of the table and index b-trees.
	writerCacheKiB = 32 << 10
	// readerCacheKiB is the page cache of each read connection.
	readerCacheKiB = 16 << 10
	// readerMmap maps the database file for readers: pages already
	// checkpointed into the main file are read without a copy.
	readerMmap = 256 << 20
	// walSizeLimit truncates the WAL file back to this size after a
	// checkpoint that reset it.
	walSizeLimit = 64 << 20

	stateTable = "state"
)

// Store is an open event database.
//
// It holds one write connection, used by a single goroutine at a time under
// wmu, with its statements prepared once; and a pool of read connections for
// Query and States. In WAL mode the readers see the last committed
// transaction and neither side waits for the other, so a long Query does not
// stall Append.
type Store struct {
	wmu    sync.Mutex // serialises every use of w and the write state below
	w      *sqlite3.SQLiteConn
	closed atomic.Bool

	dataVersion *sqlite3.SQLiteStmt // PRAGMA data_version on w
	putState    *sqlite3.SQLiteStmt // upsert into the state table
	stateArgs   []driver.NamedValue
	tables      map[string]*table // by stream name

	rdb *sql.DB // read pool
}

// connector opens go-sqlite3 connections with a fixed DSN; the driver's
// ConnectHook applies the per-connection pragmas to every connection of the
// pool.
type connector struct {
	drv *sqlite3.SQLiteDriver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.drv }

// dsn returns a "file:" URI for path (escaped, so that '?', '#' and '%' in
// the path are not taken for URI syntax) with go-sqlite3 options.
func dsn(abs string, opts string) string {
	u := url.URL{Path: abs}
	return "file:" + u.EscapedPath() + "?" + opts
}

// Open opens (creating if needed) the database at path in WAL mode. Many
// processes may open the same file: one writer (the extension or daemon) and
// any number of readers (the query subcommand); readers never block the
// writer.
func Open(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("eventstore: empty database path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("eventstore: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("eventstore: creating directory: %w", err)
	}
	common := fmt.Sprintf("_busy_timeout=%d", busyTimeoutMS)

	wdrv := &sqlite3.SQLiteDriver{}
	wc, err := wdrv.Open(dsn(abs, common+"&_synchronous=NORMAL"))
	if err != nil {
		return nil, fmt.Errorf("eventstore: opening %s: %w", path, err)
	}
	s := &Store{w: wc.(*sqlite3.SQLiteConn), tables: map[string]*table{}}
	if err := s.initWriter(); err != nil {
		for _, st := range []*sqlite3.SQLiteStmt{s.dataVersion, s.putState} {
			if st != nil {
				st.Close()
			}
		}
		s.w.Close()
		return nil, fmt.Errorf("eventstore: opening %s: %w", path, err)
	}

	rdrv := &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec(fmt.Sprintf("PRAGMA cache_size=-%d; PRAGMA mmap_size=%d",
			readerCacheKiB, readerMmap), nil)
		return err
	}}
	s.rdb = sql.OpenDB(connector{drv: rdrv, dsn: dsn(abs, common+"&_query_only=1&_stmt_cache_size=32")})
	n := max(4, runtime.GOMAXPROCS(0))
	s.rdb.SetMaxOpenConns(n)
	s.rdb.SetMaxIdleConns(2)
	s.rdb.SetConnMaxIdleTime(time.Minute)
	return s, nil
}

// initWriter sets the write connection up: page size (new files only), WAL,
// caches, the state table and the statements shared by every stream.
func (s *Store) initWriter() error {
	// page_size must come before journal_mode: switching a new file to
	// WAL writes its header.
	if err := s.exec(fmt.Sprintf("PRAGMA page_size=%d", pageSize)); err != nil {
		return err
	}
	mode, err := s.queryText("PRAGMA journal_mode=WAL")
	if err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("cannot use WAL mode (journal_mode is %q)", mode)
	}
	if err := s.exec(fmt.Sprintf("PRAGMA synchronous=NORMAL; PRAGMA cache_size=-%d; PRAGMA journal_size_limit=%d; PRAGMA wal_autocheckpoint=%d",
		writerCacheKiB, walSizeLimit, walAutocheckpoint)); err != nil {
		return err
	}
	exists, err := s.objectExists("table", stateTable)
	if err != nil {
		return err
	}
	if !exists {
		if err := s.exec(`CREATE TABLE IF NOT EXISTS ` + stateTable + ` (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID`); err != nil {
			return err
		}
	}
	if err := s.migrateStateKeys(); err != nil {
		return err
	}
	if s.dataVersion, err = s.prepare("PRAGMA data_version"); err != nil {
		return err
	}
	if s.putState, err = s.prepare(`INSERT INTO ` + stateTable + `(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`); err != nil {
		return err
	}
	s.stateArgs = namedArgs(2)
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.wmu.Lock()
	if s.closed.Swap(true) {
		s.wmu.Unlock()
		return nil
	}
	var errs []error
	for _, t := range s.tables {
		errs = append(errs, t.closeStmts())
	}
	for _, st := range []*sqlite3.SQLiteStmt{s.dataVersion, s.putState} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	errs = append(errs, s.w.Close())
	s.wmu.Unlock()
	errs = append(errs, s.rdb.Close())
	return errors.Join(errs...)
}

// PutState stores a small key/value (stats snapshots, positions). key is
// "<namespace>/<name>" (see Namespace).
func (s *Store) PutState(key, value string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	if err := s.putStateLocked(key, value); err != nil {
		return fmt.Errorf("eventstore: put state %q: %w", key, err)
	}
	return nil
}

func (s *Store) putStateLocked(key, value string) error {
	s.stateArgs[0].Value = key
	s.stateArgs[1].Value = value
	_, err := s.putState.ExecContext(context.Background(), s.stateArgs)
	s.stateArgs[0].Value, s.stateArgs[1].Value = nil, nil
	return err
}

// States returns every key/value whose key starts with prefix (any
// prefix, "" for all).
func (s *Store) States(prefix string) (map[string]string, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	// Keys are compared bytewise (BINARY collation), so the keys with a
	// prefix are the contiguous run starting at the prefix itself.
	rows, err := s.rdb.Query(`SELECT key, value FROM `+stateTable+` WHERE key >= ? ORDER BY key`, prefix)
	if err != nil {
		return nil, s.readErr(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k string
		var v sql.NullString
		if err := rows.Scan(&k, &v); err != nil {
			return nil, s.readErr(err)
		}
		if !strings.HasPrefix(k, prefix) {
			break
		}
		out[k] = v.String
	}
	if err := rows.Err(); err != nil {
		return nil, s.readErr(err)
	}
	return out, nil
}

// readErr maps a read-pool error after Close to ErrClosed.
func (s *Store) readErr(err error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return fmt.Errorf("eventstore: %w", err)
}

// Helpers on the write connection; the caller holds wmu (or is Open).

var bg = context.Background()

func (s *Store) exec(q string) error {
	_, err := s.w.ExecContext(bg, q, nil)
	return err
}

func (s *Store) prepare(q string) (*sqlite3.SQLiteStmt, error) {
	st, err := s.w.PrepareContext(bg, q)
	if err != nil {
		return nil, err
	}
	return st.(*sqlite3.SQLiteStmt), nil
}

func (s *Store) queryText(q string) (string, error) {
	rows, err := s.w.QueryContext(bg, q, nil)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	dest := make([]driver.Value, len(rows.Columns()))
	if err := rows.Next(dest); err != nil {
		return "", err
	}
	switch v := dest[0].(type) {
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	}
	return fmt.Sprint(dest[0]), nil
}

func (s *Store) objectExists(typ, name string) (bool, error) {
	return s.exists(`SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?`,
		driver.NamedValue{Ordinal: 1, Value: typ}, driver.NamedValue{Ordinal: 2, Value: name})
}

// exists reports whether query q returns a row.
func (s *Store) exists(q string, args ...driver.NamedValue) (bool, error) {
	rows, err := s.w.QueryContext(bg, q, args)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	err = rows.Next(make([]driver.Value, 1))
	if err == nil {
		return true, nil
	}
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	return false, err
}

// queryInt runs a prepared single-value query on the write connection. null
// reports a NULL result (or no row).
func queryInt(st *sqlite3.SQLiteStmt, args []driver.NamedValue) (v int64, null bool, err error) {
	rows, err := st.QueryContext(bg, args)
	if err != nil {
		return 0, false, err
	}
	var dest [1]driver.Value
	err = rows.Next(dest[:])
	cerr := rows.Close()
	if errors.Is(err, io.EOF) {
		return 0, true, cerr
	}
	if err != nil {
		return 0, false, err
	}
	if cerr != nil {
		return 0, false, cerr
	}
	switch x := dest[0].(type) {
	case int64:
		return x, false, nil
	case nil:
		return 0, true, nil
	}
	return 0, false, fmt.Errorf("unexpected %T result", dest[0])
}

// execChanges runs a prepared statement on the write connection and returns
// the number of rows it changed.
func execChanges(st *sqlite3.SQLiteStmt, args []driver.NamedValue) (int64, error) {
	r, err := st.ExecContext(bg, args)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// namedArgs returns n positional driver arguments, ordinals set.
func namedArgs(n int) []driver.NamedValue {
	a := make([]driver.NamedValue, n)
	for i := range a {
		a[i].Ordinal = i + 1
	}
	return a
}

// begin starts a write transaction. IMMEDIATE takes the write lock at once
// (waiting up to the busy timeout for another writer), so the transaction can
// never fail later because its read snapshot went stale.
func (s *Store) begin() error { return s.exec("BEGIN IMMEDIATE") }

func (s *Store) commit() error { return s.exec("COMMIT") }

// rollback ends a failed transaction; SQLite may already have rolled back.
func (s *Store) rollback() {
	if !s.w.AutoCommit() {
		_ = s.exec("ROLLBACK")
	}
}
