package statstable

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/stats"
)

func TestRowKeysAreDeclaredColumns(t *testing.T) {
	reg := stats.NewRegistry()
	src := reg.Source("syslog")
	src.ParseErrors.Add(3)
	src.SetError(errors.New("bad line"))
	rows, err := Table(reg, nil).Generate(t.Context(), table.QueryContext{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("rows = %v", rows)
	}
	declared := map[string]bool{}
	for _, c := range Columns() {
		declared[c.Name] = true
	}
	for k := range rows[0] {
		if !declared[k] {
			t.Errorf("row key %q is not a declared column", k)
		}
	}
	if len(rows[0]) != len(declared) {
		t.Errorf("row has %d keys, %d columns declared", len(rows[0]), len(declared))
	}
	if rows[0]["parse_errors"] != "3" || rows[0]["last_error"] != "bad line" || rows[0]["last_error_time"] == "" || rows[0]["live"] != "1" {
		t.Errorf("row = %v", rows[0])
	}
}

func TestPersistedSnapshotsShownToOtherProcesses(t *testing.T) {
	store, err := eventstore.Open(filepath.Join(t.TempDir(), "e.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	writer := stats.NewRegistry()
	writer.Source("syslog").LinesRead.Add(42)
	if err := Persist(writer, store); err != nil {
		t.Fatal(err)
	}
	// A reader process has no live sources of its own.
	rows, err := Table(stats.NewRegistry(), store).Generate(t.Context(), table.QueryContext{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0]["source"] != "syslog" || rows[0]["lines_read"] != "42" || rows[0]["live"] != "0" {
		t.Fatalf("rows = %v", rows)
	}
}
