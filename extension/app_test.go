package main

import (
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/osquery-syslog/osquery-syslog/tables/syslog"
)

// testConfig is the configuration of args over a temporary buffer and pipe.
func testConfig(t *testing.T, args ...string) *config {
	t.Helper()
	dir := t.TempDir()
	cfg := &config{}
	fs := newFlagSet("test", cfg)
	args = append([]string{"--database_path", filepath.Join(dir, "ev.db"), "--syslog_pipe_path", filepath.Join(dir, "pipe"),
		"--forwarder_queue_path", filepath.Join(dir, "q.db")}, args...)
	if _, err := parseArgs(fs, args); err != nil {
		t.Fatal(err)
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestTableRegistry(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		ingest      bool
		wantSources []string
	}{
		{"defaults", nil, true, []string{"syslog", "journal"}},
		{"syslog off, log files on", []string{"--disable_syslog", "--logfile_paths", "/var/log/*.log"}, true, []string{"logfile", "journal"}},
		{"both", []string{"--logfile_paths", "/var/log/*.log"}, true, []string{"syslog", "logfile", "journal"}},
		{"reader", []string{"--logfile_paths", "/var/log/*.log"}, false, []string{"syslog", "logfile", "journal"}},
		{"journal off", []string{"--disable_journal"}, true, []string{"syslog"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := openApp(testConfig(t, tt.args...), quietLog(), tt.ingest)
			if err != nil {
				t.Fatal(err)
			}
			defer a.close()
			var names, sources []string
			for _, tb := range a.tables {
				names = append(names, tb.Name)
			}
			for _, s := range a.sources {
				sources = append(sources, s.name)
			}
			if want := []string{"syslog_messages", "osquery_syslog_stats", "asl_messages", "logfile_lines", "journal_messages"}; !slices.Equal(names, want) {
				t.Errorf("tables %v, want %v", names, want)
			}
			if !slices.Equal(sources, tt.wantSources) {
				t.Errorf("sources %v, want %v", sources, tt.wantSources)
			}
			if n := len(a.plugins()); n != len(names) {
				t.Errorf("%d plugins for %d tables and no logger", n, len(names))
			}
		})
	}
}

// TestSourceSetupPolicy: a pipe another reader holds fails the daemon's
// start at once, naming the flag; the extension starts anyway and shows the
// error in its stats.
func TestSourceSetupPolicy(t *testing.T) {
	tests := []struct {
		name    string
		policy  setupPolicy
		wantErr bool
	}{
		{"daemon", failSetup, true},
		{"extension", retrySetup, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			held, err := syslog.OpenPipe(cfg.SyslogPipePath, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			defer held.Close()
			a, err := openApp(cfg, quietLog(), true)
			if err != nil {
				t.Fatal(err)
			}
			defer a.close()
			err = a.start(tt.policy)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "--syslog_pipe_path: ") || !strings.Contains(err.Error(), "another reader holds its lock") {
					t.Fatalf("start = %v, want the lock error naming --syslog_pipe_path", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("start = %v", err)
			}
			if msg, _ := a.reg.Source("syslog").LastError(); !strings.Contains(msg, "another reader holds its lock") {
				t.Fatalf("stats last error %q, want the lock error", msg)
			}
		})
	}
}

func TestLoggerPlugins(t *testing.T) {
	tests := []struct {
		name    string
		daemon  bool
		list    string
		kinesis string // --aws_kinesis_stream
		want    []string
		wantErr string
	}{
		{name: "none", want: nil},
		{name: "osqueryd's own are skipped", list: "filesystem, tls,aws_kinesis", want: nil},
		{name: "ours, in order, once", list: "firehose,kinesis,firehose", want: []string{"firehose", "kinesis"}},
		{name: "a stream flag runs its logger", list: "filesystem", kinesis: "s", want: []string{"kinesis"}},
		{name: "unknown", list: "kinesis,splunk", wantErr: `--logger_plugin: unknown logger "splunk" (this extension provides kinesis and firehose)`},
		{name: "daemon runs filesystem", daemon: true, list: " filesystem ,kinesis", want: []string{"filesystem", "kinesis"}},
		{name: "daemon stream flag", daemon: true, kinesis: "s", want: []string{"kinesis"}},
		{name: "daemon has no tls", daemon: true, list: "filesystem,tls", wantErr: `--logger_plugin: unknown logger "tls" (the daemon provides filesystem, kinesis, firehose)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &config{LoggerPlugin: tt.list, daemon: tt.daemon}
			cfg.AWS.KinesisStream = tt.kinesis
			got, err := cfg.loggers()
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("loggers() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
