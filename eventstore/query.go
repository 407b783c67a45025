package eventstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

var opSQL = [...]string{Eq: " = ?", Gt: " > ?", Ge: " >= ?", Lt: " < ?", Le: " <= ?"}

// lowerBoundLikelihood is the selectivity declared for a lower bound on an
// indexed column.
const lowerBoundLikelihood = "0.01"

// ctxCheckEvery is how many rows Query reads between two looks at ctx (the
// driver also interrupts the statement when ctx is cancelled).
const ctxCheckEvery = 64

// Query calls fn for every row matching all conds (AND), in eid order.
// Conditions on eid, time and Indexed columns use indexes.
//
// It reads the last committed state through the read pool, so it neither
// waits for nor delays Append. It stops and returns ctx.Err() when ctx is
// cancelled, and returns fn's error as is when fn fails. An unknown column, an
// unknown Op or a Value of the wrong type is an error.
func (st *Stream) Query(ctx context.Context, conds []Cond, fn func(Row) error) error {
	t := st.t
	if t.s.closed.Load() {
		return ErrClosed
	}
	q, args, err := t.buildQuery(conds)
	if err != nil {
		return err
	}
	rows, err := t.s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return t.readErr(err)
	}
	defer rows.Close()

	ncol := len(t.types)
	var eid, tm int64
	dest := make([]any, 2+ncol)
	for n := 1; rows.Next(); n++ {
		vals := make([]any, ncol)
		dest[0], dest[1] = &eid, &tm
		for i := range vals {
			dest[2+i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return t.readErr(err)
		}
		for i, v := range vals {
			vals[i] = normalize(v, t.types[i])
		}
		if err := fn(Row{EID: eid, Time: tm, Values: vals}); err != nil {
			return err
		}
		if n%ctxCheckEvery == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := rows.Err(); err != nil {
		return t.readErr(err)
	}
	return nil
}

func (t *table) readErr(err error) error {
	if t.s.closed.Load() {
		return ErrClosed
	}
	return t.errorf("query: %w", err)
}

// buildQuery turns conds into SQL with bound parameters; column names come
// from the schema, never from the caller.
//
// Without statistics (no ANALYZE: it would cost a full pass over every index)
// SQLite guesses that an equality on an index matches ~10 rows and that a
// one-sided range keeps a quarter of the table. On an event buffer both
// guesses are poor: host or severity equalities often match most rows, and a
// lower bound on time is nearly always a recent window ("time > now-300").
// So the SQL steers the plan:
//   - a lower bound on time or an indexed column is declared selective
//     (likelihood), so it is searched through its index instead of scanning
//     in eid order to save the sort;
//   - when there is a window on time or eid (a lower bound or an equality),
//     the other indexed columns are compared as +col, which keeps their
//     indexes out of the plan: the window bounds the work.
func (t *table) buildQuery(conds []Cond) (string, []any, error) {
	windowed := false
	for _, c := range conds {
		if (c.Column == "time" || c.Column == "eid") && (c.Op == Eq || c.Op == Gt || c.Op == Ge) {
			windowed = true
		}
	}
	var b strings.Builder
	b.Grow(len(t.selectSQL) + 16 + 40*len(conds))
	b.WriteString(t.selectSQL)
	args := make([]any, 0, len(conds))
	for i, c := range conds {
		var col string
		var typ ColumnType
		hint := false
		switch c.Column {
		case "eid":
			col, typ = c.Column, Integer
		case "time":
			col, typ = c.Column, Integer
			hint = c.Op == Gt || c.Op == Ge
		default:
			idx, ok := t.colIdx[c.Column]
			if !ok {
				return "", nil, t.errorf("query: unknown column %q", c.Column)
			}
			col, typ = quote(c.Column), t.types[idx]
			if t.schema.Columns[idx].Indexed {
				if windowed {
					col = "+" + col
				} else {
					hint = c.Op == Gt || c.Op == Ge
				}
			}
		}
		if c.Op < 0 || int(c.Op) >= len(opSQL) {
			return "", nil, t.errorf("query: column %s: unknown operator %d", c.Column, c.Op)
		}
		v, ok := condValue(c.Value, typ)
		if !ok {
			want := "a string"
			if typ == Integer {
				want = "an int64"
			}
			return "", nil, t.errorf("query: column %s: value %v (%T) is not %s", c.Column, c.Value, c.Value, want)
		}
		if i == 0 {
			b.WriteString(" WHERE ")
		} else {
			b.WriteString(" AND ")
		}
		if hint {
			b.WriteString("likelihood(")
		}
		b.WriteString(col)
		b.WriteString(opSQL[c.Op])
		if hint {
			b.WriteString(", " + lowerBoundLikelihood + ")")
		}
		args = append(args, v)
	}
	b.WriteString(" ORDER BY eid")
	return b.String(), args, nil
}

// condValue checks a condition value against the column type; other Go
// integer types are accepted for integer columns.
func condValue(v any, typ ColumnType) (any, bool) {
	if typ == Text {
		s, ok := v.(string)
		return s, ok
	}
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	}
	return nil, false
}

// normalize makes a stored value the Go type of its column. Values written by
// this package already are; this only matters for rows someone else wrote.
func normalize(v any, typ ColumnType) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if typ == Text {
			return x
		}
		if n, err := strconv.ParseInt(x, 10, 64); err == nil {
			return n
		}
		return nil
	case int64:
		if typ == Integer {
			return x
		}
		return strconv.FormatInt(x, 10)
	case float64:
		if typ == Integer {
			return int64(x)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []byte:
		return normalize(string(x), typ)
	case bool:
		if x {
			return normalize(int64(1), typ)
		}
		return normalize(int64(0), typ)
	}
	return fmt.Sprint(v)
}
