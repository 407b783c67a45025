package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestApplyOptionsPrecedence(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		opts     map[string]option
		wantPipe string
		wantMax  uint64
	}{
		{
			name:     "defaults",
			wantPipe: "/var/osquery/syslog_pipe",
			wantMax:  100000,
		},
		{
			name:     "osqueryd option at its default is ignored, custom_ applies",
			opts:     map[string]option{"syslog_pipe_path": {"/var/osquery/syslog_pipe", "/var/osquery/syslog_pipe"}, "custom_syslog_pipe_path": {"/custom/pipe", ""}},
			wantPipe: "/custom/pipe",
			wantMax:  100000,
		},
		{
			name:     "osqueryd option set beats custom_",
			opts:     map[string]option{"syslog_events_max": {"500", "100000"}, "custom_syslog_events_max": {"7", ""}},
			wantPipe: "/var/osquery/syslog_pipe",
			wantMax:  500,
		},
		{
			name:     "osqueryd's database_path is its RocksDB folder, never ours",
			opts:     map[string]option{"database_path": {"/var/osquery/other.db", "/var/osquery/osquery.db"}, "syslog_pipe_path": {"/osq/pipe", "/var/osquery/syslog_pipe"}},
			wantPipe: "/osq/pipe",
			wantMax:  100000,
		},
		{
			name:     "own flag beats both",
			args:     []string{"--syslog_events_max", "9", "--syslog_pipe_path", "/flag/pipe"},
			opts:     map[string]option{"syslog_events_max": {"500", "100000"}, "custom_syslog_pipe_path": {"/custom/pipe", ""}},
			wantPipe: "/flag/pipe",
			wantMax:  9,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &config{}
			fs := newFlagSet("test", cfg)
			if _, err := parseArgs(fs, tt.args); err != nil {
				t.Fatal(err)
			}
			if _, err := applyOptions(fs, explicitFlags(fs), tt.opts); err != nil {
				t.Fatal(err)
			}
			if cfg.DatabasePath != "/var/osquery/osquery-syslog.db" {
				t.Errorf("database_path = %q", cfg.DatabasePath)
			}
			if cfg.SyslogPipePath != tt.wantPipe || cfg.SyslogEventsMax != tt.wantMax {
				t.Errorf("got pipe %q max %d, want %q %d", cfg.SyslogPipePath, cfg.SyslogEventsMax, tt.wantPipe, tt.wantMax)
			}
		})
	}
}

func TestApplyOptionsNeverTakesLaunchFlags(t *testing.T) {
	cfg := &config{}
	fs := newFlagSet("test", cfg)
	if _, err := parseArgs(fs, nil); err != nil {
		t.Fatal(err)
	}
	opts := map[string]option{"verbose": {"true", "false"}, "custom_socket": {"/x", ""}}
	if _, err := applyOptions(fs, explicitFlags(fs), opts); err != nil {
		t.Fatal(err)
	}
	if cfg.Verbose || cfg.Socket != "/var/osquery/osquery.em" {
		t.Errorf("launch flags changed by options: verbose=%v socket=%q", cfg.Verbose, cfg.Socket)
	}
}

func TestBadOptionNamesFlag(t *testing.T) {
	cfg := &config{}
	fs := newFlagSet("test", cfg)
	_, err := applyOptions(fs, nil, map[string]option{"custom_syslog_max_line": {"lots", ""}})
	if err == nil || !strings.Contains(err.Error(), "--syslog_max_line") || !strings.Contains(err.Error(), "custom_syslog_max_line") {
		t.Fatalf("error %v does not name the flag and its source", err)
	}
}

func TestBadFlagsFailAtStartup(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--syslog_max_line", "abc"}, "syslog_max_line"},
		{[]string{"--syslog_max_line", "10"}, "--syslog_max_line: must be between"},
		{[]string{"--table_timeout", "300"}, "--table_timeout"},
		{[]string{"--table_concurrency", "0"}, "--table_concurrency"},
		{[]string{"--interval", "0"}, "--interval"},
		{[]string{"--no_such_flag"}, "no_such_flag"},
		{[]string{"daemon", "extra"}, `unexpected argument "extra"`},
		{[]string{"query"}, "missing SQL"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tt.args, &out, &errb)
			if code != 2 {
				t.Errorf("exit code %d, want 2", code)
			}
			if !strings.Contains(errb.String(), tt.want) {
				t.Errorf("stderr %q does not contain %q", errb.String(), tt.want)
			}
		})
	}
}

func TestHelpListsEveryFlagWithDefault(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--help"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	cfg := &config{}
	fs := newFlagSet("test", cfg)
	for _, name := range []string{"socket", "timeout", "interval", "verbose", "database_path", "syslog_pipe_path", "syslog_max_line", "syslog_events_expiry", "syslog_events_max", "disable_syslog", "table_timeout"} {
		f := fs.Lookup(name)
		if f == nil {
			t.Fatalf("flag %s missing", name)
		}
		want := "--" + name + " "
		if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "(default "+defaultText(f.DefValue)+")") {
			t.Errorf("--help lacks %s with its default %q:\n%s", name, f.DefValue, out.String())
		}
	}
}

func defaultText(v string) string {
	if v == "" {
		return `""`
	}
	return v
}

func TestParseArgsFlagsAfterPositional(t *testing.T) {
	cfg := &config{}
	fs := newFlagSet("test", cfg)
	addQueryFlags(fs, cfg)
	pos, err := parseArgs(fs, []string{"SELECT 1", "--json", "--database_path", "/tmp/x.db"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pos) != 1 || pos[0] != "SELECT 1" || !cfg.JSON || cfg.DatabasePath != "/tmp/x.db" {
		t.Errorf("pos=%q json=%v db=%q", pos, cfg.JSON, cfg.DatabasePath)
	}
}
