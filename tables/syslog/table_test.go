//go:build unix

package syslog

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	osquery "github.com/osquery/osquery-go/gen/osquery"
	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

func TestColumns(t *testing.T) {
	cols := Columns()
	var names []string
	for _, c := range cols {
		names = append(names, c.Name)
		want := uint8(0)
		if c.Name == "eid" {
			want = 4 | 16 // ADDITIONAL|HIDDEN: a hidden-only column gets no constraints
		}
		if got := c.Options(); got != want {
			t.Errorf("column %s options %d, want %d", c.Name, got, want)
		}
		if c.Description == "" {
			t.Errorf("column %s has no description", c.Name)
		}
	}
	want := []string{"time", "datetime", "host", "severity", "facility", "tag", "message", "event_time", "truncated", "eid"}
	if !slices.Equal(names, want) {
		t.Errorf("columns %v, want %v", names, want)
	}
	// Every column is served: eid and time by the store, the rest by the schema.
	schema := map[string]bool{"eid": true, "time": true}
	for _, c := range Schema().Columns {
		schema[c.Name] = true
	}
	for _, c := range cols {
		if !schema[c.Name] {
			t.Errorf("column %s is not in the stream", c.Name)
		}
	}
	for col := range Pushdown() {
		if !slices.Contains(names, col) {
			t.Errorf("pushdown on unknown column %s", col)
		}
	}
}

// fillTable appends four known events and returns their eids.
func fillTable(t *testing.T, st *eventstore.Stream) []int64 {
	t.Helper()
	ev := func(tm int64, host string, sev any, fac, tag, msg string, et, trunc int64) eventstore.Event {
		return eventstore.Event{Time: tm, Values: []any{"2016-03-22T21:17:01+00:00", host, sev, fac, tag, msg, et, trunc}}
	}
	if _, err := st.Append([]eventstore.Event{
		ev(100, "web1", int64(3), "cron", "CRON[1]", "one", 1000, 0),
		ev(200, "web2", int64(6), "auth", "sshd[2]", "two", 2000, 0),
		ev(300, "web1", nil, "cron", "CRON[3]", "three", 3000, 1),
		ev(400, "web3", int64(3), "kern", "kernel", "four", 4000, 0),
	}); err != nil {
		t.Fatal(err)
	}
	var eids []int64
	for _, r := range allRows(t, st) {
		eids = append(eids, r.EID)
	}
	return eids
}

func cons(col string, aff table.ColumnType, cs ...table.Constraint) map[string]table.ConstraintList {
	return map[string]table.ConstraintList{col: {Affinity: aff, Constraints: cs}}
}

