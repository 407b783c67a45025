//go:build sqlite_vtable

package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// recorder is a fake table: it returns fixed rows, ignoring its
// constraints (SQLite must filter), and records every QueryContext.
type recorder struct {
	mu    sync.Mutex
	calls []table.QueryContext
	rows  []map[string]string
	err   error
}

func (r *recorder) generate(ctx context.Context, qc table.QueryContext) ([]map[string]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, qc)
	return r.rows, r.err
}

func (r *recorder) recorded() []table.QueryContext {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = nil
}

func newEngine(t testing.TB, tables ...tablekit.Table) *Engine {
	t.Helper()
	e, err := New(tables)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

// texts renders a result's rows, NULL as "NULL".
func texts(r *Result) [][]string {
	out := [][]string{}
	for _, row := range r.Rows {
		var s []string
		for _, v := range row {
			if v.Null {
				s = append(s, "NULL")
			} else {
				s = append(s, v.Text)
			}
		}
		out = append(out, s)
	}
	return out
}

func mustQuery(t testing.TB, e *Engine, sql string) *Result {
	t.Helper()
	r, err := e.Query(t.Context(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return r
}

// eventsTable has one column of each kind of option.
func eventsTable(rec *recorder) tablekit.Table {
	return tablekit.Table{
		Name: "events",
		Columns: []table.ColumnDefinition{
			table.BigIntColumn("time"),
			table.TextColumn("name"),
			table.DoubleColumn("score"),
			table.IntegerColumn("level", table.IndexColumn()),
			table.BigIntColumn("eid", table.HiddenColumn(), table.AdditionalColumn()),
			table.TextColumn("note", table.HiddenColumn()),                         // options 16: no pushdown
			table.TextColumn("tag", table.OptimizedColumn()),                       // options 8: no pushdown
			table.TextColumn("host", table.IndexColumn(), table.OptimizedColumn()), // IN lists expanded
		},
		Generate: rec.generate,
	}
}

type cons map[string][]table.Constraint

func c(op table.Operator, expr string) table.Constraint {
	return table.Constraint{Operator: op, Expression: expr}
}

func TestConstraintsReachTable(t *testing.T) {
	rec := &recorder{}
	e := newEngine(t, eventsTable(rec))
	tests := []struct {
		name  string
		where string
		want  []cons // one per generate call
	}{
		{"equalities and a text range", "time = 5 AND name = 'x' AND name > 'a'",
			[]cons{{"time": {c(2, "5")}, "name": {c(2, "x")}}}},
		{"integer ranges", "time > 3 AND time <= 9 AND time < 8 AND time >= 4",
			[]cons{{"time": {c(4, "3"), c(8, "9"), c(16, "8"), c(32, "4")}}}},
		{"text ranges are never passed", "name >= 'a' AND name < 'z'", []cons{{}}},
		{"like glob", "name LIKE 'a%' AND name GLOB 'a*'",
			[]cons{{"name": {c(65, "a%"), c(66, "a*")}}}},
		{"not equal, is, is not", "name != 'b' AND time IS 4 AND level IS NOT 3",
			[]cons{{"name": {c(68, "b")}, "time": {c(72, "4")}, "level": {c(69, "3")}}}},
		{"null and empty expressions dropped", "name IS NULL AND time IS NOT NULL AND level = '' ", []cons{{}}},
		{"double rendering", "score = 1.5 AND time = 1e3",
			[]cons{{"score": {c(2, "1.5")}, "time": {c(2, "1000.0")}}}},
		{"large double", "score > 1e20", []cons{{"score": {c(4, "1.0e+20")}}}},
		{"text literal on a number column", "time = '7'", []cons{{"time": {c(2, "7")}}}},
		{"hidden additional column", "eid = 7", []cons{{"eid": {c(2, "7")}}}},
		{"hidden-only column gets nothing", "note = 'n'", []cons{{}}},
		{"optimized-only column gets nothing", "tag = 't'", []cons{{}}},
		{"IN calls generate once per value", "time IN (1, 2)",
			[]cons{{"time": {c(2, "1")}}, {"time": {c(2, "2")}}}},
		{"IN on an optimized column is expanded", "host IN ('a', 'b', 'c')",
			[]cons{{"host": {c(2, "a"), c(2, "b"), c(2, "c")}}}},
		{"LIMIT is not pushed", "1 LIMIT 3 OFFSET 1", []cons{{}}},
		{"bound expression", "time = 2 + 3 AND name = lower('ABC')",
			[]cons{{"time": {c(2, "5")}, "name": {c(2, "abc")}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec.reset()
			mustQuery(t, e, "SELECT * FROM events WHERE "+tt.where)
			calls := rec.recorded()
			if len(calls) != len(tt.want) {
				t.Fatalf("%d generate calls, want %d: %+v", len(calls), len(tt.want), calls)
			}
			for i, qc := range calls {
				// Every column is present, with its type as affinity and a
				// non-nil list, as osquery-go parses osqueryd's context.
				if len(qc.Constraints) != 8 {
					t.Errorf("call %d: %d columns in the context, want 8", i, len(qc.Constraints))
				}
				got := cons{}
				for name, cl := range qc.Constraints {
					if cl.Constraints == nil {
						t.Errorf("call %d: column %s: nil constraint list", i, name)
					}
					if string(cl.Affinity) == "" {
						t.Errorf("call %d: column %s: no affinity", i, name)
					}
					if len(cl.Constraints) > 0 {
						got[name] = cl.Constraints
					}
				}
				// Constraints come in SQLite's order of WHERE terms.
				for _, l := range got {
					slices.SortFunc(l, func(a, b table.Constraint) int { return int(a.Operator) - int(b.Operator) })
				}
				if !reflect.DeepEqual(got, tt.want[i]) {
					t.Errorf("call %d: constraints\n got %v\nwant %v", i, got, tt.want[i])
				}
			}
		})
	}
}

func TestAffinity(t *testing.T) {
	rec := &recorder{}
	e := newEngine(t, eventsTable(rec))
	mustQuery(t, e, "SELECT * FROM events")
	qc := rec.recorded()[0]
	want := map[string]table.ColumnType{
		"time": "BIGINT", "name": "TEXT", "score": "DOUBLE", "level": "INTEGER",
		"eid": "BIGINT", "note": "TEXT", "tag": "TEXT", "host": "TEXT",
	}
	for col, typ := range want {
		if got := qc.Constraints[col].Affinity; got != typ {
			t.Errorf("%s: affinity %q, want %q", col, got, typ)
		}
	}
}

// The table ignores its constraints; SQLite must still apply every WHERE
// term, including the ones passed to the table.
func TestSQLiteRechecksEveryConstraint(t *testing.T) {
	rec := &recorder{}
	for i := range 10 {
		rec.rows = append(rec.rows, map[string]string{
			"time": fmt.Sprint(i), "name": fmt.Sprintf("n%d", i), "host": fmt.Sprintf("h%d", i%3),
		})
	}
	e := newEngine(t, eventsTable(rec))
	tests := []struct {
		where string
		want  []string
	}{
		{"time = 5", []string{"5"}},
		{"time > 7", []string{"8", "9"}},
		{"name = 'n3'", []string{"3"}},
		{"name LIKE 'N4'", []string{"4"}},
		{"name GLOB 'n[12]'", []string{"1", "2"}},
		{"time IN (2, 4)", []string{"2", "4"}},
		{"host IN ('h1', 'h9')", []string{"1", "4", "7"}},
		{"time != 0 AND time < 3", []string{"1", "2"}},
	}
	for _, tt := range tests {
		t.Run(tt.where, func(t *testing.T) {
			r := mustQuery(t, e, "SELECT time FROM events WHERE "+tt.where+" ORDER BY time")
			var got []string
			for _, row := range texts(r) {
				got = append(got, row[0])
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHiddenColumns(t *testing.T) {
	rec := &recorder{rows: []map[string]string{{"time": "1", "name": "a", "eid": "42", "note": "n"}}}
	e := newEngine(t, eventsTable(rec))
	r := mustQuery(t, e, "SELECT * FROM events")
	if want := []string{"time", "name", "score", "level", "tag", "host"}; !slices.Equal(r.Columns, want) {
		t.Errorf("SELECT * columns %v, want %v", r.Columns, want)
	}
	r = mustQuery(t, e, "SELECT eid, note FROM events")
	if got := texts(r); !reflect.DeepEqual(got, [][]string{{"42", "n"}}) {
		t.Errorf("hidden columns: %v", got)
	}
}

func fileTable(rec *recorder) tablekit.Table {
	return tablekit.Table{
		Name: "file",
		Columns: []table.ColumnDefinition{
			table.TextColumn("path", table.RequiredColumn()),
			table.BigIntColumn("size"),
		},
		Generate: rec.generate,
	}
}

func TestRequiredColumn(t *testing.T) {
	files := &recorder{rows: []map[string]string{{"path": "/a", "size": "1"}, {"path": "/b", "size": "2"}}}
	src := &recorder{rows: []map[string]string{{"p": "/b"}}}
	e := newEngine(t, fileTable(files), tablekit.Table{
		Name: "src", Columns: []table.ColumnDefinition{table.TextColumn("p")}, Generate: src.generate,
	})
	const msg = "Table file was queried without a required column in the WHERE clause"
	for _, sql := range []string{
		"SELECT * FROM file",
		"SELECT size FROM file WHERE size = 1",
		"SELECT * FROM file WHERE path > '/'", // a text range is not passed
	} {
		files.reset()
		if _, err := e.Query(t.Context(), sql); err == nil || err.Error() != msg {
			t.Errorf("%s: err = %v, want %q", sql, err, msg)
		}
		if n := len(files.recorded()); n != 0 {
			t.Errorf("%s: generate called %d times", sql, n)
		}
	}
	for sql, want := range map[string][][]string{
		"SELECT * FROM file WHERE path = '/a'":                         {{"/a", "1"}},
		"SELECT * FROM file WHERE path LIKE '/%' ORDER BY path":        {{"/a", "1"}, {"/b", "2"}},
		"SELECT * FROM file WHERE path = ''":                           {},
		"SELECT f.path, f.size FROM src JOIN file f ON f.path = src.p": {{"/b", "2"}},
		"SELECT f.size FROM file f JOIN src ON f.path = src.p":         {{"2"}},
		"SELECT size FROM file WHERE path IN ('/a', '/c')":             {{"1"}},
	} {
		if got := texts(mustQuery(t, e, sql)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", sql, got, want)
		}
	}
}

func TestJoin(t *testing.T) {
	users := &recorder{rows: []map[string]string{{"uid": "0", "name": "root"}, {"uid": "1000", "name": "ann"}}}
	procs := &recorder{rows: []map[string]string{
		{"pid": "1", "uid": "0"}, {"pid": "20", "uid": "1000"}, {"pid": "21", "uid": "1000"}, {"pid": "30", "uid": "7"},
	}}
	e := newEngine(t,
		tablekit.Table{Name: "users", Columns: []table.ColumnDefinition{table.BigIntColumn("uid"), table.TextColumn("name")}, Generate: users.generate},
		tablekit.Table{Name: "procs", Columns: []table.ColumnDefinition{table.BigIntColumn("pid"), table.BigIntColumn("uid")}, Generate: procs.generate},
	)
	r := mustQuery(t, e, "SELECT p.pid, u.name FROM procs p JOIN users u ON u.uid = p.uid WHERE u.name = 'ann' ORDER BY p.pid")
	if got, want := texts(r), [][]string{{"20", "ann"}, {"21", "ann"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("join: %v, want %v", got, want)
	}
	// SQLite filters users by name first (the cheaper outer loop) and hands
	// the join value to procs as an equality.
	want := []table.Constraint{c(table.OperatorEquals, "1000")}
	calls := procs.recorded()
	if len(calls) != 1 || !reflect.DeepEqual(calls[0].Constraints["uid"].Constraints, want) {
		t.Errorf("procs calls %v, want one with uid = 1000", calls)
	}
}

func TestCoercion(t *testing.T) {
	tests := []struct {
		name     string
		col      string // column name = its type in the "coerce" table below
		value    *string
		wantType string
		want     string
	}{
		{"int decimal", "i", ptr("42"), "integer", "42"},
		{"int hex", "i", ptr("0x1A"), "integer", "26"},
		{"int octal", "i", ptr("017"), "integer", "15"},
		{"int 08 stops at 8", "i", ptr("08"), "integer", "0"},
		{"int trailing garbage", "i", ptr("12abc"), "integer", "12"},
		{"int leading space", "i", ptr("  -7"), "integer", "-7"},
		{"int keeps 32 bits", "i", ptr("4294967297"), "integer", "1"},
		{"int negative wraps", "i", ptr("2147483648"), "integer", "-2147483648"},
		{"int not a number", "i", ptr("abc"), "null", "NULL"},
		{"int empty", "i", ptr(""), "null", "NULL"},
		{"int missing", "i", nil, "null", "NULL"},
		{"bigint", "b", ptr("9223372036854775807"), "integer", "9223372036854775807"},
		{"bigint hex", "b", ptr("0xFFFFFFFFFF"), "integer", "1099511627775"},
		{"bigint overflow", "b", ptr("9223372036854775808"), "null", "NULL"},
		{"bigint min", "b", ptr("-9223372036854775808"), "integer", "-9223372036854775808"},
		{"bigint missing", "b", nil, "null", "NULL"},
		{"unsigned above int64", "u", ptr("18446744073709551615"), "null", "NULL"},
		{"unsigned", "u", ptr("0x10"), "integer", "16"},
		{"double", "d", ptr("1.5"), "real", "1.5"},
		{"double integral", "d", ptr("3"), "real", "3.0"},
		{"double exponent", "d", ptr("1e3"), "real", "1000.0"},
		{"double leading space", "d", ptr(" 2.5"), "real", "2.5"},
		{"double hex", "d", ptr("0x10"), "real", "16.0"},
		{"double trailing garbage", "d", ptr("1.5x"), "null", "NULL"},
		{"double trailing space", "d", ptr("1.5 "), "null", "NULL"},
		{"double empty", "d", ptr(""), "null", "NULL"},
		{"double missing", "d", nil, "null", "NULL"},
		{"text", "t", ptr("hello"), "text", "hello"},
		{"text number stays text", "t", ptr("0x10"), "text", "0x10"},
		{"text empty", "t", ptr(""), "text", ""},
		{"text missing is empty", "t", nil, "text", ""},
		{"blob is text", "bl", ptr("raw"), "text", "raw"},
		{"blob missing is empty", "bl", nil, "text", ""},
		{"unknown type is null", "unk", ptr("x"), "null", "NULL"},
	}
	var mu sync.Mutex
	var row map[string]string
	e := newEngine(t, tablekit.Table{
		Name: "coerce",
		Columns: []table.ColumnDefinition{
			table.IntegerColumn("i"), table.BigIntColumn("b"), table.NewColumn("u", table.ColumnTypeUnsignedBigInt),
			table.DoubleColumn("d"), table.TextColumn("t"), table.NewColumn("bl", table.ColumnTypeBlob),
			table.NewColumn("unk", table.ColumnTypeUnknown),
		},
		Generate: func(context.Context, table.QueryContext) ([]map[string]string, error) {
			mu.Lock()
			defer mu.Unlock()
			return []map[string]string{row}, nil
		},
	})
	for _, lazy := range []bool{false, true} {
		lazyCells = lazy
		t.Cleanup(func() { lazyCells = false })
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/lazy=%v", tt.name, lazy), func(t *testing.T) {
				mu.Lock()
				row = map[string]string{}
				if tt.value != nil {
					row[tt.col] = *tt.value
				}
				mu.Unlock()
				r := mustQuery(t, e, fmt.Sprintf("SELECT typeof(%[1]s), %[1]s FROM coerce", tt.col))
				got := texts(r)[0]
				if got[0] != tt.wantType || got[1] != tt.want {
					t.Errorf("%q as %s: got %s %q, want %s %q", deref(tt.value), tt.col, got[0], got[1], tt.wantType, tt.want)
				}
			})
		}
	}
}

func ptr(s string) *string { return &s }

func deref(s *string) string {
	if s == nil {
		return "<missing>"
	}
	return *s
}

type ctxKey struct{}

func TestGenerateSeesQueryContext(t *testing.T) {
	var got any
	e := newEngine(t, tablekit.Table{
		Name:    "t",
		Columns: []table.ColumnDefinition{table.TextColumn("a")},
		Generate: func(ctx context.Context, _ table.QueryContext) ([]map[string]string, error) {
			got = ctx.Value(ctxKey{})
			return nil, nil
		},
	})
	ctx := context.WithValue(t.Context(), ctxKey{}, "pack:syslog")
	if _, err := e.Query(ctx, "SELECT * FROM t"); err != nil {
		t.Fatal(err)
	}
	if got != "pack:syslog" {
		t.Errorf("generate saw context value %v", got)
	}
}

var errBroken = errors.New("source unavailable")

func TestGenerateError(t *testing.T) {
	rec := &recorder{err: fmt.Errorf("reading events: %w", errBroken)}
	e := newEngine(t, eventsTable(rec))
	_, err := e.Query(t.Context(), "SELECT * FROM events")
	if err == nil || err.Error() != "reading events: source unavailable" || !errors.Is(err, errBroken) {
		t.Fatalf("err = %v, want the generate error", err)
	}
	// The engine stays usable.
	if got := texts(mustQuery(t, e, "SELECT 1")); !reflect.DeepEqual(got, [][]string{{"1"}}) {
		t.Errorf("after an error: %v", got)
	}
}

func TestGeneratePanic(t *testing.T) {
	boom := func(context.Context, table.QueryContext) ([]map[string]string, error) { panic("boom") }
	cols := []table.ColumnDefinition{table.TextColumn("a")}
	e := newEngine(t,
		tablekit.Wrap(tablekit.Table{Name: "wrapped", Columns: cols, Generate: boom},
			tablekit.Options{Logger: slog.New(slog.DiscardHandler)}),
		tablekit.Table{Name: "bare", Columns: cols, Generate: boom},
	)
	for _, name := range []string{"wrapped", "bare"} {
		_, err := e.Query(t.Context(), "SELECT * FROM "+name)
		if err == nil || !strings.Contains(err.Error(), "boom") {
			t.Errorf("%s: err = %v, want the panic as an error", name, err)
		}
	}
	mustQuery(t, e, "SELECT 1")
}

func TestConcurrentQueries(t *testing.T) {
	rec := &recorder{}
	for i := range 100 {
		rec.rows = append(rec.rows, map[string]string{"time": fmt.Sprint(i), "name": "n"})
	}
	e := newEngine(t, eventsTable(rec))
	var wg sync.WaitGroup
	for g := range 3 * PoolSize {
		wg.Go(func() {
			for i := range 20 {
				want := (g + i) % 100
				r, err := e.Query(t.Context(), fmt.Sprintf("SELECT count(*), max(time) FROM events WHERE time <= %d", want))
				if err != nil {
					t.Error(err)
					return
				}
				if got := texts(r)[0]; got[0] != fmt.Sprint(want+1) || got[1] != fmt.Sprint(want) {
					t.Errorf("time <= %d: got %v", want, got)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestQueryCancel(t *testing.T) {
	started := make(chan struct{})
	e := newEngine(t, tablekit.Table{
		Name:    "slow",
		Columns: []table.ColumnDefinition{table.TextColumn("a")},
		Generate: func(ctx context.Context, _ table.QueryContext) ([]map[string]string, error) {
			close(started)
			<-ctx.Done()
			return nil, ctx.Err()
		},
	})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-started
		cancel()
	}()
	_, err := e.Query(ctx, "SELECT * FROM slow")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := e.Query(ctx, "SELECT 1"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v", err)
	}
	// A long SQL-only query is interrupted too.
	ctx, cancel = context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = e.Query(ctx, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n) SELECT count(*) FROM n")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("runaway query: err = %v, want a deadline error", err)
	}
	// And the connection is fine afterwards.
	for range PoolSize + 1 {
		mustQuery(t, e, "SELECT 1")
	}
}

func TestStatefulConnectionsAreNotReused(t *testing.T) {
	e := newEngine(t)
	mustQuery(t, e, "CREATE TEMP TABLE scratch(a); INSERT INTO scratch VALUES (1)")
	mustQuery(t, e, "BEGIN")
	mustQuery(t, e, "PRAGMA case_sensitive_like = 1")
	for range 2 * PoolSize {
		if got := texts(mustQuery(t, e, "SELECT 'a' LIKE 'A'")); got[0][0] != "1" {
			t.Fatalf("a PRAGMA leaked into another query: 'a' LIKE 'A' = %v", got)
		}
		if _, err := e.Query(t.Context(), "SELECT * FROM scratch"); err == nil || !strings.Contains(err.Error(), "no such table") {
			t.Fatalf("err = %v, want no such table", err)
		}
		mustQuery(t, e, "BEGIN; ROLLBACK") // a transaction that ends is fine
	}
}

func TestReadOnlyQueriesReuseConnections(t *testing.T) {
	e := newEngine(t)
	for range 3 {
		mustQuery(t, e, "SELECT 1")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.idle) != 1 {
		t.Errorf("%d idle connections, want the one New opened", len(e.idle))
	}
}

func TestMultipleStatements(t *testing.T) {
	e := newEngine(t)
	r := mustQuery(t, e, "SELECT 1 AS a; SELECT 2 AS b, NULL AS c; -- trailing comment\n")
	if !slices.Equal(r.Columns, []string{"b", "c"}) || !reflect.DeepEqual(texts(r), [][]string{{"2", "NULL"}}) {
		t.Errorf("got %v %v", r.Columns, texts(r))
	}
	r = mustQuery(t, e, "  ")
	if len(r.Columns) != 0 || len(r.Rows) != 0 {
		t.Errorf("empty SQL: %+v", r)
	}
	if _, err := e.Query(t.Context(), "SELEC 1"); err == nil || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("bad SQL: err = %v", err)
	}
	if _, err := e.Query(t.Context(), "ATTACH 'x.db' AS x"); err == nil {
		t.Error("ATTACH is allowed")
	}
}

func TestNewValidates(t *testing.T) {
	gen := func(context.Context, table.QueryContext) ([]map[string]string, error) { return nil, nil }
	cols := []table.ColumnDefinition{table.TextColumn("a")}
	tests := []struct {
		name   string
		tables []tablekit.Table
		want   string
	}{
		{"no name", []tablekit.Table{{Columns: cols, Generate: gen}}, "without a name"},
		{"duplicate", []tablekit.Table{{Name: "t", Columns: cols, Generate: gen}, {Name: "T", Columns: cols, Generate: gen}}, "duplicate table"},
		{"no generate", []tablekit.Table{{Name: "t", Columns: cols}}, "no generate"},
		{"no columns", []tablekit.Table{{Name: "t", Generate: gen}}, "no columns"},
		{"duplicate column", []tablekit.Table{{Name: "t", Columns: append(cols, table.BigIntColumn("A")), Generate: gen}}, "duplicate column"},
		{"bad type", []tablekit.Table{{Name: "t", Columns: []table.ColumnDefinition{table.NewColumn("a", "VARCHAR")}, Generate: gen}}, "unknown type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.tables); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	// Odd but valid names are quoted.
	e := newEngine(t, tablekit.Table{Name: `we"ird`, Columns: []table.ColumnDefinition{table.TextColumn(`co"l`)}, Generate: gen})
	mustQuery(t, e, `SELECT "co""l" FROM "we""ird"`)
}

func TestClose(t *testing.T) {
	e, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Query(t.Context(), "SELECT 1"); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: err = %v", err)
	}
}

// BenchmarkQuery scans a 10,000-row table with a filter SQLite applies.
func BenchmarkQuery(b *testing.B) {
	rows := make([]map[string]string, 10000)
	for i := range rows {
		rows[i] = map[string]string{
			"time": fmt.Sprint(1700000000 + i), "name": fmt.Sprintf("host%d", i%50),
			"score": "0.5", "level": fmt.Sprint(i % 7), "eid": fmt.Sprint(i),
		}
	}
	e := newEngine(b, eventsTable(&recorder{rows: rows}))
	for _, q := range []struct{ name, sql string }{
		{"select_all", "SELECT * FROM events"},
		{"where_count", "SELECT name, count(*) FROM events WHERE level = 3 GROUP BY name"},
	} {
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Query(b.Context(), q.sql); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
