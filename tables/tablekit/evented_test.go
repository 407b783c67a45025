package tablekit

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
)

// TestStreamGenerateRowID: every row carries its eid as the rowid.
func TestStreamGenerateRowID(t *testing.T) {
	st := benchStream(t, 3)
	cols := []table.ColumnDefinition{table.TextColumn("msg")} // no eid column
	rows, err := StreamGenerate(st, cols, nil)(t.Context(), table.QueryContext{})
	if err != nil || len(rows) != 3 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	for i, r := range rows {
		if want := fmt.Sprint(i + 1); r[RowIDKey] != want {
			t.Errorf("row %d: rowid %q, want %s", i, r[RowIDKey], want)
		}
	}
}

func benchStream(tb testing.TB, n int) *eventstore.Stream {
	store, err := eventstore.Open(filepath.Join(tb.TempDir(), "ev.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	st, err := store.Stream(eventstore.Schema{Name: "s", Columns: []eventstore.Column{{Name: "msg", Type: eventstore.Text}}}, eventstore.Limits{})
	if err != nil {
		tb.Fatal(err)
	}
	ev := make([]eventstore.Event, n)
	for i := range ev {
		ev[i] = eventstore.Event{Time: int64(i), Values: []any{fmt.Sprintf("message number %d", i)}}
	}
	if _, err := st.Append(ev); err != nil {
		tb.Fatal(err)
	}
	return st
}

// BenchmarkStreamGenerate reads 10,000 rows of three columns.
func BenchmarkStreamGenerate(b *testing.B) {
	st := benchStream(b, 10000)
	cols := []table.ColumnDefinition{table.BigIntColumn("time"), table.TextColumn("msg"), table.BigIntColumn("eid", table.HiddenColumn())}
	gen := StreamGenerate(st, cols, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := gen(b.Context(), table.QueryContext{}); err != nil {
			b.Fatal(err)
		}
	}
}
