package eventstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// syslogSchema is the shape of the syslog stream.
func syslogSchema() Schema {
	return Schema{Name: "syslog", Columns: []Column{
		{Name: "datetime", Type: Text},
		{Name: "host", Type: Text, Indexed: true},
		{Name: "severity", Type: Integer, Indexed: true},
		{Name: "facility", Type: Text, Indexed: true},
		{Name: "tag", Type: Text, Indexed: true},
		{Name: "message", Type: Text},
		{Name: "event_time", Type: Integer, Indexed: true},
		{Name: "truncated", Type: Integer},
	}}
}

var facilities = []string{"kern", "user", "mail", "daemon", "auth", "syslog", "cron", "local0"}

// syslogEvent is event i of a deterministic sequence.
func syslogEvent(i int, tm int64) Event {
	return Event{Time: tm, Values: []any{
		"2024-05-01T10:00:00Z",
		fmt.Sprintf("host%d", i%5),
		int64(i % 8),
		facilities[i%len(facilities)],
		fmt.Sprintf("tag%d", i%13),
		fmt.Sprintf("message number %d from the test", i),
		tm - int64(i%3),
		int64(0),
	}}
}

func openStore(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openStream(t testing.TB, s *Store, sc Schema, l Limits) *Stream {
	t.Helper()
	st, err := s.Stream(sc, l)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func queryAll(t testing.TB, st *Stream, conds ...Cond) []Row {
	t.Helper()
	var rows []Row
	err := st.Query(t.Context(), conds, func(r Row) error {
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		t.Fatalf("Query(%v): %v", conds, err)
	}
	return rows
}

func eids(rows []Row) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.EID
	}
	return out
}

func mustAppend(t testing.TB, st *Stream, events []Event) int64 {
	t.Helper()
	n, err := st.Append(events)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRoundTripConds(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "sub", "dir", "events.db"))
	st := openStream(t, s, syslogSchema(), Limits{})
	var events []Event
	for i := range 60 {
		ev := syslogEvent(i, 1000+int64(i/3))
		if i%10 == 7 {
			ev.Values[1] = nil // NULL host
			ev.Values[7] = nil // NULL truncated
		}
		events = append(events, ev)
	}
	// Two appends: eids continue across transactions.
	mustAppend(t, st, events[:25])
	mustAppend(t, st, events[25:])
	if got := st.Count(); got != 60 {
		t.Fatalf("Count = %d, want 60", got)
	}

	all := queryAll(t, st)
	if len(all) != len(events) {
		t.Fatalf("got %d rows, want %d", len(all), len(events))
	}
	for i, r := range all {
		if i > 0 && r.EID <= all[i-1].EID {
			t.Fatalf("eids not increasing: %v", eids(all))
		}
		if r.Time != events[i].Time || !slices.Equal(r.Values, events[i].Values) {
			t.Fatalf("row %d = %+v, want time %d values %v", i, r, events[i].Time, events[i].Values)
		}
	}
	eidOf := func(i int) int64 { return all[i].EID }

	// match reports whether event i satisfies c, computed in Go.
	match := func(i int, c Cond) bool {
		var v any
		switch c.Column {
		case "eid":
			v = eidOf(i)
		case "time":
			v = events[i].Time
		case "severity":
			v = events[i].Values[2]
		case "host":
			v = events[i].Values[1]
		case "message":
			v = events[i].Values[5]
		}
		if v == nil {
			return false // NULL compares false
		}
		var cmp int
		switch x := v.(type) {
		case int64:
			cmp = int(x - c.Value.(int64))
			if cmp > 0 {
				cmp = 1
			} else if cmp < 0 {
				cmp = -1
			}
		case string:
			cmp = strings.Compare(x, c.Value.(string))
		}
		switch c.Op {
		case Eq:
			return cmp == 0
		case Gt:
			return cmp > 0
		case Ge:
			return cmp >= 0
		case Lt:
			return cmp < 0
		case Le:
			return cmp <= 0
		}
		panic(c.Op)
	}

	ops := []struct {
		name string
		op   Op
	}{{"eq", Eq}, {"gt", Gt}, {"ge", Ge}, {"lt", Lt}, {"le", Le}}
	values := []struct {
		col string
		v   any
	}{
		{"eid", eidOf(30)},
		{"time", int64(1010)},
		{"severity", int64(3)},
		{"host", "host2"},
		{"message", "message number 42 from the test"},
	}
	type tc struct {
		name  string
		conds []Cond
	}
	var cases []tc
	for _, v := range values {
		for _, op := range ops {
			cases = append(cases, tc{v.col + "_" + op.name, []Cond{{Column: v.col, Op: op.op, Value: v.v}}})
		}
	}
	cases = append(cases,
		tc{"time_window", []Cond{{"time", Ge, int64(1005)}, {"time", Lt, int64(1012)}}},
		tc{"host_and_severity", []Cond{{"host", Eq, "host1"}, {"severity", Ge, int64(4)}}},
		tc{"eid_range_and_time", []Cond{{"eid", Gt, eidOf(10)}, {"eid", Le, eidOf(50)}, {"time", Lt, int64(1015)}}},
		tc{"host_and_time_window", []Cond{{"host", Eq, "host2"}, {"time", Ge, int64(1003)}, {"time", Le, int64(1015)}}},
		tc{"severity_range_and_eid_since", []Cond{{"severity", Gt, int64(4)}, {"eid", Ge, eidOf(20)}}},
		tc{"host_range_and_time_eq", []Cond{{"host", Ge, "host3"}, {"time", Eq, int64(1010)}}},
		tc{"empty_result", []Cond{{"host", Eq, "nosuchhost"}}},
		tc{"contradiction", []Cond{{"time", Gt, int64(1010)}, {"time", Lt, int64(1005)}}},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want []int64
			for i := range events {
				ok := true
				for _, cd := range c.conds {
					ok = ok && match(i, cd)
				}
				if ok {
					want = append(want, eidOf(i))
				}
			}
			got := eids(queryAll(t, st, c.conds...))
			if !slices.Equal(got, want) {
				t.Errorf("eids = %v, want %v", got, want)
			}
		})
	}
}

