package asl

import (
	"maps"
	"reflect"
	"testing"

	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/tables/asl/aslfile"
)

// osquery's test_convert_like_regex table, with the anchors osquery lacks.
func TestConvertLikeRegex(t *testing.T) {
	tests := []struct{ like, re string }{
		{"%", "^.*$"},
		{"foo%", "^foo.*$"},
		{"%foo%", "^.*foo.*$"},
		{"%%", "^.*.*$"},
		{"_", "^.$"},
		{"foo_", "^foo.$"},
		{"_foo", "^.foo$"},
		{"_foo_", "^.foo.$"},
		{"_%", "^..*$"},
		{"%foo_%", "^.*foo..*$"},
		// Beyond osquery's table: metacharacters stand for themselves.
		{"a.b", `^a\.b$`},
		{"C++%", `^C\+\+.*$`},
		{"(x)|[y]{2}^$\\", `^\(x\)\|\[y\]\{2\}\^\$\\$`},
		{"", "^$"},
		{"ünï_%", "^ünï..*$"},
	}
	for _, tt := range tests {
		if got := LikeToRegexp(tt.like); got != tt.re {
			t.Errorf("LikeToRegexp(%q) = %q, want %q", tt.like, got, tt.re)
		}
	}
}

func qc(col string, aff table.ColumnType, cs ...table.Constraint) table.QueryContext {
	return table.QueryContext{Constraints: map[string]table.ConstraintList{col: {Affinity: aff, Constraints: cs}}}
}

// osquery's test_add_query_op table. osquery turns each of these into an
// ASL query op; here the same constraints become pushed-down conditions,
// except where the vector itself says "not added".
func TestAddQueryOp(t *testing.T) {
	tests := []struct {
		col  string
		val  string
		op   table.Operator
		typ  table.ColumnType
		want []Condition
	}{
		{"sender", "bar", table.OperatorEquals, table.ColumnTypeText, []Condition{{Column: "sender", Op: "=", Value: "bar"}}},
		{"level", "1", table.OperatorGreaterThan, table.ColumnTypeInteger, []Condition{{Column: "level", Op: ">", Value: "1"}}},
		{"gid", "999", table.OperatorLessThan, table.ColumnTypeBigInt, []Condition{{Column: "gid", Op: "<", Value: "999"}}},
		// A range on a text column: osquery adds GREATER_EQUAL; osqueryd's
		// SQLite never sends it (text ranges are not "sensible"), and SQLite
		// compares text by bytes, so it is not pushed here.
		{"facility", "hoo", table.OperatorGreaterThanOrEquals, table.ColumnTypeText, nil},
		{"pid", "30", table.OperatorLessThanOrEquals, table.ColumnTypeInteger, []Condition{{Column: "pid", Op: "<=", Value: "30"}}},
		{"ref_proc", "%tom%", table.OperatorLike, table.ColumnTypeText, []Condition{{Column: "ref_proc", Op: "LIKE", Value: "%tom%", Regexp: "^.*tom.*$"}}},
		{"extra", "tom", table.OperatorEquals, table.ColumnTypeText, nil},
		{"host", "tom", table.OperatorGlob, table.ColumnTypeText, nil},
	}
	for _, tt := range tests {
		got := Conditions(qc(tt.col, tt.typ, table.Constraint{Operator: tt.op, Expression: tt.val}))
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s op %d %q: got %+v, want %+v", tt.col, tt.op, tt.val, got, tt.want)
		}
	}
}