func TestTableGenerate(t *testing.T) {
	st := newStream(t)
	eids := fillTable(t, st)
	gen := Table(st).Generate
	c := func(op table.Operator, expr string) table.Constraint {
		return table.Constraint{Operator: op, Expression: expr}
	}
	tests := []struct {
		name string
		qc   map[string]table.ConstraintList
		want []string // messages
	}{
		{"no constraint", nil, []string{"one", "two", "three", "four"}},
		{"time >", cons("time", table.ColumnTypeBigInt, c(table.OperatorGreaterThan, "150")), []string{"two", "three", "four"}},
		{"time range", cons("time", table.ColumnTypeBigInt, c(table.OperatorGreaterThanOrEquals, "200"), c(table.OperatorLessThan, "400")), []string{"two", "three"}},
		{"time =", cons("time", table.ColumnTypeBigInt, c(table.OperatorEquals, "300")), []string{"three"}},
		{"eid =", cons("eid", table.ColumnTypeBigInt, c(table.OperatorEquals, fmt.Sprint(eids[1]))), []string{"two"}},
		{"eid >", cons("eid", table.ColumnTypeBigInt, c(table.OperatorGreaterThan, fmt.Sprint(eids[1]))), []string{"three", "four"}},
		{"eid <=", cons("eid", table.ColumnTypeBigInt, c(table.OperatorLessThanOrEquals, fmt.Sprint(eids[0]))), []string{"one"}},
		{"event_time range", cons("event_time", table.ColumnTypeBigInt, c(table.OperatorGreaterThan, "1000"), c(table.OperatorLessThanOrEquals, "3000")), []string{"two", "three"}},
		{"severity =", cons("severity", table.ColumnTypeInteger, c(table.OperatorEquals, "3")), []string{"one", "four"}},
		{"tag =", cons("tag", table.ColumnTypeText, c(table.OperatorEquals, "sshd[2]")), []string{"two"}},
		{"host =", cons("host", table.ColumnTypeText, c(table.OperatorEquals, "web1")), []string{"one", "three"}},
		{"facility =", cons("facility", table.ColumnTypeText, c(table.OperatorEquals, "kern")), []string{"four"}},
		{"two columns", map[string]table.ConstraintList{
			"facility": {Affinity: table.ColumnTypeText, Constraints: []table.Constraint{c(table.OperatorEquals, "cron")}},
			"time":     {Affinity: table.ColumnTypeBigInt, Constraints: []table.Constraint{c(table.OperatorGreaterThan, "100")}},
		}, []string{"three"}},
		// Not pushed down: osquery's SQLite filters these rows afterwards.
		{"severity > is left to SQLite", cons("severity", table.ColumnTypeInteger, c(table.OperatorGreaterThan, "3")), []string{"one", "two", "three", "four"}},
		{"tag LIKE is left to SQLite", cons("tag", table.ColumnTypeText, c(table.OperatorLike, "CRON%")), []string{"one", "two", "three", "four"}},
		{"non-integer time is left to SQLite", cons("time", table.ColumnTypeBigInt, c(table.OperatorGreaterThan, "1.5")), []string{"one", "two", "three", "four"}},
		{"message = is left to SQLite", cons("message", table.ColumnTypeText, c(table.OperatorEquals, "one")), []string{"one", "two", "three", "four"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := gen(t.Context(), table.QueryContext{Constraints: tt.qc})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rows {
				got = append(got, r["message"])
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("messages %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("row", func(t *testing.T) {
		rows, err := gen(t.Context(), table.QueryContext{Constraints: cons("time", table.ColumnTypeBigInt, c(table.OperatorEquals, "300"))})
		if err != nil || len(rows) != 1 {
			t.Fatalf("rows %v, %v", rows, err)
		}
		want := map[string]string{
			"time": "300", "datetime": "2016-03-22T21:17:01+00:00", "host": "web1", "severity": "",
			"facility": "cron", "tag": "CRON[3]", "message": "three", "event_time": "3000", "truncated": "1",
			"eid": fmt.Sprint(eids[2]), "rowid": fmt.Sprint(eids[2]),
		}
		if !maps.Equal(rows[0], want) {
			t.Errorf("row %v\nwant %v", rows[0], want)
		}
	})
}

// TestTablePluginCall goes through osquery-go's plugin with the JSON
// context osqueryd sends.
func TestTablePluginCall(t *testing.T) {
	st := newStream(t)
	eids := fillTable(t, st)
	p := tablekit.Plugin(tablekit.Wrap(Table(st), tablekit.Options{Logger: quietLog()}))
	ctxJSON, _ := json.Marshal(map[string]any{"constraints": []any{
		map[string]any{"name": "eid", "affinity": "BIGINT", "list": []any{map[string]any{"op": 32, "expr": fmt.Sprint(eids[1])}}},
		map[string]any{"name": "severity", "affinity": "INTEGER", "list": []any{map[string]any{"op": 2, "expr": "3"}}},
	}})
	resp := p.Call(t.Context(), osquery.ExtensionPluginRequest{"action": "generate", "context": string(ctxJSON)})
	if resp.Status.Code != 0 {
		t.Fatal(resp.Status.Message)
	}
	if len(resp.Response) != 1 || resp.Response[0]["message"] != "four" {
		t.Errorf("rows %v, want the row four", resp.Response)
	}
	routes := p.Call(t.Context(), osquery.ExtensionPluginRequest{"action": "columns"})
	var ops []string
	for _, r := range routes.Response {
		ops = append(ops, r["name"]+"="+r["op"])
	}
	if got := strings.Join(ops, " "); !strings.Contains(got, "eid=20") || !strings.Contains(got, "time=0") {
		t.Errorf("column routes %s", got)
	}
}
