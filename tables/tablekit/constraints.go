package tablekit

import (
	"strconv"
	"strings"

	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
)

// Pushdown says how a column's constraints may be turned into store
// conditions.
type Pushdown int

const (
	NoPushdown Pushdown = iota // SQLite filters this column
	EqualOnly                  // "=" becomes an indexed equality
	Range                      // "=", ">", ">=", "<", "<=" on an integer column
)

// Conds converts the constraints of qc on the columns named in push into
// store conditions. A constraint that cannot be represented exactly (an
// operator other than the allowed ones, an integer column whose expression is
// not a base-10 integer) is left out: osquery's SQLite re-checks every
// constraint, so leaving one out only costs a wider read, never a wrong row.
// cols gives each column's type.
func Conds(qc table.QueryContext, cols []table.ColumnDefinition, push map[string]Pushdown) []eventstore.Cond {
	var out []eventstore.Cond
	for _, col := range cols {
		p := push[col.Name]
		if p == NoPushdown {
			continue
		}
		cl, ok := qc.Constraints[col.Name]
		if !ok {
			continue
		}
		numeric := col.Type != table.ColumnTypeText
		for _, c := range cl.Constraints {
			op, ok := storeOp(c.Operator, p)
			if !ok {
				continue
			}
			var v any = c.Expression
			if numeric {
				n, err := strconv.ParseInt(strings.TrimSpace(c.Expression), 10, 64)
				if err != nil {
					continue
				}
				v = n
			}
			out = append(out, eventstore.Cond{Column: col.Name, Op: op, Value: v})
		}
	}
	return out
}

func storeOp(op table.Operator, p Pushdown) (eventstore.Op, bool) {
	if op == table.OperatorEquals {
		return eventstore.Eq, true
	}
	if p != Range {
		return 0, false
	}
	switch op {
	case table.OperatorGreaterThan:
		return eventstore.Gt, true
	case table.OperatorGreaterThanOrEquals:
		return eventstore.Ge, true
	case table.OperatorLessThan:
		return eventstore.Lt, true
	case table.OperatorLessThanOrEquals:
		return eventstore.Le, true
	}
	return 0, false
}
