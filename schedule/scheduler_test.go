//go:build sqlite_vtable

package schedule

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/engine"
	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/tables/syslog"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// memSink collects lines as a logger plugin would receive them.
type memSink struct {
	mu        sync.Mutex
	results   []string
	snapshots []string
}

func (m *memSink) LogResult(l []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.results = append(m.results, string(l))
	return nil
}

func (m *memSink) LogSnapshot(l []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.snapshots = append(m.snapshots, string(l))
	return nil
}

func (m *memSink) take() (res, snaps []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	res, snaps = m.results, m.snapshots
	m.results, m.snapshots = nil, nil
	return res, snaps
}

// env is a real engine over a real event store: a "things" table whose rows
// the test sets, a failing table, and syslog_messages.
type env struct {
	t      *testing.T
	dbPath string
	store  *eventstore.Store
	syslog *eventstore.Stream
	eng    *engine.Engine

	mu     sync.Mutex
	things []string
}

var fixedNow = time.Unix(1793603109, 0)

func newEnv(t *testing.T, dbPath string) *env {
	t.Helper()
	e := &env{t: t, dbPath: dbPath}
	e.open()
	return e
}

func (e *env) open() {
	t := e.t
	store, err := eventstore.Open(e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Stream(syslog.Schema(), eventstore.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	things := tablekit.Table{
		Name:    "things",
		Columns: []table.ColumnDefinition{table.TextColumn("name"), table.IntegerColumn("size")},
		Generate: func(context.Context, table.QueryContext) ([]map[string]string, error) {
			e.mu.Lock()
			defer e.mu.Unlock()
			var rows []map[string]string
			for _, n := range e.things {
				rows = append(rows, map[string]string{"name": n, "size": fmt.Sprint(len(n))})
			}
			return rows, nil
		},
	}
	broken := tablekit.Table{
		Name:    "broken",
		Columns: []table.ColumnDefinition{table.TextColumn("x")},
		Generate: func(context.Context, table.QueryContext) ([]map[string]string, error) {
			return nil, errors.New("disk on fire")
		},
	}
	eng, err := engine.New([]tablekit.Table{things, broken, syslog.Table(st)})
	if err != nil {
		t.Fatal(err)
	}
	e.store, e.syslog, e.eng = store, st, eng
	t.Cleanup(e.close)
}

func (e *env) close() {
	if e.eng != nil {
		e.eng.Close()
		e.store.Close()
		e.eng = nil
	}
}

func (e *env) set(names ...string) {
	e.mu.Lock()
	e.things = names
	e.mu.Unlock()
}

func (e *env) scheduler(cfg *Config, sink Sink, o Options) *Scheduler {
	e.t.Helper()
	if o.Host == "" {
		o.Host = "web-1"
	}
	if o.Now == nil {
		o.Now = func() time.Time { return fixedNow }
	}
	s, err := New(cfg, e.eng, e.store, sink, o)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func one(name, sql string) *Config {
	return &Config{Queries: []Query{{Name: name, SQL: sql, Interval: 10, Removed: true}}}
}

const envelope = `"hostIdentifier":"web-1","calendarTime":"Mon Nov  2 07:05:09 2026 UTC","unixTime":1793603109,"epoch":0`

func wantLines(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\ngot:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDifferentialThreeRuns: first run logs everything as added with counter
// 0; later runs log only what changed, removed first; an unchanged run logs
// nothing but still counts.
func TestDifferentialThreeRuns(t *testing.T) {
	e := newEnv(t, filepath.Join(t.TempDir(), "ev.db"))
	sink := &memSink{}
	s := e.scheduler(one("things", "SELECT name, size FROM things"), sink, Options{})
	ctx := t.Context()

	e.set("alpha", "bb")
	if err := s.RunQuery(ctx, "things"); err != nil {
		t.Fatal(err)
	}
	res, _ := sink.take()
	wantLines(t, "run 1", res,
		`{"name":"things",`+envelope+`,"counter":0,"numerics":false,"columns":{"name":"alpha","size":"5"},"action":"added"}`,
		`{"name":"things",`+envelope+`,"counter":0,"numerics":false,"columns":{"name":"bb","size":"2"},"action":"added"}`,
	)

	e.set("bb", "ccc")
	if err := s.RunQuery(ctx, "things"); err != nil {
		t.Fatal(err)
	}
	res, _ = sink.take()
	wantLines(t, "run 2", res,
		`{"name":"things",`+envelope+`,"counter":1,"numerics":false,"columns":{"name":"alpha","size":"5"},"action":"removed"}`,
		`{"name":"things",`+envelope+`,"counter":1,"numerics":false,"columns":{"name":"ccc","size":"3"},"action":"added"}`,
	)

	if err := s.RunQuery(ctx, "things"); err != nil {
		t.Fatal(err)
	}
	res, _ = sink.take()
	wantLines(t, "run 3 (unchanged)", res)

	e.set("ccc", "ccc")
	if err := s.RunQuery(ctx, "things"); err != nil {
		t.Fatal(err)
	}
	res, _ = sink.take()
	wantLines(t, "run 4 (duplicate row)", res,
		`{"name":"things",`+envelope+`,"counter":3,"numerics":false,"columns":{"name":"bb","size":"2"},"action":"removed"}`,
		`{"name":"things",`+envelope+`,"counter":3,"numerics":false,"columns":{"name":"ccc","size":"3"},"action":"added"}`,
	)
}

// runAcrossReopen runs a query once over rows a, b, closes the store, calls
// between with its path, reopens it and checks that the splayed interval,
// previous results and counter carried over: a run over b, c logs a removed
// and c added with counter 1. It returns the reopened env, the config and
// the sink.
func runAcrossReopen(t *testing.T, between func(db string)) (*env, *Config, *memSink) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "ev.db")
	e := newEnv(t, db)
	sink := &memSink{}
	cfg := one("things", "SELECT name FROM things")
	cfg.Queries[0].Interval = 100
	s := e.scheduler(cfg, sink, Options{SplayPercent: 50})
	splayed := s.Intervals()["things"]
	e.set("a", "b")
	if err := s.RunQuery(t.Context(), "things"); err != nil {
		t.Fatal(err)
	}
	sink.take()
	e.close()

	between(db)

	e2 := newEnv(t, db)
	s2 := e2.scheduler(cfg, sink, Options{SplayPercent: 50})
	if got := s2.Intervals()["things"]; got != splayed {
		t.Fatalf("splayed interval after reopening %d, before %d", got, splayed)
	}
	e2.set("b", "c")
	if err := s2.RunQuery(t.Context(), "things"); err != nil {
		t.Fatal(err)
	}
	res, _ := sink.take()
	wantLines(t, "after reopening", res,
		`{"name":"things",`+envelope+`,"counter":1,"numerics":false,"columns":{"name":"a"},"action":"removed"}`,
		`{"name":"things",`+envelope+`,"counter":1,"numerics":false,"columns":{"name":"c"},"action":"added"}`,
	)
	return e2, cfg, sink
}

// TestDifferentialAcrossRestart: previous results, counter and splayed
// interval survive closing and reopening the store.
func TestDifferentialAcrossRestart(t *testing.T) {
	e2, cfg, sink := runAcrossReopen(t, func(string) {})

	// A new epoch starts over: everything added, counter 0.
	s3 := e2.scheduler(cfg, sink, Options{Epoch: 7})
	if err := s3.RunQuery(t.Context(), "things"); err != nil {
		t.Fatal(err)
	}
	res, _ := sink.take()
	ep := strings.Replace(envelope, `"epoch":0`, `"epoch":7`, 1)
	wantLines(t, "new epoch", res,
		`{"name":"things",`+ep+`,"counter":0,"numerics":false,"columns":{"name":"b"},"action":"added"}`,
		`{"name":"things",`+ep+`,"counter":0,"numerics":false,"columns":{"name":"c"},"action":"added"}`,
	)
}

// TestSnapshotQuery: a snapshot query logs all rows every run, in the batch
// snapshot line (or one line per row with SnapshotEventType), and nothing
// as a result.
func TestSnapshotQuery(t *testing.T) {
	e := newEnv(t, filepath.Join(t.TempDir(), "ev.db"))
	sink := &memSink{}
	cfg := one("inv", "SELECT name FROM things ORDER BY name")
	cfg.Queries[0].Snapshot = true
	cfg.Decorators.Load = []string{"SELECT 'eu-1' AS site"}
	s := e.scheduler(cfg, sink, Options{})
	e.set("x", "y")
	for range 2 {
		if err := s.RunQuery(t.Context(), "inv"); err != nil {
			t.Fatal(err)
		}
	}
	res, snaps := sink.take()
	line := `{"snapshot":[{"name":"x"},{"name":"y"}],"action":"snapshot","name":"inv",` + envelope + `,"counter":0,"numerics":false,"decorations":{"site":"eu-1"}}`
	wantLines(t, "results", res)
	wantLines(t, "snapshots", snaps, line, line)

	s2 := e.scheduler(cfg, sink, Options{SnapshotEventType: true, DecorationsTopLevel: true})
	if err := s2.RunQuery(t.Context(), "inv"); err != nil {
		t.Fatal(err)
	}
	_, snaps = sink.take()
	wantLines(t, "snapshot event type", snaps,
		`{"name":"inv",`+envelope+`,"counter":0,"numerics":false,"site":"eu-1","columns":{"name":"x"},"action":"snapshot"}`,
		`{"name":"inv",`+envelope+`,"counter":0,"numerics":false,"site":"eu-1","columns":{"name":"y"},"action":"snapshot"}`,
	)
}

// TestEventedQuerySeesEachEventOnce: a query over syslog_messages gets only
// the events appended since its own last run, and another query keeps its
// own cursor.
func TestEventedQuerySeesEachEventOnce(t *testing.T) {
	db := filepath.Join(t.TempDir(), "ev.db")
	e := newEnv(t, db)
	sink := &memSink{}
	cfg := &Config{Queries: []Query{
		{Name: "a", SQL: "SELECT message FROM syslog_messages WHERE tag = 'sshd'", Interval: 10, Removed: true},
		{Name: "b", SQL: "SELECT message FROM syslog_messages", Interval: 10, Removed: true},
	}}
	s := e.scheduler(cfg, sink, Options{})
	add := func(tag, msg string) {
		if _, err := e.syslog.Append([]eventstore.Event{{Time: 1, Values: []any{"", "h", int64(6), "auth", tag, msg, int64(1), int64(0)}}}); err != nil {
			t.Fatal(err)
		}
	}
	msgs := func(lines []string) []string {
		var out []string
		for _, l := range lines {
			i := strings.Index(l, `"columns":{"message":"`)
			if i < 0 || !strings.Contains(l, `"counter":0`) || !strings.HasSuffix(l, `"action":"added"}`) {
				t.Fatalf("unexpected line %s", l)
			}
			rest := l[i+len(`"columns":{"message":"`):]
			out = append(out, rest[:strings.IndexByte(rest, '"')])
		}
		return out
	}
	add("sshd", "m1")
	add("cron", "m2")
	if err := s.RunQuery(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	res, _ := sink.take()
	wantLines(t, "a run 1", msgs(res), "m1")
	add("sshd", "m3")
	if err := s.RunQuery(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	res, _ = sink.take()
	wantLines(t, "a run 2", msgs(res), "m3")
	if err := s.RunQuery(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	res, _ = sink.take()
	wantLines(t, "a run 3 (no new events)", res)
	if err := s.RunQuery(t.Context(), "b"); err != nil {
		t.Fatal(err)
	}
	res, _ = sink.take()
	wantLines(t, "b run 1", msgs(res), "m1", "m2", "m3")

	// The cursor survives a restart.
	e.close()
	e2 := newEnv(t, db)
	s2 := e2.scheduler(cfg, sink, Options{})
	e = e2
	add("sshd", "m4")
	if err := s2.RunQuery(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	res, _ = sink.take()
	wantLines(t, "a after restart", msgs(res), "m4")
}

// TestRunTimeErrorKeepsScheduleGoing: a query failing at run time is logged
// and the others keep running on their intervals.
func TestRunTimeErrorKeepsScheduleGoing(t *testing.T) {
	e := newEnv(t, filepath.Join(t.TempDir(), "ev.db"))
	sink := &memSink{}
	cfg := &Config{Queries: []Query{
		{Name: "bad", SQL: "SELECT x FROM broken", Interval: 1, Removed: true},
		{Name: "good", SQL: "SELECT count(*) AS n, strftime('%s','now') AS t FROM things", Interval: 1, Removed: true},
	}}
	var logBuf syncBuf
	s := e.scheduler(cfg, sink, Options{Now: time.Now, Log: slogTo(&logBuf)})
	if err := s.Check(t.Context()); err != nil {
		t.Fatalf("Check: %v (broken fails only when it runs)", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3500*time.Millisecond)
	defer cancel()
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	res, _ := sink.take()
	if len(res) < 2 {
		t.Fatalf("good query logged %d lines in 3.5 s, want one per second despite bad failing:\n%s", len(res), strings.Join(res, "\n"))
	}
	if n := strings.Count(logBuf.String(), "scheduled query failed"); n < 2 {
		t.Fatalf("bad query failures logged %d times, want every run:\n%s", n, logBuf.String())
	}
	if !strings.Contains(logBuf.String(), "disk on fire") || !strings.Contains(logBuf.String(), "query=bad") {
		t.Fatalf("log does not name the failing query and its error:\n%s", logBuf.String())
	}
}

// TestCheckNamesBadSQL: a query that does not compile fails Check, named.
func TestCheckNamesBadSQL(t *testing.T) {
	e := newEnv(t, filepath.Join(t.TempDir(), "ev.db"))
	cfg := &Config{Queries: []Query{
		{Name: "fine", SQL: "SELECT * FROM things", Interval: 5},
		{Name: "pack_x_typo", SQL: "SELEC * FROM things", Interval: 5},
		{Name: "pack_x_nosuch", SQL: "SELECT * FROM no_such_table", Interval: 5},
	}, Decorators: Decorators{Always: []string{"SELECT nope FROM things"}}}
	err := e.scheduler(cfg, &memSink{}, Options{}).Check(t.Context())
	if err == nil {
		t.Fatal("Check accepted bad SQL")
	}
	for _, want := range []string{"pack_x_typo", "pack_x_nosuch", "no_such_table", "decorators.always[0]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "query fine") {
		t.Errorf("error %q blames a good query", err)
	}
}

// TestSplayBounds: the splayed interval stays within percent% of the
// interval, never below 1, reaches both ends, and 0% or >100% means none.
func TestSplayBounds(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		interval, percent, lo, hi uint64
	}{
		{3600, 10, 3240, 3960},
		{60, 50, 30, 90},
		{10, 100, 1, 20},
		{1, 10, 1, 1},
		{300, 0, 300, 300},
		{300, 101, 300, 300},
		{7, 10, 7, 7}, // 10% of 7 truncates to 0
	}
	for _, tt := range tests {
		seenLo, seenHi := false, false
		for range 20000 {
			v := SplayValue(tt.interval, tt.percent, rnd)
			if v < tt.lo || v > tt.hi {
				t.Fatalf("SplayValue(%d, %d) = %d, outside [%d, %d]", tt.interval, tt.percent, v, tt.lo, tt.hi)
			}
			seenLo = seenLo || v == tt.lo
			seenHi = seenHi || v == tt.hi
		}
		if !seenLo || !seenHi {
			t.Errorf("SplayValue(%d, %d) never reached %d or %d", tt.interval, tt.percent, tt.lo, tt.hi)
		}
	}
}

// TestDecoratorsInRun: load decorators run once, interval ones on their
// interval, always ones before every query; a later one overrides an
// earlier column.
func TestDecoratorsInRun(t *testing.T) {
	e := newEnv(t, filepath.Join(t.TempDir(), "ev.db"))
	sink := &memSink{}
	cfg := one("q", "SELECT count(*) AS n, strftime('%s','now') AS t FROM things")
	cfg.Queries[0].Interval = 1
	cfg.Decorators = Decorators{
		Load:     []string{"SELECT 'load' AS src, 'L' AS l"},
		Interval: map[uint64][]string{1: {"SELECT 'interval' AS src, 'I' AS i"}},
		Always:   []string{"SELECT 'always' AS a, count(*) AS things FROM things"},
	}
	s := e.scheduler(cfg, sink, Options{Now: time.Now})
	ctx, cancel := context.WithTimeout(t.Context(), 2500*time.Millisecond)
	defer cancel()
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	res, _ := sink.take()
	if len(res) < 2 {
		t.Fatalf("%d lines in 2.5 s", len(res))
	}
	for _, l := range res {
		if !strings.Contains(l, `"decorations":{"a":"always","i":"I","l":"L","src":"interval","things":"0"}`) {
			t.Fatalf("decorations wrong in %s", l)
		}
	}
}

// TestDifferentialEscaping: differential values get osquery's non-printable
// escaping (control bytes and invalid UTF-8 as \xHH, valid UTF-8 kept) before
// they are diffed and logged; snapshot values are logged as they are.
func TestDifferentialEscaping(t *testing.T) {
	e := newEnv(t, filepath.Join(t.TempDir(), "ev.db"))
	sink := &memSink{}
	sql := "SELECT char(9) || 'café' || char(1) || cast(x'ff' AS TEXT) || '®' AS v"
	cfg := &Config{Queries: []Query{
		{Name: "diff", SQL: sql, Interval: 10, Removed: true},
		{Name: "snap", SQL: sql, Interval: 10, Snapshot: true},
	}}
	s := e.scheduler(cfg, sink, Options{})
	for range 2 {
		if err := s.RunQuery(t.Context(), "diff"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RunQuery(t.Context(), "snap"); err != nil {
		t.Fatal(err)
	}
	res, snaps := sink.take()
	wantLines(t, "differential (second run unchanged)", res,
		`{"name":"diff",`+envelope+`,"counter":0,"numerics":false,"columns":{"v":"\\x09café\\x01\\xFF®"},"action":"added"}`)
	wantLines(t, "snapshot", snaps,
		`{"snapshot":[{"v":"\tcafé\u0001`+"\xff"+`®"}],"action":"snapshot","name":"snap",`+envelope+`,"counter":0,"numerics":false}`)
}

// TestDifferentialAcrossUpgrade: a store the release before the state-key
// namespace rule wrote (keys "schedule.interval.<q>", "schedule.query.<q>")
// keeps its splayed interval, previous results and counter after upgrade.
func TestDifferentialAcrossUpgrade(t *testing.T) {
	runAcrossReopen(t, func(db string) {
		// Give the keys the previous release's names.
		raw, err := sql.Open("sqlite3", db)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		for _, q := range []string{
			`UPDATE state SET key = 'schedule.interval.things' WHERE key = 'schedule/interval/things'`,
			`UPDATE state SET key = 'schedule.query.things' WHERE key = 'schedule/query/things'`,
		} {
			if r, err := raw.Exec(q); err != nil {
				t.Fatal(err)
			} else if n, _ := r.RowsAffected(); n != 1 {
				t.Fatalf("%s: %d rows", q, n)
			}
		}
	})
}
