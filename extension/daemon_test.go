//go:build sqlite_vtable

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
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

// TestDaemonOptionPrecedence: flag > the config's option > its custom_
// option > default, and the schedule runs through the filesystem logger; a
// query failing at run time is logged and the schedule goes on.
func TestDaemonOptionPrecedence(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "osquery.conf")
	config := `{"options":{"logger_plugin":"filesystem","schedule_splay_percent":0,
		"logger_path":"` + dir + `/from-config",
		"syslog_pipe_path":"` + dir + `/option-pipe","custom_syslog_pipe_path":"` + dir + `/custom-pipe",
		"custom_syslog_max_line":"4096","no_such_flag":"1"},
		"schedule":{"one":{"query":"SELECT 1 AS one","interval":1},
			"overflows":{"query":"SELECT abs(-9223372036854775808) AS x","interval":1}}}`
	if err := os.WriteFile(conf, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"daemon", "--config_path", conf, "--database_path", filepath.Join(dir, "ev.db"),
		"--logger_path", filepath.Join(dir, "from-flag")}
	var stdout bytes.Buffer
	stderr := &lockedBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(args, &stdout, stderr) }()

	results := filepath.Join(dir, "from-flag", "osqueryd.results.log")
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, _ := os.ReadFile(results)
		if strings.Contains(string(b), `"name":"one"`) && strings.Contains(string(b), `"columns":{"one":"1"},"action":"added"`) {
			break
		}
		select {
		case code := <-done:
			t.Fatalf("daemon exited %d:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no result in %s:\n%s", results, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The query that fails at run time is logged, in osqueryd.INFO too, and
	// did not stop the other.
	deadline = time.Now().Add(10 * time.Second)
	for {
		info, _ := os.ReadFile(filepath.Join(dir, "from-flag", "osqueryd.INFO"))
		if strings.Contains(string(info), "scheduled query failed") && strings.Contains(string(info), "query=overflows") &&
			strings.Contains(string(info), "integer overflow") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("osqueryd.INFO lacks the failing query:\n%s", info)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(dir, "option-pipe")); err != nil {
		t.Errorf("the config's syslog_pipe_path did not beat custom_syslog_pipe_path: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "from-config")); err == nil {
		t.Error("the config's logger_path beat the --logger_path flag")
	}
	for _, want := range []string{"syslog_max_line=4096 (osquery config option custom_syslog_max_line)", "Cannot set unknown or invalid flag", "no_such_flag"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, stderr.String())
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code %d after SIGINT:\n%s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("daemon did not stop on SIGINT")
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
