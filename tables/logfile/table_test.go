package logfile

import (
	"testing"

	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

func TestTableGenerate(t *testing.T) {
	h := newHarness(t, Config{})
	a, b := h.path("a.log"), h.path("b.log")
	appendFile(t, a, "a1\na2\na3\n")
	appendFile(t, b, "b1\n")
	h.step()
	tbl := Table(h.st)
	declared := map[string]bool{}
	for _, c := range tbl.Columns {
		declared[c.Name] = true
	}
	for _, tt := range []struct {
		name string
		cons map[string]table.ConstraintList
		want []string
	}{
		{"all", nil, []string{"a1", "a2", "a3", "b1"}},
		{"path", map[string]table.ConstraintList{"path": {Affinity: table.ColumnTypeText, Constraints: []table.Constraint{{Operator: table.OperatorEquals, Expression: b}}}}, []string{"b1"}},
		{"eid", map[string]table.ConstraintList{"eid": {Affinity: table.ColumnTypeBigInt, Constraints: []table.Constraint{{Operator: table.OperatorGreaterThan, Expression: "2"}}}}, []string{"a3", "b1"}},
		{"time", map[string]table.ConstraintList{"time": {Affinity: table.ColumnTypeBigInt, Constraints: []table.Constraint{{Operator: table.OperatorLessThan, Expression: "1000"}}}}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := tbl.Generate(t.Context(), table.QueryContext{Constraints: tt.cons})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rows {
				got = append(got, r["message"])
				for k := range r {
					if !declared[k] && k != tablekit.RowIDKey {
						t.Errorf("row key %q is not a declared column", k)
					}
				}
				if r[tablekit.RowIDKey] != r["eid"] {
					t.Errorf("rowid %q, want the eid %q", r[tablekit.RowIDKey], r["eid"])
				}
				for _, c := range tbl.Columns {
					if _, ok := r[c.Name]; !ok {
						t.Errorf("row lacks column %s", c.Name)
					}
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}