func TestQueryErrors(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "e.db"))
	st := openStream(t, s, syslogSchema(), Limits{})
	mustAppend(t, st, []Event{syslogEvent(1, 100)})
	cases := []struct {
		name string
		cond Cond
		want string
	}{
		{"unknown column", Cond{"nosuch", Eq, "x"}, "unknown column"},
		{"injection", Cond{"host = host OR 1", Eq, "x"}, "unknown column"},
		{"case differs", Cond{"HOST", Eq, "x"}, "unknown column"},
		{"unknown op", Cond{"time", Op(42), int64(1)}, "unknown operator"},
		{"string for integer", Cond{"severity", Eq, "3"}, "not an int64"},
		{"int for text", Cond{"host", Eq, int64(3)}, "not a string"},
		{"nil value", Cond{"time", Eq, nil}, "not an int64"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			called := false
			err := st.Query(t.Context(), []Cond{c.cond}, func(Row) error { called = true; return nil })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
			if called {
				t.Error("fn called")
			}
		})
	}
}

func TestQueryStopsOnFnErrorAndCancel(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "e.db"))
	st := openStream(t, s, syslogSchema(), Limits{})
	var events []Event
	for i := range 1000 {
		events = append(events, syslogEvent(i, 100))
	}
	mustAppend(t, st, events)

	stop := errors.New("stop")
	n := 0
	err := st.Query(t.Context(), nil, func(Row) error {
		n++
		if n == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 10 {
		t.Fatalf("err = %v after %d rows, want stop after 10", err, n)
	}

	ctx, cancel := context.WithCancel(t.Context())
	n = 0
	err = st.Query(ctx, nil, func(Row) error {
		n++
		if n == 5 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n > 5+ctxCheckEvery {
		t.Fatalf("%d rows delivered after cancel", n-5)
	}

	n = 0
	err = st.Query(ctx, nil, func(Row) error { n++; return nil })
	if !errors.Is(err, context.Canceled) || n != 0 {
		t.Fatalf("already cancelled: err = %v, %d rows", err, n)
	}
}

func TestEIDMonotonicAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.db")
	sc := syslogSchema()
	var maxEID int64

	// Run 1: append, remember the highest eid.
	s := openStore(t, path)
	st := openStream(t, s, sc, Limits{MaxAge: time.Hour})
	now := time.Now().Unix()
	mustAppend(t, st, []Event{syslogEvent(0, now), syslogEvent(1, now), syslogEvent(2, now)})
	rows := queryAll(t, st)
	maxEID = rows[len(rows)-1].EID
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Run 2: eids continue; then every row is expired.
	s = openStore(t, path)
	st = openStream(t, s, sc, Limits{MaxAge: time.Hour})
	if got := st.Count(); got != 3 {
		t.Fatalf("Count after reopen = %d, want 3", got)
	}
	mustAppend(t, st, []Event{syslogEvent(3, now)})
	rows = queryAll(t, st)
	if last := rows[len(rows)-1].EID; last <= maxEID {
		t.Fatalf("eid after reopen %d <= previous max %d", last, maxEID)
	}
	maxEID = rows[len(rows)-1].EID
	n, err := st.Expire(time.Now().Add(3 * time.Hour))
	if err != nil || n != 4 {
		t.Fatalf("Expire = %d, %v; want 4", n, err)
	}
	if got := st.Count(); got != 0 {
		t.Fatalf("Count = %d, want 0", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Run 3: the table is empty, yet eids are not reused.
	s = openStore(t, path)
	st = openStream(t, s, sc, Limits{})
	if got := st.Count(); got != 0 {
		t.Fatalf("Count = %d, want 0", got)
	}
	mustAppend(t, st, []Event{syslogEvent(4, now)})
	rows = queryAll(t, st)
	if len(rows) != 1 || rows[0].EID <= maxEID {
		t.Fatalf("rows %v: eid must be > %d", eids(rows), maxEID)
	}
}

func TestExpiryByCount(t *testing.T) {
	for _, batch := range []int{250, 100, 7, 1} {
		t.Run(fmt.Sprintf("batch%d", batch), func(t *testing.T) {
			s := openStore(t, filepath.Join(t.TempDir(), "e.db"))
			st := openStream(t, s, syslogSchema(), Limits{MaxCount: 100})
			now := time.Now().Unix()
			var events []Event
			for i := range 250 {
				events = append(events, syslogEvent(i, now))
			}
			var expired int64
			for i := 0; i < len(events); i += batch {
				expired += mustAppend(t, st, events[i:min(i+batch, len(events))])
				if c := st.Count(); c > 100 {
					t.Fatalf("Count = %d after append, want <= 100", c)
				}
			}
			if expired != 150 {
				t.Errorf("expired = %d, want 150", expired)
			}
			if c := st.Count(); c != 100 {
				t.Errorf("Count = %d, want 100", c)
			}
			rows := queryAll(t, st)
			if len(rows) != 100 {
				t.Fatalf("%d rows, want 100", len(rows))
			}
			for i, r := range rows {
				want := fmt.Sprintf("message number %d from the test", 150+i)
				if r.Values[5] != want {
					t.Fatalf("row %d message %v, want %q (the newest 100)", i, r.Values[5], want)
				}
			}
		})
	}
}

func TestExpiryByAge(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "e.db"))
	st := openStream(t, s, syslogSchema(), Limits{MaxAge: time.Hour})
	now := time.Now().Unix()
	// Old events are expired by the append that stores them.
	n := mustAppend(t, st, []Event{
		syslogEvent(0, now-7200), syslogEvent(1, now), syslogEvent(2, now-3700), syslogEvent(3, now-60),
	})
	if n != 2 {
		t.Errorf("expired = %d, want 2", n)
	}
	if c := st.Count(); c != 2 {
		t.Errorf("Count = %d, want 2", c)
	}
	rows := queryAll(t, st)
	if len(rows) != 2 || rows[0].Time != now || rows[1].Time != now-60 {
		t.Fatalf("rows = %+v", rows)
	}
	// A fresh append expires nothing.
	if n := mustAppend(t, st, []Event{syslogEvent(4, now)}); n != 0 {
		t.Errorf("expired = %d, want 0", n)
	}
	// A late old event is expired on its own.
	if n := mustAppend(t, st, []Event{syslogEvent(5, now-4000)}); n != 1 {
		t.Errorf("expired = %d, want 1", n)
	}
	if c := st.Count(); c != 3 {
		t.Errorf("Count = %d, want 3", c)
	}
}

func TestExpireNow(t *testing.T) {
	cases := []struct {
		name        string
		limits      Limits
		offset      time.Duration // Expire(now+offset)
		wantExpired int64
		wantCount   int64
	}{
		{"no limits", Limits{}, 10 * time.Hour, 0, 50},
		{"age, nothing old yet", Limits{MaxAge: time.Hour}, 0, 0, 50},
		{"age, half old", Limits{MaxAge: time.Hour}, time.Hour + 25*time.Second, 25, 25},
		{"age, all old", Limits{MaxAge: time.Hour}, 2 * time.Hour, 50, 0},
		{"count", Limits{MaxCount: 20}, 0, 30, 20},
		{"count and age", Limits{MaxAge: time.Hour, MaxCount: 20}, time.Hour + 10*time.Second, 30, 20},
		{"age wins over count", Limits{MaxAge: time.Hour, MaxCount: 20}, time.Hour + 40*time.Second, 40, 10},
	}
	base := time.Now().Truncate(time.Second)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := openStore(t, filepath.Join(t.TempDir(), "e.db"))
			// Fill without limits, then expire through a handle that has them.
			fill := openStream(t, s, syslogSchema(), Limits{})
			var events []Event
			for i := range 50 {
				events = append(events, syslogEvent(i, base.Unix()+int64(i)))
			}
			mustAppend(t, fill, events)
			st := openStream(t, s, syslogSchema(), c.limits)
			n, err := st.Expire(base.Add(c.offset))
			if err != nil {
				t.Fatal(err)
			}
			if n != c.wantExpired {
				t.Errorf("expired = %d, want %d", n, c.wantExpired)
			}
			if got := st.Count(); got != c.wantCount {
				t.Errorf("Count = %d, want %d", got, c.wantCount)
			}
			rows := queryAll(t, st)
			if int64(len(rows)) != c.wantCount {
				t.Fatalf("%d rows, want %d", len(rows), c.wantCount)
			}
			// What remains is always the newest rows.
			for i, r := range rows {
				if want := base.Unix() + 50 - c.wantCount + int64(i); r.Time != want {
					t.Fatalf("row %d time %d, want %d", i, r.Time, want)
				}
			}
		})
	}
}

