//go:build sqlite_vtable

package engine

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/tables/syslog"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// orQueries are answered by SQLite's multi-index OR plan: one xFilter per
// branch, the union de-duplicated by rowid.
var orQueries = []struct {
	name  string
	where string
	want  [][]string // host, message; sorted
}{
	{"one row per branch", "(host = 'a' AND message LIKE 'm%') OR (host = 'b' AND message LIKE 'm%')",
		[][]string{{"a", "m1"}, {"b", "m2"}}},
	{"three branches", "(host = 'a' AND message LIKE 'm%') OR (host = 'b' AND message LIKE 'm%') OR (host = 'c' AND message LIKE 'm%')",
		[][]string{{"a", "m1"}, {"b", "m2"}, {"c", "m3"}, {"c", "m3"}}},
	{"a row in two branches comes once", "(host = 'a' AND message LIKE 'm%') OR (host = 'a' AND message LIKE '%1')",
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
