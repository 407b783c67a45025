package journal

import (
	"encoding/binary"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc"
)

// rawBuf lays entries out as jr_read does.
func rawBuf(realtime, mono uint64, cursor string, fields ...string) []byte {
	var body []byte
	body = binary.NativeEndian.AppendUint64(body, realtime)
	body = binary.NativeEndian.AppendUint64(body, mono)
	body = binary.NativeEndian.AppendUint32(body, uint32(len(cursor)))
	body = append(body, cursor...)
	for _, f := range fields {
		body = binary.NativeEndian.AppendUint32(body, uint32(len(f)))
		body = append(body, f...)
	}
	out := binary.NativeEndian.AppendUint32(nil, uint32(len(body)))
	return append(out, body...)
}

func mapOne(t testing.TB, m *mapper, buf []byte) ([]any, bool) {
	t.Helper()
	e, rest, err := nextEntry(buf)
	if err != nil || len(rest) != 0 {
		t.Fatalf("nextEntry: %v, %d bytes left", err, len(rest))
	}
	vals := make([]any, numColumns)
	trunc, err := m.row(e, vals)
	if err != nil {
		t.Fatal(err)
	}
	return vals, trunc
}

func TestRow(t *testing.T) {
	tests := []struct {
		name   string
		fields []string
		want   map[int]any    // columns checked
		json   map[string]any // fields, decoded
	}{
		{
			name: "syslog entry",
			fields: []string{"_HOSTNAME=web-1", "PRIORITY=3", "SYSLOG_FACILITY=10", "SYSLOG_IDENTIFIER=sshd",
				"_PID=1234", "_UID=0", "_GID=0", "_COMM=sshd", "_EXE=/usr/sbin/sshd", "_CMDLINE=sshd: alice",
				"_SYSTEMD_UNIT=ssh.service", "_BOOT_ID=0123456789abcdef0123456789abcdef", "_TRANSPORT=syslog",
				"MESSAGE=Accepted publickey for alice", "CODE_LINE=42"},
			want: map[int]any{colHost: "web-1", colSeverity: int64(3), colFacility: "authpriv", colTag: "sshd[1234]",
				colIdentifier: "sshd", colPID: int64(1234), colUID: int64(0), colGID: int64(0), colComm: "sshd",
				colExe: "/usr/sbin/sshd", colCmdline: "sshd: alice", colUnit: "ssh.service",
				colBootID: "0123456789abcdef0123456789abcdef", colTransport: "syslog",
				colMessage: "Accepted publickey for alice", colEventTime: int64(1700000000), colEventTimeUsec: int64(1700000000123456),
				colCursor: "s=1;i=2", colTruncated: int64(0)},
			json: map[string]any{"__MONOTONIC_TIMESTAMP": "99", "CODE_LINE": "42"},
		},
		{
			name:   "SYSLOG_PID wins in the tag, _COMM stands in for the identifier",
			fields: []string{"_COMM=bash", "_PID=7", "SYSLOG_PID=8", "MESSAGE=x"},
			want:   map[int]any{colTag: "bash[8]", colIdentifier: nil, colPID: int64(7)},
			json:   map[string]any{"__MONOTONIC_TIMESTAMP": "99", "SYSLOG_PID": "8"},
		},
		{
			name:   "kernel: no process, no tag",
			fields: []string{"_TRANSPORT=kernel", "PRIORITY=6", "SYSLOG_FACILITY=0", "MESSAGE=eth0 up"},
			want:   map[int]any{colTag: nil, colFacility: "kern", colPID: nil, colSeverity: int64(6)},
		},
		{
			name:   "non-canonical numbers stay in fields",
			fields: []string{"PRIORITY=03", "SYSLOG_FACILITY=24", "_PID=-1", "_UID=abc", "MESSAGE=m"},
			want:   map[int]any{colSeverity: nil, colFacility: nil, colPID: nil, colUID: nil},
			json:   map[string]any{"__MONOTONIC_TIMESTAMP": "99", "PRIORITY": "03", "SYSLOG_FACILITY": "24", "_PID": "-1", "_UID": "abc"},
		},
		{
			name:   "binary values, repeated fields",
			fields: []string{"MESSAGE=\xff\x00bin\n", "MESSAGE=second", "X=1", "BLOB=\x80", "X=2", "Q=\"\\\t\x01"},
			want:   map[int]any{colMessage: "\xff\x00bin\n"},
			json: map[string]any{"__MONOTONIC_TIMESTAMP": "99", "MESSAGE": "second", "X": []any{"1", "2"},
				"BLOB": []any{float64(0x80)}, "Q": "\"\\\t\x01"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &mapper{maxLine: eventsrc.DefaultMaxLine}
			vals, _ := mapOne(t, m, rawBuf(1700000000123456, 99, "s=1;i=2", tt.fields...))
			for col, w := range tt.want {
				if !reflect.DeepEqual(vals[col], w) {
					t.Errorf("column %s = %#v, want %#v", Schema().Columns[col].Name, vals[col], w)
				}
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(vals[colFields].(string)), &got); err != nil {
				t.Fatalf("fields %q: %v", vals[colFields], err)
			}
			if tt.json != nil && !reflect.DeepEqual(got, tt.json) {
				t.Errorf("fields %v, want %v", got, tt.json)
			}
		})
	}
}