// TestConcurrentReaderWriter runs a writer Store and a reader Store (as the
// query subcommand would be) on one file at the same time.
func TestConcurrentReaderWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.db")
	ws := openStore(t, path)
	wst := openStream(t, ws, syslogSchema(), Limits{MaxCount: 5000})
	rs := openStore(t, path)
	rst := openStream(t, rs, syslogSchema(), Limits{})

	const batches, batch = 60, 200
	var wg sync.WaitGroup
	done := make(chan struct{})
	errc := make(chan error, 4)
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer close(done)
		now := time.Now().Unix()
		for b := range batches {
			events := make([]Event, batch)
			for i := range events {
				events[i] = syslogEvent(b*batch+i, now)
			}
			if _, err := wst.AppendState(events, map[string]string{"pos/test": fmt.Sprint(b)}); err != nil {
				errc <- fmt.Errorf("append: %w", err)
				return
			}
		}
	}()
	reads := 0
	go func() {
		defer wg.Done()
		var last int64
		for {
			select {
			case <-done:
				return
			default:
			}
			var prev int64
			n := 0
			err := rst.Query(t.Context(), []Cond{{"host", Eq, "host3"}}, func(r Row) error {
				if r.EID <= prev {
					return fmt.Errorf("eid %d after %d", r.EID, prev)
				}
				prev = r.EID
				n++
				return nil
			})
			if err != nil {
				errc <- fmt.Errorf("query: %w", err)
				return
			}
			// Commits are atomic: a reader sees whole batches only.
			c := rst.Count()
			if c%batch != 0 || c < last && c < 5000 {
				errc <- fmt.Errorf("reader Count %d (previous %d)", c, last)
				return
			}
			last = c
			if _, err := rs.States("pos/"); err != nil {
				errc <- fmt.Errorf("states: %w", err)
				return
			}
			reads++
		}
	}()
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if reads == 0 {
		t.Error("reader never completed a query")
	}
	if c, want := rst.Count(), int64(5000); c != want {
		t.Errorf("reader Count = %d, want %d", c, want)
	}
	if c := wst.Count(); c != 5000 {
		t.Errorf("writer Count = %d, want 5000", c)
	}
	st, err := rs.States("pos/")
	if err != nil || st["pos/test"] != fmt.Sprint(batches-1) {
		t.Errorf("States = %v, %v", st, err)
	}
	t.Logf("%d reads during %d appends", reads, batches)
}

