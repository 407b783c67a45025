//go:build sqlite_vtable

package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/tables/syslog"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// orQueries but the IN list are answered by SQLite's multi-index OR plan:
// one xFilter per branch, the union de-duplicated by rowid.
var orQueries = []struct {
	name  string
	where string
	want  [][]string // host, message; sorted
}{
	{"one row per branch", "(host = 'a' AND message LIKE 'm%') OR (host = 'b' AND message LIKE 'm%')",
		[][]string{{"a", "m1"}, {"b", "m2"}}},
	{"three branches", "(host = 'a' AND message LIKE 'm%') OR (host = 'b' AND message LIKE 'm%') OR (host = 'c' AND message LIKE 'm%')",
		[][]string{{"a", "m1"}, {"b", "m2"}, {"c", "m3"}, {"c", "m3"}}},
	{"a row in two branches comes once", "(host = 'a' AND message LIKE 'm%') OR (message = 'm1' AND host LIKE 'a%')",
		[][]string{{"a", "m1"}}},
	{"IN list", "host IN ('a', 'b') AND message LIKE 'm%'",
		[][]string{{"a", "m1"}, {"b", "m2"}}},
}

// hostRows are the rows both OR tests serve: host c has the same message
// twice.
var hostRows = [][2]string{{"a", "m1"}, {"b", "m2"}, {"c", "m3"}, {"c", "m3"}}

func checkOR(t *testing.T, e *Engine, tableName string) {
	t.Helper()
	for _, tt := range orQueries {
		t.Run(tt.name, func(t *testing.T) {
			sql := "SELECT host, message FROM " + tableName + " WHERE " + tt.where
			plan := texts(mustQuery(t, e, "EXPLAIN QUERY PLAN "+sql))
			if multiOR := strings.Contains(fmt.Sprint(plan), "MULTI-INDEX OR"); multiOR != !strings.Contains(tt.where, " IN ") {
				t.Errorf("%s: unexpected plan %v", sql, plan)
			}
			got := texts(mustQuery(t, e, sql))
			slices.SortFunc(got, slices.Compare)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s:\ngot  %v\nwant %v\nplan %v", sql, got, tt.want, plan)
			}
		})
	}
}

// TestORBranchesKeepRowsEvented: syslog_messages over a real event store,
// whose generate narrows its read to the host each branch asks for.
func TestORBranchesKeepRowsEvented(t *testing.T) {
	store, err := eventstore.Open(filepath.Join(t.TempDir(), "ev.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	st, err := store.Stream(syslog.Schema(), eventstore.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var evs []eventstore.Event
	for _, r := range hostRows {
		v := make([]any, len(syslog.Schema().Columns))
		for i, c := range syslog.Schema().Columns {
			switch c.Name {
			case "host":
				v[i] = r[0]
			case "message":
				v[i] = r[1]
			}
		}
		evs = append(evs, eventstore.Event{Time: 1, Values: v})
	}
	if _, err := st.Append(evs); err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, syslog.Table(st))
	checkOR(t, e, syslog.TableName)
	// The rowid is the event id.
	got := texts(mustQuery(t, e, "SELECT rowid = eid FROM "+syslog.TableName+" WHERE host = 'b'"))
	if !reflect.DeepEqual(got, [][]string{{"1"}}) {
		t.Errorf("rowid = eid: %v", got)
	}
}

// TestORBranchesKeepRowsPlain: a table without an id column whose generate
// honours equality constraints on host, as asl_messages does.
func TestORBranchesKeepRowsPlain(t *testing.T) {
	gen := func(ctx context.Context, qc table.QueryContext) ([]map[string]string, error) {
		var hosts []string
		for _, c := range qc.Constraints["host"].Constraints {
			if c.Operator == table.OperatorEquals {
				hosts = append(hosts, c.Expression)
			}
		}
		var rows []map[string]string
		for _, r := range hostRows {
			if len(hosts) == 0 || slices.Contains(hosts, r[0]) {
				rows = append(rows, map[string]string{"host": r[0], "message": r[1]})
			}
		}
		return rows, nil
	}
	e := newEngine(t, tablekit.Wrap(tablekit.Table{
		Name:     "plain",
		Columns:  []table.ColumnDefinition{table.TextColumn("host"), table.TextColumn("message")},
		Generate: gen,
	}, tablekit.Options{}))
	checkOR(t, e, "plain")
}

// BenchmarkORQuery: 10,000 rows through a multi-index OR plan, which reads
// every row's rowid, against the same rows through an IN list, which reads
// none.
func BenchmarkORQuery(b *testing.B) {
	rows := make([]map[string]string, 10000)
	for i := range rows {
		rows[i] = map[string]string{"host": string(rune('a' + i%2)), "message": fmt.Sprintf("m%d", i), "pid": fmt.Sprint(i)}
	}
	gen := func(ctx context.Context, qc table.QueryContext) ([]map[string]string, error) {
		var out []map[string]string
		for _, c := range qc.Constraints["host"].Constraints {
			for _, r := range rows {
				if r["host"] == c.Expression {
					out = append(out, r)
				}
			}
		}
		return out, nil
	}
	e := newEngine(b, tablekit.Table{
		Name:     "plain",
		Columns:  []table.ColumnDefinition{table.TextColumn("host"), table.TextColumn("message"), table.IntegerColumn("pid")},
		Generate: gen,
	})
	for _, q := range []struct{ name, where string }{
		{"OR", "(host = 'a' AND message LIKE 'm%') OR (host = 'b' AND message LIKE 'm%')"},
		{"IN", "host IN ('a', 'b') AND message LIKE 'm%'"},
	} {
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r, err := e.Query(b.Context(), "SELECT host, message FROM plain WHERE "+q.where)
				if err != nil || len(r.Rows) != len(rows) {
					b.Fatalf("%v rows, %v", r, err)
				}
			}
		})
	}
}