// osquery's test_create_asl_query: sender = bar, sender LIKE %a%, and
// message < 10 with INTEGER affinity. osquery sends three ops; message is a
// TEXT column, which SQLite compares as text, so the numeric range is left
// to SQLite here and two conditions remain.
func TestCreateAslQuery(t *testing.T) {
	q := table.QueryContext{Constraints: map[string]table.ConstraintList{
		"sender": {Affinity: table.ColumnTypeText, Constraints: []table.Constraint{
			{Operator: table.OperatorEquals, Expression: "bar"},
			{Operator: table.OperatorLike, Expression: "%a%"},
		}},
		"message": {Affinity: table.ColumnTypeInteger, Constraints: []table.Constraint{
			{Operator: table.OperatorLessThan, Expression: "10"},
		}},
	}}
	want := []Condition{
		{Column: "sender", Op: "=", Value: "bar"},
		{Column: "sender", Op: "LIKE", Value: "%a%", Regexp: "^.*a.*$"},
	}
	if got := Conditions(q); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// osquery's test_read_asl_row.
func TestReadAslRow(t *testing.T) {
	keys := []aslfile.Pair{
		{Key: "Sender", Value: aslfile.Str("foo")},
		{Key: "Level", Value: aslfile.Str("1")},
		{Key: "Message", Value: aslfile.Str("bar")},
		{Key: "Bang", Value: aslfile.Str("bang_val")},
	}
	want := map[string]string{"sender": "foo", "level": "1", "message": "bar", "extra": "{\"Bang\":\"bang_val\"}\n"}
	if got := Row(keys); !maps.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRowExtraEscaping(t *testing.T) {
	keys := []aslfile.Pair{
		{Key: "URL", Value: aslfile.Str("http://x/y")},
		{Key: "q\"b\\", Value: aslfile.Str("tab\tnl\nbell\x07del\x7f")},
		{Key: "null", Value: aslfile.NullString{}},
		{Key: "utf8", Value: aslfile.Str("héllo \xff")},
	}
	want := `{"URL":"http:\/\/x\/y","q\"b\\":"tab\tnl\nbell\u0007del` + "\x7f" + `","null":"","utf8":"héllo ` + "\xff" + `"}` + "\n"
	if got := Row(keys)["extra"]; got != want {
		t.Errorf("extra %q, want %q", got, want)
	}
}

// TestRowBuilderMatchesRow: the fast row builder gives exactly the row of
// osquery's algorithm over Apple's key list, for messages whose pairs do
// not repeat a column key.
func TestRowBuilderMatchesRow(t *testing.T) {
	rb := newRowBuilder()
	str := aslfile.Str
	base := aslfile.Message{ID: 7, Time: 1700000000, Nano: 12, Level: 3, PID: 0xFFFFFFFF, UID: aslfile.Unset, GID: 0,
		ReadUID: aslfile.Unset, ReadGID: aslfile.Unset, Sender: str("s"), Text: str("a/b \"q\"")}
	variants := []func(m *aslfile.Message){
		func(m *aslfile.Message) {},
		func(m *aslfile.Message) {
			m.UID, m.GID, m.RefPID, m.RefProc, m.Host = 501, aslfile.Unset, 9, str("launchd"), str("h")
		},
		func(m *aslfile.Message) { m.ReadUID, m.ReadGID = 501, 80 },
		func(m *aslfile.Message) { m.Session = str("") },
		func(m *aslfile.Message) {
			m.Pairs = []aslfile.Pair{{Key: "A", Value: str("1")}, {Key: "B", Value: aslfile.NullString{}}}
		},
		func(m *aslfile.Message) {
			m.Pairs = []aslfile.Pair{{Key: "A", Value: str("1")}, {Key: "A", Value: str("2")}}
		},
		func(m *aslfile.Message) {
			m.ReadUID, m.Session = 0, str("sess")
			m.Pairs = []aslfile.Pair{{Key: "Session", Value: str("kv")}, {Key: "ReadUID", Value: str("x")}, {Key: "Z", Value: str("z")}}
		},
		func(m *aslfile.Message) {
			m.Pairs = []aslfile.Pair{{Key: "ASLMessageID", Value: str("99")}, {Key: "k\x01", Value: str("\xff")}}
		},
		func(m *aslfile.Message) { m.Time = ^uint64(0); m.Nano = 999999999; m.Level = 65535 },
	}
	for i, v := range variants {
		m := base
		v(&m)
		want := fullRow(m.Keys(nil))
		delete(want, "path") // set by scan
		if got := rb.build(&m); !maps.Equal(got, want) {
			t.Errorf("variant %d:\n got %q\nwant %q", i, got, want)
		}
	}
}
