package osquerytest

import (
	"context"
	"fmt"
	"strconv"
)

// Filter re-checks constraints on rows the way SQLite does after a
// generate call: the constraints osqueryd sends are only a hint, an
// extension may return a superset. Numeric columns compare as numbers
// (a value that does not parse is NULL and matches nothing), TEXT columns
// byte-wise. Supported operators: =, !=, <, <=, >, >=; others are an error.
func Filter(rows []map[string]string, cols []Column, cons ...Constraint) ([]map[string]string, error) {
	types := map[string]string{}
	for _, c := range cols {
		types[c.Name] = c.Type
	}
	for _, c := range cons {
		if _, ok := types[c.Column]; !ok {
			return nil, fmt.Errorf("no such column: %s", c.Column)
		}
		switch c.Op {
		case OpEquals, OpNotEquals, OpLessThan, OpLessThanOrEquals, OpGreaterThan, OpGreaterThanOrEquals:
		default:
			return nil, fmt.Errorf("Filter: operator %d not supported", c.Op)
		}
	}
	var out []map[string]string
	for _, r := range rows {
		keep := true
		for _, c := range cons {
			cmp, ok := compare(types[c.Column], r[c.Column], c.Expr)
			if !ok || !opHolds(c.Op, cmp) {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, r)
		}
	}
	return out, nil
}

// Select is Generate followed by Filter: the rows SQLite would return for
// SELECT * FROM table WHERE <cons> (numeric values stay raw strings).
func (m *Manager) Select(ctx context.Context, table string, cons ...Constraint) ([]map[string]string, error) {
	rows, err := m.Generate(ctx, table, cons...)
	if err != nil {
		return nil, err
	}
	cols, err := m.Columns(table)
	if err != nil {
		return nil, err
	}
	return Filter(rows, cols, cons...)
}

func compare(typ, v, expr string) (int, bool) {
	switch typ {
	case "TEXT", "BLOB", "":
		switch {
		case v < expr:
			return -1, true
		case v > expr:
			return 1, true
		}
		return 0, true
	}
	a, err1 := strconv.ParseFloat(v, 64)
	b, err2 := strconv.ParseFloat(expr, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	switch {
	case a < b:
		return -1, true
	case a > b:
		return 1, true
	}
	return 0, true
}

func opHolds(op, cmp int) bool {
	switch op {
	case OpEquals:
		return cmp == 0
	case OpNotEquals:
		return cmp != 0
	case OpLessThan:
		return cmp < 0
	case OpLessThanOrEquals:
		return cmp <= 0
	case OpGreaterThan:
		return cmp > 0
	case OpGreaterThanOrEquals:
		return cmp >= 0
	}
	return false
}
