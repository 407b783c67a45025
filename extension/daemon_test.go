//go:build sqlite_vtable

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDaemonBadConfigFailsNamingIt: a bad config stops the daemon at
// start-up, exit code 2, with a message naming what is wrong.
func TestDaemonBadConfigFailsNamingIt(t *testing.T) {
	tests := []struct {
		name   string
		config string
		args   []string
		want   []string
	}{
		{"unknown logger in config", `{"options":{"logger_plugin":"filesystem,splunk"},"schedule":{"a":{"query":"SELECT 1","interval":5}}}`, nil,
			[]string{"--logger_plugin", `"splunk"`}},
		{"osqueryd-only logger", `{"options":{"logger_plugin":"tls"},"schedule":{"a":{"query":"SELECT 1","interval":5}}}`, nil,
			[]string{"--logger_plugin", `"tls"`, "filesystem, kinesis, firehose"}},
		{"unknown logger flag", `{"schedule":{"a":{"query":"SELECT 1","interval":5}}}`, []string{"--logger_plugin", "nope"},
			[]string{"--logger_plugin", `"nope"`}},
		{"bad SQL", `{"options":{"logger_plugin":"filesystem"},"packs":{"p":{"queries":{"broken":{"query":"SELECT * FROM syslog_mesages","interval":5}}}}}`, nil,
			[]string{"pack_p_broken", "syslog_mesages"}},
		{"bad decorator", `{"options":{"logger_plugin":"filesystem"},"decorators":{"load":["SELEC 1"]},"schedule":{"a":{"query":"SELECT 1","interval":5}}}`, nil,
			[]string{"decorators.load[0]"}},
		{"missing pack file", `{"options":{"logger_plugin":"filesystem"},"packs":{"gone":"no-such-pack.conf"}}`, nil,
			[]string{"packs.gone", "no-such-pack.conf"}},
		{"not JSON", `{"options":`, nil, []string{"--config_path", "parsing config"}},
		{"bad option value", `{"options":{"logger_plugin":"filesystem","schedule_splay_percent":"lots"}}`, nil,
			[]string{"--schedule_splay_percent", "lots"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			conf := filepath.Join(dir, "osquery.conf")
			if err := os.WriteFile(conf, []byte(tt.config), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"daemon", "--config_path", conf,
				"--database_path", filepath.Join(dir, "ev.db"), "--syslog_pipe_path", filepath.Join(dir, "pipe"),
				"--logger_path", filepath.Join(dir, "log"), "--forwarder_queue_path", filepath.Join(dir, "q.db")}, tt.args...)
			var stdout, stderr bytes.Buffer
			done := make(chan int, 1)
			go func() { done <- run(args, &stdout, &stderr) }()
			select {
			case code := <-done:
				if code != 2 {
					t.Fatalf("exit code %d, want 2; stderr:\n%s", code, stderr.String())
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the daemon started with a bad config")
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr does not name %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}
