package eventstore

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
)

// maxChunk is the most rows one INSERT statement carries. Append splits a
// batch into power-of-two chunks (64, 32, ... 1 rows), each a cached
// multi-row INSERT, so a batch costs a handful of statement executions
// instead of one per row.
const maxChunk = 64

// Stream is one table of events.
type Stream struct {
	t      *table
	limits Limits
}

// table is the state shared by every Stream handle on one stream of a Store.
type table struct {
	s      *Store
	schema Schema // private copy
	types  []ColumnType
	colIdx map[string]int // schema column name -> index

	selectSQL string // SELECT eid, time, <cols> FROM <table>
	countSQL  string

	// Guarded by s.wmu.
	ws       wstate
	insSQL   [2]string             // INSERT ... VALUES and one "(?,...)" group
	ins      []*sqlite3.SQLiteStmt // ins[k] inserts 1<<k rows; prepared lazily
	chunk    int                   // rows of the largest INSERT, a power of two
	args     []driver.NamedValue   // chunk * (1+len(columns)) bound values
	arg1     []driver.NamedValue
	delAge   *sqlite3.SQLiteStmt
	delCount *sqlite3.SQLiteStmt
	minTime  *sqlite3.SQLiteStmt
	count    *sqlite3.SQLiteStmt

	// Published after each committed write, for Count.
	rows  atomic.Int64
	owned atomic.Bool // this process has written the stream: rows is exact
}

// wstate is what the writer knows about a stream's table. It is copied at the
// start of a write transaction and stored back only after COMMIT, so a
// rolled-back transaction leaves it untouched.
type wstate struct {
	synced bool  // rows and minT describe the table as of data version dv
	dv     int64 // PRAGMA data_version of the write connection
	rows   int64 // exact row count
	minT   int64 // lower bound of min(time); math.MaxInt64 when empty
}

