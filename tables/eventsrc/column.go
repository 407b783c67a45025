package eventsrc

import "github.com/osquery/osquery-go/plugin/table"

// EIDColumn is the hidden eid column every evented table ends with. It is
// also marked additional because osqueryd passes an extension no constraint
// on a column that is only hidden.
func EIDColumn() table.ColumnDefinition {
	return table.BigIntColumn("eid", table.HiddenColumn(), table.AdditionalColumn(),
		table.ColumnDescription("Event id: increases with every stored line, never reused"))
}
