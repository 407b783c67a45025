package schedule

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sec.conf"), []byte(`{"platform":"linux","queries":{"sudo":{"query":"SELECT 1","interval":"60","description":"d","removed":false}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse([]byte(`{
		"options": {"logger_plugin": "filesystem", "schedule_splay_percent": 20, "verbose": true, "custom_x": {"a": [1, 2]}, "empty": ""},
		"schedule": {"inv": {"query": "SELECT 2", "snapshot": true}},
		"packs": {"sec": "sec.conf", "inline": {"queries": {"q": {"query": "SELECT 3", "interval": 5, "platform": "darwin"}}}},
		"decorators": {"load": ["SELECT 'a' AS b"], "always": ["SELECT 1 AS one"], "interval": {"3600": ["SELECT 2 AS two"]}}
	}`), ParseOptions{BaseDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	wantOpts := map[string]string{"logger_plugin": "filesystem", "schedule_splay_percent": "20", "verbose": "true", "custom_x": `{"a":[1,2]}`}
	if len(cfg.Options) != len(wantOpts) {
		t.Errorf("options %v, want %v", cfg.Options, wantOpts)
	}
	for k, v := range wantOpts {
		if cfg.Options[k] != v {
			t.Errorf("option %s = %q, want %q", k, cfg.Options[k], v)
		}
	}
	want := []Query{
		{Name: "inv", SQL: "SELECT 2", Interval: DefaultInterval, Snapshot: true, Removed: true},
		{Name: "pack_inline_q", SQL: "SELECT 3", Interval: 5, Removed: true, Pack: "inline", Platform: "darwin"},
		{Name: "pack_sec_sudo", SQL: "SELECT 1", Interval: 60, Removed: false, Pack: "sec", Description: "d", Platform: "linux"},
	}
	if len(cfg.Queries) != len(want) {
		t.Fatalf("queries %+v", cfg.Queries)
	}
	for i := range want {
		if cfg.Queries[i] != want[i] {
			t.Errorf("query %d = %+v, want %+v", i, cfg.Queries[i], want[i])
		}
	}
	if len(cfg.Decorators.Load) != 1 || len(cfg.Decorators.Always) != 1 || len(cfg.Decorators.Interval[3600]) != 1 {
		t.Errorf("decorators %+v", cfg.Decorators)
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"not json", `{"schedule":`, "parsing config"},
		{"missing pack file", `{"packs":{"gone":"/nonexistent/pack.conf"}}`, "packs.gone: reading pack file"},
		{"bad pack file", `{"packs":{"bad":"bad.conf"}}`, "packs.bad: parsing pack file"},
		{"no query", `{"schedule":{"x":{"interval":10}}}`, `schedule.x: missing "query"`},
		{"zero interval", `{"schedule":{"x":{"query":"SELECT 1","interval":0}}}`, `schedule.x: "interval"`},
		{"bad snapshot", `{"schedule":{"x":{"query":"SELECT 1","snapshot":"maybe"}}}`, `schedule.x: "snapshot"`},
		{"pack query", `{"packs":{"p":{"queries":{"q":{"query":""}}}}}`, `packs.p.queries.q: missing "query"`},
		{"discovery", `{"packs":{"p":{"discovery":["SELECT 1"],"queries":{}}}}`, "packs.p: discovery"},
		{"duplicate", `{"schedule":{"pack_p_q":{"query":"SELECT 1"}},"packs":{"p":{"queries":{"q":{"query":"SELECT 1"}}}}}`, "used twice"},
		{"decorator interval", `{"decorators":{"interval":{"soon":["SELECT 1"]}}}`, "decorators.interval"},
		{"trailing", `{} {}`, "trailing data"},
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.conf"), []byte(`{"queries": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.config), ParseOptions{BaseDir: dir})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// FuzzParseConfig: Parse never panics, and what it accepts is usable: every
// query has a name, SQL and a positive interval.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"schedule":{"a":{"query":"SELECT 1","interval":10}}}`))
	f.Add([]byte(`{"options":{"x":1.5,"y":-3,"z":[{}]},"packs":{"p":{"queries":{"q":{"query":"SELECT 1","interval":"7","snapshot":"true"}}}}}`))
	f.Add([]byte(`{"decorators":{"load":["SELECT 1"],"interval":{"60":["SELECT 2"]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		noFiles := func(string) ([]byte, error) { return nil, errors.New("no files in the fuzzer") }
		cfg, err := Parse(data, ParseOptions{ReadFile: noFiles})
		if err != nil {
			return
		}
		for _, q := range cfg.Queries {
			if q.Name == "" || strings.TrimSpace(q.SQL) == "" || q.Interval == 0 {
				t.Fatalf("accepted unusable query %+v", q)
			}
		}
	})
}

func TestPlatformMatches(t *testing.T) {
	tests := []struct {
		platform, goos string
		want           bool
	}{
		{"", "linux", true},
		{"linux", "linux", true},
		{"darwin", "linux", false},
		{"darwin, linux", "linux", true},
		{"posix", "darwin", true},
		{"posix", "windows", false},
		{"all", "windows", true},
		{"windows", "darwin", false},
	}
	for _, tt := range tests {
		if got := PlatformMatches(tt.platform, tt.goos); got != tt.want {
			t.Errorf("PlatformMatches(%q, %q) = %v", tt.platform, tt.goos, got)
		}
	}
}
