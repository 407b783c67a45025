package asl

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/stats"
	"github.com/osquery-syslog/osquery-syslog/tables/asl/aslfile"
)

func str(s string) aslfile.NullString { return aslfile.Str(s) }

// fixtureStore writes a store directory: a modern and a legacy daily file,
// a user-restricted file, a damaged file (its tail cut mid-record), a file
// that is not ASL, and a non-.asl file that must be ignored.
func fixtureStore(t *testing.T) (dir string, total int) {
	t.Helper()
	dir = t.TempDir()
	senders := []string{"kernel", "securityd", "com.apple.xpc.launchd", "sshd"}
	facilities := []string{"kern", "auth", "daemon", "com.apple.system.fs"}
	write := func(name string, v aslfile.Variant, base uint64, n int, cut int) {
		w := aslfile.NewWriter(v, base)
		for i := range n {
			m := aslfile.Message{
				ID: base + uint64(i), Time: base + uint64(i)*10, Nano: uint32(i), Level: uint16(i % 8),
				PID: uint32(100 + i%7), UID: uint32(i % 3 * 250), GID: 20, ReadUID: aslfile.Unset, ReadGID: aslfile.Unset,
				Host: str("mac"), Sender: str(senders[i%len(senders)]), Facility: str(facilities[i%len(facilities)]),
				Text: str(fmt.Sprintf("message %d of %s: 50%% done/ok", i, name)),
			}
			if i%5 == 0 {
				m.UID, m.RefPID, m.RefProc = aslfile.Unset, 1, str("launchd")
				m.Pairs = []aslfile.Pair{{Key: "com.apple.message.domain", Value: str("d" + strconv.Itoa(i))}, {Key: "Empty", Value: aslfile.NullString{}}}
			}
			if i%9 == 0 {
				m.PID = 0xFFFFFFFF
			}
			w.Add(&m)
		}
		b := w.Bytes()
		if cut > 0 {
			b = b[:len(b)-cut]
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("2026.01.01.asl", aslfile.Modern, 1767225600, 40, 0)
	write("2026.01.02.asl", aslfile.Legacy, 1767312000, 30, 0)
	write("2026.01.02.U501.asl", aslfile.Modern, 1767312500, 10, 0)
	write("2026.01.03.asl", aslfile.Modern, 1767398400, 20, 30) // last record cut
	total = 40 + 30 + 10 + 19
	if err := os.WriteFile(filepath.Join(dir, "StoreData.asl"), []byte("not an asl file at all, but named like one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "2026.01.04.asl"), nil, 0o600); err != nil { // just created
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "aslmanager.log"), []byte("ignored"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, total
}

func con(op table.Operator, expr string) table.Constraint {
	return table.Constraint{Operator: op, Expression: expr}
}

func query(cons map[string][]table.Constraint) table.QueryContext {
	q := table.QueryContext{Constraints: map[string]table.ConstraintList{}}
	types := map[string]table.ColumnType{}
	for _, c := range Columns() {
		types[c.Name] = c.Type
	}
	for col, cs := range cons {
		q.Constraints[col] = table.ConstraintList{Affinity: types[col], Constraints: cs}
	}
	return q
}

func TestColumns(t *testing.T) {
	var names []string
	for _, c := range Columns() {
		names = append(names, c.Name)
		want := uint8(4)
		if c.Name == "extra" {
			want = 0
		}
		if c.Options() != want || c.Description == "" {
			t.Errorf("column %s: options %d (want %d), description %q", c.Name, c.Options(), want, c.Description)
		}
	}
	want := []string{"time", "time_nano_sec", "host", "sender", "facility", "pid", "gid", "uid", "level", "message", "ref_pid", "ref_proc", "extra", "path"}
	if !slices.Equal(names, want) {
		t.Errorf("columns %v, want %v", names, want)
	}
}

func TestGenerateAll(t *testing.T) {
	dir, total := fixtureStore(t)
	reg := stats.NewRegistry()
	src := reg.Source(StatsSource)
	tb := New(Config{StorePath: dir, Registry: reg})
	rows, err := tb.Generate(t.Context(), table.QueryContext{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != total {
		t.Fatalf("%d rows, want %d", len(rows), total)
	}
	cols := map[string]bool{}
	for _, c := range Columns() {
		cols[c.Name] = true
	}
	for _, r := range rows {
		for k := range r {
			if !cols[k] {
				t.Fatalf("row key %q is not a column", k)
			}
		}
	}
	// First row, field for field.
	first := rows[0]
	want := map[string]string{
		"time": "1767225600", "time_nano_sec": "0", "host": "mac", "sender": "kernel", "facility": "kern",
		"pid": "4294967295", "gid": "20", "level": "0", "message": "message 0 of 2026.01.01.asl: 50% done/ok",
		"ref_pid": "1", "ref_proc": "launchd", "uid": "",
		"extra": "{\"ASLMessageID\":\"1767225600\",\"com.apple.message.domain\":\"d0\",\"Empty\":\"\"}\n",
		"path":  filepath.Join(dir, "2026.01.01.asl"),
	}
	if !maps.Equal(first, want) {
		t.Errorf("first row\n got %q\nwant %q", first, want)
	}
	// Damage: the cut file and the non-ASL file, each counted once.
	if got := src.ParseErrors.Load(); got != 2 {
		t.Errorf("parse_errors %d, want 2", got)
	}
	if msg, _ := src.LastError(); msg == "" {
		t.Error("no last error recorded")
	}
	if _, err := tb.Generate(t.Context(), table.QueryContext{}); err != nil {
		t.Fatal(err)
	}
	if got := src.ParseErrors.Load(); got != 2 {
		t.Errorf("parse_errors %d after a second query, want 2 (damage counted once per file version)", got)
	}
	if src.LinesRead.Load() != 2*int64(total) {
		t.Errorf("lines_read %d, want %d", src.LinesRead.Load(), 2*total)
	}
}

// likeRef is an independent LIKE (ASCII case folding, no escapes) for the
// reference evaluation.
func likeRef(s, p string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '%':
		for i := 0; i <= len(s); i++ {
			if likeRef(s[i:], p[1:]) {
				return true
			}
		}
		return false
	case '_':
		return s != "" && likeRef(s[1:], p[1:])
	}
	return s != "" && strings.EqualFold(s[:1], p[:1]) && likeRef(s[1:], p[1:])
}

// holds evaluates one constraint on a row like SQLite would.
func holds(row map[string]string, col string, typ table.ColumnType, c table.Constraint) bool {
	v, ok := row[col]
	if typ != table.ColumnTypeText {
		if !ok || v == "" {
			return false // NULL
		}
		a, _ := strconv.ParseInt(v, 10, 64)
		b, _ := strconv.ParseInt(c.Expression, 10, 64)
		switch c.Operator {
		case table.OperatorEquals:
			return a == b
		case table.OperatorGreaterThan:
			return a > b
		case table.OperatorGreaterThanOrEquals:
			return a >= b
		case table.OperatorLessThan:
			return a < b
		case table.OperatorLessThanOrEquals:
			return a <= b
		}
		return true
	}
	switch c.Operator {
	case table.OperatorEquals:
		return v == c.Expression
	case table.OperatorLike:
		return likeRef(v, c.Expression)
	}
	return true
}

// TestPushdownMatchesFullScan runs queries with constraints twice on fresh
// tables and once more on a table that knows the files (summaries,
// checkpoints): the rows kept by the pushdown must be exactly the rows of a
// full scan that satisfy the constraints.
func TestPushdownMatchesFullScan(t *testing.T) {
	dir, _ := fixtureStore(t)
	all, err := New(Config{StorePath: dir}).Generate(t.Context(), table.QueryContext{})
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]table.ColumnType{}
	for _, c := range Columns() {
		types[c.Name] = c.Type
	}
	warm := New(Config{StorePath: dir})
	if _, err := warm.Generate(t.Context(), table.QueryContext{}); err != nil {
		t.Fatal(err)
	}
	var eq, gt, ge, lt, le, like table.Operator = table.OperatorEquals, table.OperatorGreaterThan, table.OperatorGreaterThanOrEquals, table.OperatorLessThan, table.OperatorLessThanOrEquals, table.OperatorLike
	tests := map[string]map[string][]table.Constraint{
		"time range":           {"time": {con(ge, "1767312000"), con(lt, "1767312200")}},
		"time above all":       {"time": {con(gt, "1867312000")}},
		"time equal":           {"time": {con(eq, "1767225700")}},
		"time below all":       {"time": {con(le, "100")}},
		"time contradiction":   {"time": {con(gt, "1767312000"), con(lt, "1767225600")}},
		"level":                {"level": {con(le, "2")}},
		"level equal":          {"level": {con(eq, "7")}},
		"level none":           {"level": {con(gt, "7")}},
		"pid":                  {"pid": {con(eq, "4294967295")}},
		"uid unset is NULL":    {"uid": {con(ge, "0")}},
		"gid":                  {"gid": {con(eq, "20")}},
		"ref_pid":              {"ref_pid": {con(eq, "1")}},
		"sender equal":         {"sender": {con(eq, "securityd")}},
		"sender like":          {"sender": {con(like, "com.apple.%")}},
		"sender like anchored": {"sender": {con(like, "apple%")}},
		"sender like case":     {"sender": {con(like, "SSH_")}},
		"facility":             {"facility": {con(eq, "auth")}, "level": {con(ge, "1")}},
		"message like":         {"message": {con(like, "%50%% done/ok")}},
		"message dot":          {"message": {con(like, "message 1_ of 2026.01.01.asl%")}},
		"path equal":           {"path": {con(eq, filepath.Join(dir, "2026.01.02.asl"))}},
		"path like":            {"path": {con(like, "%.U501.asl")}},
		"host glob ignored":    {"host": {{Operator: table.OperatorGlob, Expression: "m*"}}},
		"not an integer":       {"time": {con(gt, "1767312000.5")}},
		"mixed":                {"time": {con(ge, "1767225600")}, "sender": {con(like, "%d")}, "level": {con(lt, "6")}, "pid": {con(gt, "102")}},
	}
	for name, cons := range tests {
		t.Run(name, func(t *testing.T) {
			var want []map[string]string
			for _, r := range all {
				ok := true
				for col, cs := range cons {
					for _, c := range cs {
						ok = ok && holds(r, col, types[col], c)
					}
				}
				if ok {
					want = append(want, r)
				}
			}
			for _, tb := range []*Table{New(Config{StorePath: dir}), warm} {
				got, err := tb.Generate(t.Context(), query(cons))
				if err != nil {
					t.Fatal(err)
				}
				// The pushdown may keep more (SQLite re-checks), but never
				// fewer; here every condition is exact, so the sets match.
				if !slices.EqualFunc(got, want, maps.Equal) {
					t.Errorf("%d rows, want %d", len(got), len(want))
				}
			}
		})
	}
}

// TestSkipAndStopEarly checks that a table that knows the files reads only
// what a time range needs: files outside it are skipped, and a sorted file
// is entered at a checkpoint and left at the upper bound.
func TestSkipAndStopEarly(t *testing.T) {
	dir := t.TempDir()
	w := aslfile.NewWriter(aslfile.Modern, 1000)
	for i := range 10000 {
		w.Add(&aslfile.Message{ID: uint64(i + 1), Time: uint64(1000 + i), Level: 5, Sender: str("s"), Text: str("m")})
	}
	if err := os.WriteFile(filepath.Join(dir, "big.asl"), w.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	w2 := aslfile.NewWriter(aslfile.Legacy, 1)
	w2.Add(&aslfile.Message{ID: 1, Time: 50000, Level: 3})
	if err := os.WriteFile(filepath.Join(dir, "late.asl"), w2.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := stats.NewRegistry()
	src := reg.Source(StatsSource)
	tb := New(Config{StorePath: dir, Registry: reg})
	if _, err := tb.Generate(t.Context(), table.QueryContext{}); err != nil {
		t.Fatal(err)
	}
	before := src.LinesRead.Load()
	if before != 10001 {
		t.Fatalf("first query read %d records, want 10001", before)
	}
	rows, err := tb.Generate(t.Context(), query(map[string][]table.Constraint{"time": {
		con(table.OperatorGreaterThanOrEquals, "9000"), con(table.OperatorLessThan, "9010"),
	}}))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 10 {
		t.Fatalf("%d rows, want 10", len(rows))
	}
	read := src.LinesRead.Load() - before
	// From the checkpoint below 9000 (record 7168) to the first record
	// past 9009; late.asl is skipped.
	if read > 2*checkpointEvery {
		t.Errorf("read %d records for a 10-second range, want at most %d", read, 2*checkpointEvery)
	}
	before = src.LinesRead.Load()
	rows, err = tb.Generate(t.Context(), query(map[string][]table.Constraint{"level": {con(table.OperatorEquals, "3")}}))
	if err != nil || len(rows) != 1 {
		t.Fatalf("level 3: %d rows, %v", len(rows), err)
	}
	if read := src.LinesRead.Load() - before; read != 1 {
		t.Errorf("level 3 read %d records, want 1 (big.asl holds only level 5)", read)
	}
	// A file that changes is read again in full.
	w2.Add(&aslfile.Message{ID: 2, Time: 60000, Level: 5})
	if err := os.WriteFile(filepath.Join(dir, "late.asl"), w2.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	rows, err = tb.Generate(t.Context(), query(map[string][]table.Constraint{"time": {con(table.OperatorGreaterThan, "55000")}}))
	if err != nil || len(rows) != 1 || rows[0]["time"] != "60000" {
		t.Fatalf("after the file grew: %v, %v", rows, err)
	}
}

// TestOverridingPairs: an extra pair named like a column replaces the fixed
// field (Apple's reader semantics); the pushdown must then not filter on the
// fixed field.
func TestOverridingPairs(t *testing.T) {
	dir := t.TempDir()
	w := aslfile.NewWriter(aslfile.Modern, 1)
	w.Add(&aslfile.Message{ID: 1, Time: 10, Level: 5, Sender: str("fixed"), Pairs: []aslfile.Pair{{Key: "Sender", Value: str("kv")}, {Key: "Level", Value: str("2")}}})
	if err := os.WriteFile(filepath.Join(dir, "x.asl"), w.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	tb := New(Config{StorePath: dir})
	for range 2 { // cold, then with the file's summary
		rows, err := tb.Generate(t.Context(), query(map[string][]table.Constraint{"sender": {con(table.OperatorEquals, "kv")}, "level": {con(table.OperatorEquals, "2")}}))
		if err != nil || len(rows) != 1 || rows[0]["sender"] != "kv" || rows[0]["level"] != "2" {
			t.Fatalf("rows %v, err %v", rows, err)
		}
	}
}

func TestStorePathForms(t *testing.T) {
	dir, _ := fixtureStore(t)
	file := filepath.Join(dir, "2026.01.02.asl")
	rows, err := New(Config{StorePath: file}).Generate(t.Context(), table.QueryContext{})
	if err != nil || len(rows) != 30 || rows[0]["path"] != file {
		t.Errorf("single file: %d rows, %v", len(rows), err)
	}
	rows, err = New(Config{StorePath: filepath.Join(dir, "missing")}).Generate(t.Context(), table.QueryContext{})
	if err != nil || len(rows) != 0 {
		t.Errorf("missing store: %d rows, %v", len(rows), err)
	}
}

func TestCancelled(t *testing.T) {
	dir, _ := fixtureStore(t)
	ctx, cancel := testContext(t)
	cancel()
	if _, err := New(Config{StorePath: dir}).Generate(ctx, table.QueryContext{}); err == nil {
		t.Error("no error from a cancelled query")
	}
}

// TestDamagedRecordCounted: a record whose string reference points past the
// end of the file is skipped and counted; the records around it are kept.
func TestDamagedRecordCounted(t *testing.T) {
	dir := t.TempDir()
	w := aslfile.NewWriter(aslfile.Modern, 1)
	for i := range 3 {
		w.Add(&aslfile.Message{ID: uint64(i + 1), Time: uint64(i), Sender: str("sender-long-enough"), Text: str("m")})
	}
	b := w.Bytes()
	binary.BigEndian.PutUint64(b[w.Offsets()[1]+90:], uint64(len(b))+100) // message ref of record 2
	if err := os.WriteFile(filepath.Join(dir, "d.asl"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	reg := stats.NewRegistry()
	src := reg.Source(StatsSource)
	rows, err := New(Config{StorePath: dir, Registry: reg}).Generate(t.Context(), table.QueryContext{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0]["time"] != "0" || rows[1]["time"] != "2" {
		t.Errorf("rows %v, want records 1 and 3", rows)
	}
	if src.ParseErrors.Load() != 1 {
		t.Errorf("parse_errors %d, want 1", src.ParseErrors.Load())
	}
}

func testContext(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}

// TestConcurrentQueries runs queries in parallel on one table (tablekit
// allows several at once); run with -race.
func TestConcurrentQueries(t *testing.T) {
	dir, total := fixtureStore(t)
	tb := New(Config{StorePath: dir})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := table.QueryContext{}
			want := total
			if i%2 == 1 {
				q = query(map[string][]table.Constraint{"level": {con(table.OperatorEquals, "3")}})
				want = -1
			}
			rows, err := tb.Generate(t.Context(), q)
			if err != nil {
				errs <- err
				return
			}
			if want >= 0 && len(rows) != want {
				errs <- fmt.Errorf("%d rows, want %d", len(rows), want)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
