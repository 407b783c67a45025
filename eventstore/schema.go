package eventstore

import (
	"fmt"
	"slices"
	"strings"
)

// maxIdentLen bounds stream and column names.
const maxIdentLen = 64

// reservedColumns are the implicit columns and SQLite's rowid aliases, which
// a schema column may not shadow.
var reservedColumns = []string{"eid", "time", "rowid", "oid", "_rowid_"}

// checkIdent accepts ASCII letters, digits and underscores only: names are
// spliced into SQL (always double-quoted as well).
func checkIdent(kind, name string) error {
	if name == "" {
		return fmt.Errorf("eventstore: empty %s name", kind)
	}
	if len(name) > maxIdentLen {
		return fmt.Errorf("eventstore: %s name %.20q... is longer than %d characters", kind, name, maxIdentLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			continue
		}
		return fmt.Errorf("eventstore: invalid %s name %q: only ASCII letters, digits and underscore are allowed", kind, name)
	}
	return nil
}

func validateSchema(sc Schema) error {
	if err := checkIdent("stream", sc.Name); err != nil {
		return err
	}
	seen := make(map[string]bool, len(sc.Columns))
	for _, c := range sc.Columns {
		if err := checkIdent("column", c.Name); err != nil {
			return fmt.Errorf("%w (stream %s)", err, sc.Name)
		}
		low := strings.ToLower(c.Name)
		if slices.Contains(reservedColumns, low) {
			return fmt.Errorf("eventstore: stream %s: column name %q is reserved", sc.Name, c.Name)
		}
		if seen[low] {
			return fmt.Errorf("eventstore: stream %s: duplicate column %q", sc.Name, c.Name)
		}
		seen[low] = true
		if c.Type != Text && c.Type != Integer {
			return fmt.Errorf("eventstore: stream %s: column %s has unknown type %d", sc.Name, c.Name, c.Type)
		}
	}
	return nil
}

func sameSchema(a, b Schema) bool {
	return a.Name == b.Name && slices.Equal(a.Columns, b.Columns)
}

func (t ColumnType) sqlType() string {
	if t == Integer {
		return "INTEGER"
	}
	return "TEXT"
}

// quote double-quotes a validated identifier.
func quote(name string) string { return `"` + name + `"` }

func tableName(stream string) string { return "events_" + stream }

// indexName is the index of column col of stream. ':' cannot occur in a
// validated identifier, so names of different streams never collide.
func indexName(stream, col string) string { return "events_" + stream + ":" + col }

// ddl returns the statements that bring the stream's table up to schema,
// given the columns (lower-case name -> declared type) and index names it
// has now. A nil cols means the table does not exist.
func ddl(sc Schema, cols map[string]string, indexes map[string]bool) ([]string, error) {
	tbl := quote(tableName(sc.Name))
	var out []string
	if cols == nil {
		var b strings.Builder
		b.WriteString("CREATE TABLE IF NOT EXISTS " + tbl + " (eid INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL")
		for _, c := range sc.Columns {
			b.WriteString(", " + quote(c.Name) + " " + c.Type.sqlType())
		}
		b.WriteString(")")
		out = append(out, b.String())
	} else {
		for _, need := range []string{"eid", "time"} {
			if _, ok := cols[need]; !ok {
				return nil, fmt.Errorf("eventstore: table %s exists without column %s; it was not created by eventstore", tableName(sc.Name), need)
			}
		}
		for _, c := range sc.Columns {
			typ, ok := cols[strings.ToLower(c.Name)]
			if !ok {
				out = append(out, "ALTER TABLE "+tbl+" ADD COLUMN "+quote(c.Name)+" "+c.Type.sqlType())
				continue
			}
			if !strings.EqualFold(typ, c.Type.sqlType()) {
				return nil, fmt.Errorf("eventstore: stream %s: column %s is stored as %s, the schema says %s", sc.Name, c.Name, typ, c.Type.sqlType())
			}
		}
	}
	idx := func(col, expr string) {
		name := indexName(sc.Name, col)
		if !indexes[name] {
			out = append(out, "CREATE INDEX IF NOT EXISTS "+quote(name)+" ON "+tbl+"("+expr+")")
		}
	}
	idx("time", "time")
	for _, c := range sc.Columns {
		if c.Indexed {
			idx(c.Name, quote(c.Name))
		} else if name := indexName(sc.Name, c.Name); indexes[name] {
			// The single-column index an earlier schema asked for on a
			// column no longer Indexed: it would still cost every append.
			out = append(out, "DROP INDEX IF EXISTS "+quote(name))
		}
	}
	return out, nil
}