// TestSecondWriterDetected checks that a writer notices rows another
// connection wrote (its in-memory count would otherwise drift).
func TestSecondWriterDetected(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.db")
	a := openStream(t, openStore(t, path), syslogSchema(), Limits{MaxCount: 10})
	b := openStream(t, openStore(t, path), syslogSchema(), Limits{})
	now := time.Now().Unix()
	mustAppend(t, a, []Event{syslogEvent(0, now)})
	var events []Event
	for i := range 20 {
		events = append(events, syslogEvent(i, now))
	}
	mustAppend(t, b, events)
	if n := mustAppend(t, a, []Event{syslogEvent(1, now)}); n != 12 {
		t.Errorf("expired = %d, want 12", n)
	}
	if c := a.Count(); c != 10 {
		t.Errorf("Count = %d, want 10", c)
	}
}

func TestAppendStateAtomic(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "e.db"))
	st := openStream(t, s, syslogSchema(), Limits{MaxCount: 1000})
	now := time.Now().Unix()
	batch := func(n int) []Event {
		var ev []Event
		for i := range n {
			ev = append(ev, syslogEvent(i, now))
		}
		return ev
	}
	if _, err := st.AppendState(batch(10), map[string]string{"pos/a": "10", "pos/b": "x"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutState("other/1", "1"); err != nil {
		t.Fatal(err)
	}

	bad := func(mutate func([]Event) []Event) []Event { return mutate(batch(300)) }
	cases := []struct {
		name   string
		events []Event
		want   string
	}{
		// The bad value is at the end: earlier chunks were already
		// inserted when it is found, so only a rollback undoes them.
		{"wrong type last", bad(func(e []Event) []Event { e[299].Values[2] = "3"; return e }), "want int64"},
		{"int for text", bad(func(e []Event) []Event { e[150].Values[1] = int64(1); return e }), "want string"},
		{"unsupported type", bad(func(e []Event) []Event { e[200].Values[0] = 1.5; return e }), "float64"},
		{"too few values", bad(func(e []Event) []Event { e[299].Values = e[299].Values[:3]; return e }), "3 values"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := st.AppendState(c.events, map[string]string{"pos/a": "310", "pos/c": "new"})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
			if c := st.Count(); c != 10 {
				t.Errorf("Count = %d, want 10", c)
			}
			if rows := queryAll(t, st); len(rows) != 10 {
				t.Errorf("%d rows stored, want 10", len(rows))
			}
			got, err := s.States("pos/")
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]string{"pos/a": "10", "pos/b": "x"}; !mapsEqual(got, want) {
				t.Errorf("States = %v, want %v", got, want)
			}
		})
	}
	// The store is still usable and its count right.
	if _, err := st.AppendState(batch(5), map[string]string{"pos/a": "15"}); err != nil {
		t.Fatal(err)
	}
	if c := st.Count(); c != 15 {
		t.Errorf("Count = %d, want 15", c)
	}
	if got, _ := s.States("pos/a"); got["pos/a"] != "15" {
		t.Errorf("pos/a = %q", got["pos/a"])
	}
	// State alone, no events.
	if _, err := st.AppendState(nil, map[string]string{"pos/z": "z"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.States("pos/z"); got["pos/z"] != "z" {
		t.Errorf("pos/z = %q", got["pos/z"])
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestStates(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "e.db"))
	for k, v := range map[string]string{
		"stats/syslog": "1", "stats/file:/var/log/x": "2", "pos/1": "p", "stats/\xff": "hi",
	} {
		if err := s.PutState(k, v); err != nil {
			t.Fatal(err)
		}
	}
	// Keys outside the namespace rule, as a store from before it could hold
	// them: PutState refuses them, States must not confuse them.
	for k, v := range map[string]string{"stats0": "no", "stats": "no", "statsX": "no", "": "empty"} {
		if err := s.PutState(k, v); err == nil {
			t.Errorf("PutState(%q) accepted", k)
		}
		putRaw(t, s, k, v)
	}
	if err := s.PutState("stats/syslog", "3"); err != nil { // overwrite
		t.Fatal(err)
	}
	cases := []struct {
		prefix string
		want   map[string]string
	}{
		{"stats/", map[string]string{"stats/syslog": "3", "stats/file:/var/log/x": "2", "stats/\xff": "hi"}},
		{"pos/", map[string]string{"pos/1": "p"}},
		{"none/", map[string]string{}},
		{"stats/syslog", map[string]string{"stats/syslog": "3"}},
	}
	for _, c := range cases {
		got, err := s.States(c.prefix)
		if err != nil {
			t.Fatal(err)
		}
		if !mapsEqual(got, c.want) {
			t.Errorf("States(%q) = %v, want %v", c.prefix, got, c.want)
		}
	}
	all, err := s.States("")
	if err != nil || len(all) != 8 {
		t.Errorf("States(\"\") = %d keys, %v; want 8", len(all), err)
	}
}

func TestQueryPlanUsesIndexes(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "e.db"))
	st := openStream(t, s, syslogSchema(), Limits{})
	var events []Event
	for i := range 2000 {
		events = append(events, syslogEvent(i, 1000+int64(i/10)))
	}
	mustAppend(t, st, events)
	cases := []struct {
		name  string
		conds []Cond
		want  string // expected in the plan
	}{
		{"time window", []Cond{{"time", Ge, int64(1050)}, {"time", Lt, int64(1060)}}, `USING INDEX events_syslog:time`},
		{"time since", []Cond{{"time", Gt, int64(1150)}}, `USING INDEX events_syslog:time`},
		{"host equality", []Cond{{"host", Eq, "host1"}}, `USING INDEX events_syslog:host`},
		{"severity equality", []Cond{{"severity", Eq, int64(2)}}, `USING INDEX events_syslog:severity`},
		{"tag equality", []Cond{{"tag", Eq, "tag7"}}, `USING INDEX events_syslog:tag`},
		{"event_time range", []Cond{{"event_time", Ge, int64(1100)}, {"event_time", Le, int64(1101)}}, `USING INDEX events_syslog:event_time`},
		{"eid range", []Cond{{"eid", Gt, int64(1500)}}, `USING INTEGER PRIMARY KEY`},
		// Low-cardinality equalities would otherwise win (SQLite
		// guesses 10 rows per key) and read every row of that host.
		{"host equality and time window", []Cond{{"host", Eq, "host1"}, {"time", Ge, int64(1050)}, {"time", Lt, int64(1060)}}, `USING INDEX events_syslog:time`},
		{"severity range and time since", []Cond{{"severity", Le, int64(3)}, {"time", Gt, int64(1150)}}, `USING INDEX events_syslog:time`},
		{"tag equality and eid since", []Cond{{"tag", Eq, "tag3"}, {"eid", Gt, int64(1900)}}, `USING INTEGER PRIMARY KEY`},
		{"tag equality and time upper bound", []Cond{{"tag", Eq, "tag3"}, {"time", Lt, int64(1100)}}, `USING INDEX events_syslog:tag`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, args, err := st.t.buildQuery(c.conds)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := s.rdb.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			text := strings.Join(plan, "; ")
			if !strings.Contains(text, "SEARCH") || !strings.Contains(text, c.want) {
				t.Errorf("plan %q: want a SEARCH %s", text, c.want)
			}
			if strings.Contains(text, "SCAN events_syslog") {
				t.Errorf("plan %q scans the table", text)
			}
		})
	}
}

