package tablekit

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
)

// TestCursorSeesEachEventOnce: a reader with a cursor gets only the events
// appended since its previous run, however it filters; one without sees all.
func TestCursorSeesEachEventOnce(t *testing.T) {
	store, err := eventstore.Open(filepath.Join(t.TempDir(), "ev.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	st, err := store.Stream(eventstore.Schema{Name: "s", Columns: []eventstore.Column{{Name: "msg", Type: eventstore.Text}}}, eventstore.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	cols := []table.ColumnDefinition{table.TextColumn("msg"), table.BigIntColumn("eid", table.HiddenColumn())}
	gen := StreamGenerate(st, cols, map[string]Pushdown{"eid": Range})
	add := func(msgs ...string) {
		var ev []eventstore.Event
		for _, m := range msgs {
			ev = append(ev, eventstore.Event{Time: 1, Values: []any{m}})
		}
		if _, err := st.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	run := func(pos map[string]int64) ([]string, map[string]int64, bool) {
		c := NewCursor(pos)
		rows, err := gen(WithCursor(t.Context(), c), table.QueryContext{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			got = append(got, r["msg"])
		}
		return got, c.Next(), c.Used()
	}

	add("a", "b")
	got, pos, used := run(nil)
	if !slices.Equal(got, []string{"a", "b"}) || !used || pos["s"] != 2 {
		t.Fatalf("first run: %v %v %v", got, pos, used)
	}
	got, pos, _ = run(pos)
	if len(got) != 0 || pos["s"] != 2 {
		t.Fatalf("nothing new: %v %v", got, pos)
	}
	add("c")
	got, pos, _ = run(pos)
	if !slices.Equal(got, []string{"c"}) || pos["s"] != 3 {
		t.Fatalf("third run: %v %v", got, pos)
	}
	// Without a cursor every buffered row is there.
	rows, err := gen(t.Context(), table.QueryContext{})
	if err != nil || len(rows) != 3 {
		t.Fatalf("no cursor: %d rows, %v", len(rows), err)
	}
	// A query that reads no evented table leaves the cursor unused.
	if NewCursor(pos).Used() {
		t.Fatal("fresh cursor reports use")
	}
}