func TestRowID(t *testing.T) {
	cols := []column{{name: "a"}, {name: "b"}}
	hash := func(row map[string]string) int64 {
		t.Helper()
		id, err := rowID(cols, row)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	tests := []struct {
		name     string
		x, y     map[string]string
		sameHash bool
	}{
		{"equal values", map[string]string{"a": "1", "b": "2"}, map[string]string{"a": "1", "b": "2"}, true},
		{"keys that are not columns are ignored", map[string]string{"a": "1", "b": "2", "z": "3"}, map[string]string{"a": "1", "b": "2"}, true},
		{"a missing key is an empty value", map[string]string{"a": "1"}, map[string]string{"a": "1", "b": ""}, true},
		{"different values", map[string]string{"a": "1", "b": "2"}, map[string]string{"a": "1", "b": "3"}, false},
		{"values are delimited", map[string]string{"a": "ab", "b": "c"}, map[string]string{"a": "a", "b": "bc"}, false},
		{"column order counts", map[string]string{"a": "1", "b": "2"}, map[string]string{"a": "2", "b": "1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if same := hash(tt.x) == hash(tt.y); same != tt.sameHash {
				t.Errorf("same rowid %v, want %v", same, tt.sameHash)
			}
		})
	}
	for s, want := range map[string]int64{"42": 42, "-7": -7, "9223372036854775807": 1<<63 - 1} {
		if got := hash(map[string]string{"a": "x", tablekit.RowIDKey: s}); got != want {
			t.Errorf("rowid %q: %d", s, got)
		}
	}
	for _, s := range []string{"", "x", "1.5", "9223372036854775808"} {
		if _, err := rowID(cols, map[string]string{tablekit.RowIDKey: s}); err == nil {
			t.Errorf("rowid %q: no error", s)
		}
	}
}

// TestSelectRowid: a row's "rowid" value is its rowid; an invalid one fails
// the statement that reads it (as under osqueryd) and no other.
func TestSelectRowid(t *testing.T) {
	rec := &recorder{rows: []map[string]string{{"name": "a", "rowid": "7"}, {"name": "b", "rowid": "x"}}}
	e := newEngine(t, tablekit.Table{Name: "t", Columns: []table.ColumnDefinition{table.TextColumn("name")}, Generate: rec.generate})
	if got := texts(mustQuery(t, e, "SELECT name FROM t")); !reflect.DeepEqual(got, [][]string{{"a"}, {"b"}}) {
		t.Errorf("names: %v", got)
	}
	if _, err := e.Query(t.Context(), "SELECT rowid FROM t"); err == nil || !strings.Contains(err.Error(), `invalid rowid "x"`) {
		t.Errorf("invalid rowid: %v", err)
	}
	rec.rows = rec.rows[:1]
	if got := texts(mustQuery(t, e, "SELECT rowid, name FROM t")); !reflect.DeepEqual(got, [][]string{{"7", "a"}}) {
		t.Errorf("rowid: %v", got)
	}
}