func TestRowTruncates(t *testing.T) {
	m := &mapper{maxLine: 256}
	msg := strings.Repeat("a", 255) + "é" // the limit falls inside é
	vals, trunc := mapOne(t, m, rawBuf(1, 1, "c", "MESSAGE="+msg))
	if !trunc || vals[colTruncated] != int64(1) {
		t.Fatalf("truncated %v, column %v", trunc, vals[colTruncated])
	}
	if got := vals[colMessage].(string); got != strings.Repeat("a", 255) {
		t.Errorf("message %q (%d bytes)", got, len(got))
	}
}

func TestNextEntryMalformed(t *testing.T) {
	good := rawBuf(1, 2, "cur", "A=b")
	for _, b := range [][]byte{nil, good[:3], good[:len(good)-1], append([]byte{0xff, 0xff, 0xff, 0x7f}, good[4:]...)} {
		if _, _, err := nextEntry(b); err == nil {
			t.Errorf("nextEntry(%x) accepted", b)
		}
	}
	e, _, err := nextEntry(good)
	if err != nil {
		t.Fatal(err)
	}
	e.data = e.data[:len(e.data)-1]
	if _, err := (&mapper{}).row(e, make([]any, numColumns)); err == nil {
		t.Error("a cut field was accepted")
	}
}

// FuzzRow maps arbitrary fields: no panic, fields always valid JSON holding
// every field without a column.
func FuzzRow(f *testing.F) {
	f.Add([]byte("MESSAGE=hi"), []byte("PRIORITY=3"), []byte("\xff=\x00"))
	f.Add([]byte("X=1"), []byte("X=2"), []byte("noequals"))
	f.Fuzz(func(t *testing.T, a, b, c []byte) {
		m := &mapper{maxLine: 300}
		vals, _ := mapOne(t, m, rawBuf(5, 6, "c", string(a), string(b), string(c)))
		var got map[string]any
		if err := json.Unmarshal([]byte(vals[colFields].(string)), &got); err != nil {
			t.Fatalf("fields %q: %v", vals[colFields], err)
		}
	})
}

func TestParseFlags(t *testing.T) {
	for _, tt := range []struct {
		since string
		kind  SinceKind
		ok    bool
	}{
		{"boot", SinceBoot, true}, {"ALL", SinceAll, true}, {"head", SinceAll, true}, {"now", SinceNow, true},
		{"1700000000", SinceTime, true}, {"2024-03-01T10:00:00+01:00", SinceTime, true},
		{"yesterday", 0, false}, {"-5", 0, false}, {"2024-03-01", 0, false},
	} {
		s, err := ParseSince(tt.since)
		if (err == nil) != tt.ok || err == nil && s.Kind != tt.kind {
			t.Errorf("ParseSince(%q) = %v, %v", tt.since, s, err)
		}
	}
	for _, tt := range []struct {
		match string
		want  [][]string
		ok    bool
	}{
		{"", nil, true},
		{"_TRANSPORT=kernel", [][]string{{"_TRANSPORT=kernel"}}, true},
		{"_SYSTEMD_UNIT=a.service PRIORITY=3 + _TRANSPORT=kernel", [][]string{{"_SYSTEMD_UNIT=a.service", "PRIORITY=3"}, {"_TRANSPORT=kernel"}}, true},
		{"MESSAGE=", [][]string{{"MESSAGE="}}, true},
		{"+ A=1", nil, false}, {"A=1 +", nil, false}, {"A", nil, false}, {"a=1", nil, false},
		{"__CURSOR=x", nil, false}, {"1A=x", nil, false},
	} {
		got, err := ParseMatch(tt.match)
		if (err == nil) != tt.ok || tt.ok && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseMatch(%q) = %v, %v", tt.match, got, err)
		}
	}
	units, err := ParseUnits(" ssh, cron.service,user@1000.service ")
	if err != nil || !reflect.DeepEqual(units, []string{"ssh.service", "cron.service", "user@1000.service"}) {
		t.Errorf("ParseUnits = %v, %v", units, err)
	}
	if _, err := ParseUnits("a b"); err == nil {
		t.Error("unit with a space accepted")
	}
	f := Flags{Since: "x", Match: "y", Units: "a b", MaxLine: 1}
	err = f.Validate()
	for _, name := range []string{"--journal_since", "--journal_match", "--journal_units", "--journal_max_line"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Validate does not name %s: %v", name, err)
		}
	}
}
