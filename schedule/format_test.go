package schedule

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// TestLineFormatsGolden: every line format, byte for byte as osqueryd's
// rapidjson writer produces it: key order, numbers for unixTime/epoch/
// counter, string column values, rapidjson's string escaping (upper-case
// \u00XX, '/', '<' and UTF-8 as is).
func TestLineFormatsGolden(t *testing.T) {
	it := &Item{
		Name: "pack_syslog-security_sudo", Host: "web-1", Time: time.Unix(1793603109, 0),
		Epoch: 2, Counter: 41,
		Decorations: map[string]string{"site": "eu-1", "hostname": "web-1.example"},
		Added:       []Row{{"tag": "sudo", "message": "alice : COMMAND=/bin/sh -c \"id\"\t<x>\x01 café"}},
		Removed:     []Row{{"tag": "sudo", "message": `C:\tmp`}},
		Snapshot:    []Row{{"n": "1"}, {"n": "2"}},
	}
	var got []string
	for _, l := range EventLines(it) {
		got = append(got, string(l))
	}
	got = append(got, string(BatchLine(it)), string(SnapshotLine(it)))
	for _, l := range EventSnapshotLines(it) {
		got = append(got, string(l))
	}
	it.DecorationsTopLevel = true
	got = append(got, string(EventLines(it)[0]))
	it.Decorations = nil
	got = append(got, string(SnapshotLine(it)))

	want, err := os.ReadFile("testdata/lines.golden")
	if err != nil {
		t.Fatal(err)
	}
	if g := strings.Join(got, "\n") + "\n"; g != string(want) {
		t.Fatalf("lines differ from testdata/lines.golden:\n%s", g)
	}
	for _, l := range got {
		if !json.Valid([]byte(l)) {
			t.Errorf("not valid JSON: %s", l)
		}
	}
}

func TestCalendarTime(t *testing.T) {
	tests := []struct {
		unix int64
		want string
	}{
		{1793603109, "Mon Nov  2 07:05:09 2026 UTC"},
		{1795330800, "Sun Nov 22 07:00:00 2026 UTC"},
		{0, "Thu Jan  1 00:00:00 1970 UTC"},
	}
	for _, tt := range tests {
		if got := CalendarTime(time.Unix(tt.unix, 0)); got != tt.want {
			t.Errorf("CalendarTime(%d) = %q, want %q", tt.unix, got, tt.want)
		}
	}
}