func TestIdentifierValidation(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "e.db"))
	col := func(names ...string) []Column {
		var cs []Column
		for _, n := range names {
			cs = append(cs, Column{Name: n, Type: Text})
		}
		return cs
	}
	cases := []struct {
		name   string
		schema Schema
		want   string // "" means valid
	}{
		{"valid", Schema{Name: "Sys_log2", Columns: col("a", "B_2", "_c")}, ""},
		{"no columns", Schema{Name: "bare"}, ""},
		{"empty stream", Schema{Name: "", Columns: col("a")}, "empty stream name"},
		{"stream with space", Schema{Name: "sys log", Columns: col("a")}, "invalid stream name"},
		{"stream with quote", Schema{Name: `x"; DROP TABLE state; --`, Columns: col("a")}, "invalid stream name"},
		{"stream with dash", Schema{Name: "sys-log"}, "invalid stream name"},
		{"stream non-ascii", Schema{Name: "sysl\u00f6g"}, "invalid stream name"},
		{"stream too long", Schema{Name: strings.Repeat("a", 65)}, "longer than"},
		{"column with paren", Schema{Name: "s", Columns: col("a)")}, "invalid column name"},
		{"column with dot", Schema{Name: "s", Columns: col("a.b")}, "invalid column name"},
		{"column empty", Schema{Name: "s", Columns: col("")}, "empty column name"},
		{"column eid", Schema{Name: "s", Columns: col("eid")}, "reserved"},
		{"column TIME", Schema{Name: "s", Columns: col("TIME")}, "reserved"},
		{"column rowid", Schema{Name: "s", Columns: col("rowid")}, "reserved"},
		{"duplicate column", Schema{Name: "s", Columns: col("a", "A")}, "duplicate"},
		{"bad type", Schema{Name: "s", Columns: []Column{{Name: "a", Type: ColumnType(7)}}}, "unknown type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Stream(c.schema, Limits{})
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
	if _, err := s.Stream(syslogSchema(), Limits{MaxCount: -1}); err == nil {
		t.Error("negative limit accepted")
	}
	// The state table survived the injection attempt.
	if err := s.PutState("test/k", "v"); err != nil {
		t.Fatal(err)
	}
}

func TestSchemaEvolution(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.db")
	v1 := Schema{Name: "app", Columns: []Column{{Name: "msg", Type: Text}, {Name: "level", Type: Integer, Indexed: true}}}
	s := openStore(t, path)
	st := openStream(t, s, v1, Limits{})
	mustAppend(t, st, []Event{{Time: 1, Values: []any{"old", int64(1)}}})
	if _, err := s.Stream(Schema{Name: "app", Columns: v1.Columns[:1]}, Limits{}); err == nil {
		t.Error("a different schema for an open stream was accepted")
	}
	if st2, err := s.Stream(v1, Limits{MaxCount: 5}); err != nil || st2.Count() != 1 {
		t.Errorf("second handle: %v", err)
	}
	s.Close()

	v2 := Schema{Name: "app", Columns: []Column{
		{Name: "level", Type: Integer, Indexed: true},
		{Name: "msg", Type: Text},
		{Name: "host", Type: Text, Indexed: true},
		{Name: "pid", Type: Integer},
	}}
	s = openStore(t, path)
	st = openStream(t, s, v2, Limits{})
	mustAppend(t, st, []Event{{Time: 2, Values: []any{int64(2), "new", "h", int64(42)}}})
	rows := queryAll(t, st)
	want := [][]any{{int64(1), "old", nil, nil}, {int64(2), "new", "h", int64(42)}}
	if len(rows) != 2 || !slices.Equal(rows[0].Values, want[0]) || !slices.Equal(rows[1].Values, want[1]) {
		t.Fatalf("rows = %+v", rows)
	}
	if got := eids(queryAll(t, st, Cond{"host", Eq, "h"})); len(got) != 1 {
		t.Errorf("host query = %v", got)
	}
	s.Close()

	// A column no longer indexed loses its index; the others stay.
	v2b := Schema{Name: "app", Columns: []Column{
		{Name: "level", Type: Integer},
		{Name: "msg", Type: Text},
		{Name: "host", Type: Text, Indexed: true},
		{Name: "pid", Type: Integer},
	}}
	s = openStore(t, path)
	if _, err := s.Stream(v2b, Limits{}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	var idx []string
	rows2, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events_app' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows2.Next() {
		var n string
		rows2.Scan(&n)
		idx = append(idx, n)
	}
	rows2.Close()
	db.Close()
	if want := []string{"events_app:host", "events_app:time"}; !slices.Equal(idx, want) {
		t.Errorf("indexes %v, want %v", idx, want)
	}

	// Changing a column's type is refused.
	v3 := Schema{Name: "app", Columns: []Column{{Name: "level", Type: Text}}}
	s = openStore(t, path)
	if _, err := s.Stream(v3, Limits{}); err == nil || !strings.Contains(err.Error(), "stored as INTEGER") {
		t.Fatalf("err = %v", err)
	}
}

func TestErrClosed(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "e.db"))
	st := openStream(t, s, syslogSchema(), Limits{})
	mustAppend(t, st, []Event{syslogEvent(0, 1)})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ops := map[string]func() error{
		"Stream":       func() error { _, err := s.Stream(syslogSchema(), Limits{}); return err },
		"PutState":     func() error { return s.PutState("test/k", "v") },
		"States":       func() error { _, err := s.States(""); return err },
		"Append":       func() error { _, err := st.Append([]Event{syslogEvent(1, 1)}); return err },
		"Append empty": func() error { _, err := st.Append(nil); return err },
		"AppendState":  func() error { _, err := st.AppendState(nil, map[string]string{"test/k": "v"}); return err },
		"Expire":       func() error { _, err := st.Expire(time.Now()); return err },
		"Query":        func() error { return st.Query(t.Context(), nil, func(Row) error { return nil }) },
	}
	for name, op := range ops {
		if err := op(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if c := st.Count(); c != 1 {
		t.Errorf("Count after Close = %d, want the last known 1", c)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(""); err == nil {
		t.Error("empty path accepted")
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(file, "e.db")); err == nil {
		t.Error("path under a regular file accepted")
	}
	if err := os.WriteFile(filepath.Join(dir, "junk.db"), []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(dir, "junk.db")); err == nil {
		t.Error("a file that is not a database was accepted")
	}
	// Characters that mean something in a URI.
	s := openStore(t, filepath.Join(dir, "we?ird#na%20me", "e.db"))
	st := openStream(t, s, syslogSchema(), Limits{})
	mustAppend(t, st, []Event{syslogEvent(0, 1)})
	if _, err := os.Stat(filepath.Join(dir, "we?ird#na%20me", "e.db")); err != nil {
		t.Error(err)
	}
	info, err := os.Stat(filepath.Join(dir, "we?ird#na%20me"))
	if err != nil || info.Mode().Perm() != 0o750 {
		t.Errorf("directory: %v, %v", info.Mode(), err)
	}
}

func TestReaderCount(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.db")
	w := openStream(t, openStore(t, path), syslogSchema(), Limits{})
	r := openStream(t, openStore(t, path), syslogSchema(), Limits{})
	if c := r.Count(); c != 0 {
		t.Fatalf("reader Count = %d", c)
	}
	mustAppend(t, w, []Event{syslogEvent(0, 1), syslogEvent(1, 1)})
	if c := r.Count(); c != 2 {
		t.Errorf("reader Count = %d, want 2", c)
	}
	if c := r.Count(); c != 2 { // unchanged database: no recount
		t.Errorf("reader Count = %d, want 2", c)
	}
	if _, err := w.Expire(time.Now()); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, w, []Event{syslogEvent(2, 1)})
	if c := r.Count(); c != 3 {
		t.Errorf("reader Count = %d, want 3", c)
	}
	// A writer that has not appended yet counts too.
	w2 := openStream(t, openStore(t, filepath.Join(t.TempDir(), "w2.db")), syslogSchema(), Limits{})
	if c := w2.Count(); c != 0 {
		t.Errorf("fresh Count = %d", c)
	}
	mustAppend(t, w2, []Event{syslogEvent(0, 1)})
	if c := w2.Count(); c != 1 {
		t.Errorf("Count = %d, want 1", c)
	}
}