// Stream returns the stream described by schema, creating its table and
// indexes if missing. Limits are applied by Append and Expire.
//
// A table created by an earlier schema gets the missing columns and indexes
// added. Asking twice for the same stream returns handles sharing one table
// state (each with its own limits); the schemas must be identical.
func (s *Store) Stream(schema Schema, limits Limits) (*Stream, error) {
	if err := validateSchema(schema); err != nil {
		return nil, err
	}
	if limits.MaxAge < 0 || limits.MaxCount < 0 {
		return nil, fmt.Errorf("eventstore: stream %s: negative limits %+v", schema.Name, limits)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if t, ok := s.tables[schema.Name]; ok {
		if !sameSchema(t.schema, schema) {
			return nil, fmt.Errorf("eventstore: stream %s is already open with a different schema", schema.Name)
		}
		return &Stream{t: t, limits: limits}, nil
	}
	t, err := s.openTable(schema)
	if err != nil {
		return nil, fmt.Errorf("eventstore: stream %s: %w", schema.Name, err)
	}
	s.tables[schema.Name] = t
	return &Stream{t: t, limits: limits}, nil
}

func (s *Store) openTable(schema Schema) (*table, error) {
	sc := Schema{Name: schema.Name, Columns: append([]Column(nil), schema.Columns...)}
	// Look first without a lock: a reader process finds everything in
	// place and never takes the write lock.
	stmts, err := s.schemaDDL(sc)
	if err != nil {
		return nil, err
	}
	if len(stmts) > 0 {
		if err := s.begin(); err != nil {
			return nil, err
		}
		err := func() error {
			stmts, err := s.schemaDDL(sc) // again, under the lock
			if err != nil {
				return err
			}
			for _, q := range stmts {
				if err := s.exec(q); err != nil {
					return fmt.Errorf("%s: %w", q, err)
				}
			}
			return s.commit()
		}()
		if err != nil {
			s.rollback()
			return nil, err
		}
	}

	t := &table{s: s, schema: sc, colIdx: make(map[string]int, len(sc.Columns))}
	tbl := quote(tableName(sc.Name))
	var sel, ins, group strings.Builder
	sel.WriteString("SELECT eid, time")
	// OR ROLLBACK: a failing row ends the whole transaction (Append
	// rolls back on any error anyway). With the default ABORT, SQLite
	// would keep a statement journal for every multi-row INSERT, copying
	// each page the statement touches so as to undo just that statement;
	// that doubled the CPU cost of an append.
	ins.WriteString("INSERT OR ROLLBACK INTO " + tbl + " (time")
	group.WriteString("(?")
	for i, c := range sc.Columns {
		t.types = append(t.types, c.Type)
		t.colIdx[c.Name] = i
		sel.WriteString(", " + quote(c.Name))
		ins.WriteString(", " + quote(c.Name))
		group.WriteString(",?")
	}
	sel.WriteString(" FROM " + tbl)
	ins.WriteString(") VALUES ")
	group.WriteString(")")
	t.selectSQL = sel.String()
	t.countSQL = "SELECT count(*) FROM " + tbl
	t.insSQL = [2]string{ins.String(), group.String()}

	ncol := 1 + len(sc.Columns)
	maxVars := s.w.GetLimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
	t.chunk = 1
	for t.chunk*2 <= maxChunk && t.chunk*2*ncol <= maxVars {
		t.chunk *= 2
	}
	t.args = namedArgs(t.chunk * ncol)
	t.arg1 = namedArgs(1)
	for k := 1; k <= t.chunk; k *= 2 {
		t.ins = append(t.ins, nil)
	}

	prep := []struct {
		dst **sqlite3.SQLiteStmt
		q   string
	}{
		{&t.delAge, "DELETE FROM " + tbl + " WHERE time < ?"},
		{&t.delCount, "DELETE FROM " + tbl + " WHERE eid < (SELECT eid FROM " + tbl + " ORDER BY eid LIMIT 1 OFFSET ?)"},
		{&t.minTime, "SELECT min(time) FROM " + tbl},
		{&t.count, t.countSQL},
	}
	for _, p := range prep {
		if *p.dst, err = s.prepare(p.q); err != nil {
			t.closeStmts()
			return nil, fmt.Errorf("%s: %w", p.q, err)
		}
	}
	return t, nil
}

// schemaDDL inspects the stream's table and returns the DDL it still needs.
func (s *Store) schemaDDL(sc Schema) ([]string, error) {
	tbl := tableName(sc.Name)
	rows, err := s.w.QueryContext(bg, `SELECT name, type FROM pragma_table_info(?)`,
		[]driver.NamedValue{{Ordinal: 1, Value: tbl}})
	if err != nil {
		return nil, err
	}
	var cols map[string]string
	dest := make([]driver.Value, 2)
	for {
		err := rows.Next(dest)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			rows.Close()
			return nil, err
		}
		if cols == nil {
			cols = map[string]string{}
		}
		name, _ := dest[0].(string)
		typ, _ := dest[1].(string)
		cols[strings.ToLower(name)] = typ
	}
	rows.Close()

	indexes := map[string]bool{}
	rows, err = s.w.QueryContext(bg, `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?`,
		[]driver.NamedValue{{Ordinal: 1, Value: tbl}})
	if err != nil {
		return nil, err
	}
	for {
		err := rows.Next(dest[:1])
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			rows.Close()
			return nil, err
		}
		name, _ := dest[0].(string)
		indexes[name] = true
	}
	rows.Close()
	return ddl(sc, cols, indexes)
}

