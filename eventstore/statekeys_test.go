package eventstore

import (
	"path/filepath"
	"strings"
	"testing"
)

// The namespaces these tests write in; the real owners (tables/logfile,
// tables/statstable, schedule, extension) register theirs in their packages.
var (
	_ = NewNamespace("pos")
	_ = NewNamespace("lf")
	_ = NewNamespace("other")
	_ = NewNamespace("stats")
	_ = NewNamespace("test")
)

// putRaw stores a state key without the namespace check, as an older
// release could.
func putRaw(t *testing.T, s *Store, k, v string) {
	t.Helper()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.putStateLocked(k, v); err != nil {
		t.Fatal(err)
	}
}

func TestStateKeyRule(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "k.db"))
	st, err := s.Stream(syslogSchema(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key string
		ok  bool
	}{
		{"test/a", true},
		{"test/a/b:c", true},
		{"test/", false},     // no name
		{"test", false},      // no namespace separator
		{"", false},          // empty
		{"unknown/a", false}, // namespace never registered
		{"/a", false},        // empty namespace
		{"test.a", false},    // the legacy dotted form
		{"daemon.instance_id", false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if err := s.PutState(tt.key, "v"); (err == nil) != tt.ok {
				t.Errorf("PutState: %v, want ok=%v", err, tt.ok)
			}
			if _, err := st.AppendState(nil, map[string]string{tt.key: "v"}); (err == nil) != tt.ok {
				t.Errorf("AppendState: %v, want ok=%v", err, tt.ok)
			}
		})
	}
	for _, p := range []string{"", "test", "unknown/", "tes"} {
		if _, err := s.PruneStates(p); err == nil {
			t.Errorf("PruneStates(%q) accepted", p)
		}
	}
	if _, err := s.PruneStates("test/a"); err != nil {
		t.Errorf("PruneStates(test/a): %v", err)
	}
}

func TestNewNamespace(t *testing.T) {
	ns := NewNamespace("nstest")
	if got := ns.Key("a/b"); got != "nstest/a/b" {
		t.Errorf("Key = %q", got)
	}
	if got := ns.Prefix(); got != "nstest/" {
		t.Errorf("Prefix = %q", got)
	}
	for _, owner := range []string{"nstest", "", "a/b"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewNamespace(%q) did not panic", owner)
				}
			}()
			NewNamespace(owner)
		}()
	}
}

// TestMigrateLegacyStateKeys opens a store that the release before the
// namespace rule wrote, with every kind of state it kept, and finds each
// under its new key.
func TestMigrateLegacyStateKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	old := map[string]string{
		"logfile/2049:1234//var/log/app.log":    `{"path":"/var/log/app.log","off":42}`, // tailer position
		"logfile/2049:99//var/log/gone.log":     "",                                     // a finished file
		"stats/syslog":                          `{"source":"syslog","lines_read":7}`,   // stats snapshot
		"stats/kinesis":                         `{"source":"kinesis"}`,
		"daemon.instance_id":                    "6F1C2A9E-0B3D-4C55-8E77-1A2B3C4D5E6F",
		"schedule.interval.pack_sec_logins":     "60:57",
		"schedule.interval.odd.name/with'quote": "3600:3411",
		"schedule.query.pack_sec_logins":        `{"epoch":0,"counter":3}`,
		"schedule.query.odd.name/with'quote":    `{"epoch":0,"counter":0}`,
	}
	want := map[string]string{
		"logfile/2049:1234//var/log/app.log":    old["logfile/2049:1234//var/log/app.log"],
		"logfile/2049:99//var/log/gone.log":     "",
		"stats/syslog":                          old["stats/syslog"],
		"stats/kinesis":                         old["stats/kinesis"],
		"daemon/instance_id":                    old["daemon.instance_id"],
		"schedule/interval/pack_sec_logins":     "60:57",
		"schedule/interval/odd.name/with'quote": "3600:3411",
		"schedule/query/pack_sec_logins":        old["schedule.query.pack_sec_logins"],
		"schedule/query/odd.name/with'quote":    old["schedule.query.odd.name/with'quote"],
	}
	// What the previous release's PutState and AppendState wrote.
	s := openStore(t, path)
	for k, v := range old {
		putRaw(t, s, k, v)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for range 2 { // the second open finds nothing left to rename
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.States("")
		if err != nil {
			t.Fatal(err)
		}
		if !mapsEqual(got, want) {
			t.Errorf("after Open: %v\nwant %v", got, want)
		}
		for _, p := range []string{"daemon/", "schedule/interval/", "schedule/query/", "logfile/", "stats/"} {
			m, err := s.States(p)
			if err != nil || len(m) == 0 {
				t.Errorf("States(%q) = %v, %v", p, m, err)
			}
		}
		for k := range got {
			if owner, _, _ := strings.Cut(k, "/"); strings.Contains(owner, ".") {
				t.Errorf("legacy key %q left", k)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMigrateLegacyStateKeysBothPresent: a store holding a key under both
// names (an older release ran again after an upgrade had renamed its keys)
// keeps the legacy value, the one written last.
func TestMigrateLegacyStateKeysBothPresent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "both.db")
	s := openStore(t, path)
	putRaw(t, s, "daemon.instance_id", "LEGACY")
	putRaw(t, s, "daemon/instance_id", "NEW")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, path)
	got, err := s.States("")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"daemon/instance_id": "LEGACY"}; !mapsEqual(got, want) {
		t.Fatalf("states %v, want %v", got, want)
	}
}
