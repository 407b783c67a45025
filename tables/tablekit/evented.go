package tablekit

import (
	"context"
	"strconv"

	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
)

// RowIDKey is the row key osqueryd (since osquery 3.3) and the engine take
// as a row's SQLite rowid. It is not a column: osqueryd passes rows through
// whole and reads only the declared columns, so the key is invisible to SQL
// except as "rowid".
const RowIDKey = "rowid"

// StreamTable is an evented table: name, described, with cols served from
// st through StreamGenerate with push.
func StreamTable(name, description string, st *eventstore.Stream, cols []table.ColumnDefinition, push map[string]Pushdown) Table {
	return Table{Name: name, Description: description, Columns: cols, Generate: StreamGenerate(st, cols, push)}
}

// StreamGenerate returns a generate function serving the rows of st. The
// table's columns may name "eid", "time" and any schema column; push says
// which constraints become store conditions (see Conds). A Cursor in the
// generate context (WithCursor) limits the rows to its eid window.
//
// Every row carries its eid as RowIDKey. SQLite merges the scans of a
// multi-index OR plan ("WHERE (host='a' AND ...) OR (host='b' AND ...)")
// by rowid; osqueryd's default rowid is the row's position in its scan, so
// without this key the rows of the second branch whose positions the first
// branch already produced are dropped. The eid is unique and stable across
// scans (the store never reuses one).
func StreamGenerate(st *eventstore.Stream, cols []table.ColumnDefinition, push map[string]Pushdown) table.GenerateFunc {
	schema := st.Schema()
	idx := make(map[string]int, len(schema.Columns))
	for i, c := range schema.Columns {
		idx[c.Name] = i
	}
	return func(ctx context.Context, qc table.QueryContext) ([]map[string]string, error) {
		conds := Conds(qc, cols, push)
		cc, err := cursorConds(ctx, st, schema.Name)
		if err != nil {
			return nil, err
		}
		conds = append(conds, cc...)
		var rows []map[string]string
		err = st.Query(ctx, conds, func(r eventstore.Row) error {
			m := make(map[string]string, len(cols)+1)
			eid := strconv.FormatInt(r.EID, 10)
			m[RowIDKey] = eid
			for _, c := range cols {
				switch c.Name {
				case "eid":
					m["eid"] = eid
				case "time":
					m["time"] = strconv.FormatInt(r.Time, 10)
				default:
					if i, ok := idx[c.Name]; ok {
						m[c.Name] = format(r.Values[i])
					}
				}
			}
			rows = append(rows, m)
			return nil
		})
		return rows, err
	}
}

func format(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case nil:
		return ""
	}
	return ""
}