func (t *table) closeStmts() error {
	var errs []error
	for _, st := range append(t.ins, t.delAge, t.delCount, t.minTime, t.count) {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// insertStmt returns the INSERT of 1<<k rows.
func (t *table) insertStmt(k int) (*sqlite3.SQLiteStmt, error) {
	if st := t.ins[k]; st != nil {
		return st, nil
	}
	n := 1 << k
	var b strings.Builder
	b.Grow(len(t.insSQL[0]) + n*(len(t.insSQL[1])+1))
	b.WriteString(t.insSQL[0])
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(t.insSQL[1])
	}
	st, err := t.s.prepare(b.String())
	if err != nil {
		return nil, err
	}
	t.ins[k] = st
	return st, nil
}

// Append stores events in one transaction, assigning increasing eids, then
// enforces the limits. It returns the number of rows expired by the limits.
func (st *Stream) Append(events []Event) (expired int64, err error) {
	return st.AppendState(events, nil)
}

// AppendState is Append that also stores the key/values of state (the keys
// PutState and States use, "<namespace>/<name>") in the same transaction: either the rows and the
// state are both stored, or neither is. It is how a reader's position is
// kept in step with the rows it produced.
func (st *Stream) AppendState(events []Event, state map[string]string) (expired int64, err error) {
	for k := range state {
		if err := checkKey(k); err != nil {
			return 0, err
		}
	}
	t := st.t
	s := t.s
	if len(events) == 0 && len(state) == 0 {
		if s.closed.Load() {
			return 0, ErrClosed
		}
		return 0, nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed.Load() {
		return 0, ErrClosed
	}
	now := time.Now()
	if err := s.begin(); err != nil {
		return 0, t.errorf("append: %w", err)
	}
	w := t.ws
	expired, err = t.appendLocked(&w, events, state, st.limits, now)
	if err == nil {
		err = s.commit()
	}
	if err != nil {
		s.rollback()
		return 0, t.errorf("append: %w", err)
	}
	t.publish(w)
	return expired, nil
}

func (t *table) appendLocked(w *wstate, events []Event, state map[string]string, limits Limits, now time.Time) (int64, error) {
	if err := t.syncLocked(w); err != nil {
		return 0, err
	}
	if err := t.insertLocked(w, events); err != nil {
		return 0, err
	}
	for k, v := range state {
		if err := t.s.putStateLocked(k, v); err != nil {
			return 0, fmt.Errorf("state %q: %w", k, err)
		}
	}
	return t.expireLocked(w, limits, now)
}

// Expire applies the limits relative to now and returns the rows removed.
func (st *Stream) Expire(now time.Time) (int64, error) {
	t := st.t
	s := t.s
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed.Load() {
		return 0, ErrClosed
	}
	if err := s.begin(); err != nil {
		return 0, t.errorf("expire: %w", err)
	}
	w := t.ws
	err := t.syncLocked(&w)
	var n int64
	if err == nil {
		n, err = t.expireLocked(&w, st.limits, now)
	}
	if err == nil {
		err = s.commit()
	}
	if err != nil {
		s.rollback()
		return 0, t.errorf("expire: %w", err)
	}
	t.publish(w)
	return n, nil
}

func (t *table) publish(w wstate) {
	t.ws = w
	t.rows.Store(w.rows)
	t.owned.Store(true)
}

func (t *table) errorf(format string, args ...any) error {
	return fmt.Errorf("eventstore: stream %s: "+format, append([]any{t.schema.Name}, args...)...)
}

// syncLocked makes w describe the table, inside a write transaction. The
// counts are kept in memory; they are recomputed only the first time, or when
// the data version shows that another connection (another process) changed
// the database since this connection's last transaction.
func (t *table) syncLocked(w *wstate) error {
	dv, _, err := queryInt(t.s.dataVersion, nil)
	if err != nil {
		return err
	}
	if w.synced && dv == w.dv {
		return nil
	}
	n, _, err := queryInt(t.count, nil)
	if err != nil {
		return err
	}
	mt, null, err := queryInt(t.minTime, nil)
	if err != nil {
		return err
	}
	if null {
		mt = math.MaxInt64
	}
	*w = wstate{synced: true, dv: dv, rows: n, minT: mt}
	return nil
}

// insertLocked inserts events in chunks, checking each value against the
// column type as it goes: a bad value in the middle of a batch fails the
// whole transaction.
func (t *table) insertLocked(w *wstate, events []Event) error {
	ncol := 1 + len(t.types)
	defer func() { // do not pin the caller's values
		for i := range t.args {
			t.args[i].Value = nil
		}
	}()
	var (
		lastTime  int64
		timeValue driver.Value // boxed lastTime, reused while the time repeats
		minT      = w.minT
	)
	for i := 0; i < len(events); {
		k := len(t.ins) - 1
		for 1<<k > len(events)-i {
			k--
		}
		n := 1 << k
		stmt, err := t.insertStmt(k)
		if err != nil {
			return err
		}
		args := t.args[:n*ncol]
		a := 0
		for j := i; j < i+n; j++ {
			ev := &events[j]
			if len(ev.Values) != len(t.types) {
				return fmt.Errorf("event %d has %d values, the schema has %d columns", j, len(ev.Values), len(t.types))
			}
			if timeValue == nil || ev.Time != lastTime {
				lastTime, timeValue = ev.Time, ev.Time
			}
			minT = min(minT, ev.Time)
			args[a].Value = timeValue
			a++
			for c, v := range ev.Values {
				switch v.(type) {
				case nil:
				case string:
					if t.types[c] != Text {
						return t.typeErr(j, c, v)
					}
				case int64:
					if t.types[c] != Integer {
						return t.typeErr(j, c, v)
					}
				default:
					return t.typeErr(j, c, v)
				}
				args[a].Value = v
				a++
			}
		}
		if err := execInsert(stmt, args); err != nil {
			return err
		}
		i += n
	}
	w.rows += int64(len(events))
	w.minT = minT
	return nil
}

func (t *table) typeErr(event, col int, v any) error {
	want := "string"
	if t.types[col] == Integer {
		want = "int64"
	}
	return fmt.Errorf("event %d column %s: value of type %T, want %s or nil", event, t.schema.Columns[col].Name, v, want)
}

// execInsert runs an INSERT. Through the driver's query path the reset, the
// binding of every argument and the step are one cgo call; the exec path
// makes one call per argument.
func execInsert(st *sqlite3.SQLiteStmt, args []driver.NamedValue) error {
	rows, err := st.QueryContext(bg, args)
	if err != nil {
		return err
	}
	for {
		if err = rows.Next(nil); err != nil {
			break
		}
	}
	cerr := rows.Close()
	if !errors.Is(err, io.EOF) {
		return err
	}
	return cerr
}

// expireLocked applies limits inside a write transaction: age first (rows
// older than now-MaxAge), then count (the lowest eids beyond MaxCount).
func (t *table) expireLocked(w *wstate, limits Limits, now time.Time) (int64, error) {
	var total int64
	if limits.MaxAge > 0 {
		cutoff := now.Add(-limits.MaxAge).Unix()
		// minT is a lower bound of the oldest time: while it is not
		// past the cutoff, nothing can be expired and the DELETE is
		// skipped, so this costs nothing on most appends.
		if w.minT < cutoff {
			t.arg1[0].Value = cutoff
			n, err := execChanges(t.delAge, t.arg1)
			t.arg1[0].Value = nil
			if err != nil {
				return 0, err
			}
			mt, null, err := queryInt(t.minTime, nil)
			if err != nil {
				return 0, err
			}
			if null {
				mt = math.MaxInt64
			}
			w.minT = mt
			w.rows -= n
			total += n
		}
	}
	if limits.MaxCount > 0 && w.rows > limits.MaxCount {
		t.arg1[0].Value = w.rows - limits.MaxCount
		n, err := execChanges(t.delCount, t.arg1)
		t.arg1[0].Value = nil
		if err != nil {
			return 0, err
		}
		// minT stays a valid lower bound: deleting rows can only
		// raise the true minimum.
		w.rows -= n
		total += n
	}
	return total, nil
}

// Schema returns the stream's schema.
func (st *Stream) Schema() Schema {
	sc := st.t.schema
	sc.Columns = append([]Column(nil), sc.Columns...)
	return sc
}

// Count returns the number of rows currently stored.
//
// In the process that writes the stream this is the writer's exact count,
// kept in memory. A process that has not written the stream (a reader) counts
// the rows, but only when the database changed since it last counted.
func (st *Stream) Count() int64 {
	t := st.t
	if t.owned.Load() {
		return t.rows.Load()
	}
	s := t.s
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed.Load() || t.owned.Load() {
		return t.rows.Load()
	}
	// A read transaction on the write connection: data_version there
	// tells whether another connection committed since the last count.
	w := t.ws
	err := s.exec("BEGIN")
	if err == nil {
		err = t.syncLocked(&w)
	}
	if err == nil {
		err = s.commit()
	}
	if err != nil {
		s.rollback()
		return t.rows.Load()
	}
	t.ws = w
	t.rows.Store(w.rows)
	return w.rows
}
