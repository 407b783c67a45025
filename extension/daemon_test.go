//go:build sqlite_vtable

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/osquery-syslog/osquery-syslog/test/awsfake"
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
	d := startDaemon(t, "--config_path", conf, "--database_path", filepath.Join(dir, "ev.db"),
		"--logger_path", filepath.Join(dir, "from-flag"))
	stderr := d.stderr

	results := filepath.Join(dir, "from-flag", "osqueryd.results.log")
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, _ := os.ReadFile(results)
		if strings.Contains(string(b), `"name":"one"`) && strings.Contains(string(b), `"columns":{"one":"1"},"action":"added"`) {
			break
		}
		select {
		case code := <-d.done:
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
	d.stop()
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

// TestDaemonDifferentialAcrossRestart: previous results outlive the
// process. A restart with unchanged results logs nothing; a restart with
// changed SQL logs only the difference against the stored results.
func TestDaemonDifferentialAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "osquery.conf")
	results := filepath.Join(dir, "log", "osqueryd.results.log")
	start := func(sql string) (stop func(), stderr *lockedBuffer) {
		config := `{"options":{"logger_plugin":"filesystem","schedule_splay_percent":0,"disable_syslog":true},
			"schedule":{"words":{"query":"` + sql + `","interval":1}}}`
		if err := os.WriteFile(conf, []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
		d := startDaemon(t, "--config_path", conf, "--database_path", filepath.Join(dir, "ev.db"), "--logger_path", filepath.Join(dir, "log"))
		return d.stop, d.stderr
	}
	lines := func() []string {
		b, _ := os.ReadFile(results)
		s := strings.TrimSuffix(string(b), "\n")
		if s == "" {
			return nil
		}
		return strings.Split(s, "\n")
	}
	waitLines := func(n int, stderr *lockedBuffer) []string {
		deadline := time.Now().Add(15 * time.Second)
		for len(lines()) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d result lines, want %d:\n%s\n%s", len(lines()), n, strings.Join(lines(), "\n"), stderr.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
		return lines()
	}
	suffix := func(l string) string { return l[strings.Index(l, `"counter"`):] }

	stop, se := start("SELECT 'a' AS w UNION SELECT 'b'")
	got := waitLines(2, se)
	time.Sleep(1500 * time.Millisecond) // more runs, same results: nothing logged
	stop()
	if got = lines(); len(got) != 2 || suffix(got[0]) != `"counter":0,"numerics":false,"columns":{"w":"a"},"action":"added"}` ||
		suffix(got[1]) != `"counter":0,"numerics":false,"columns":{"w":"b"},"action":"added"}` {
		t.Fatalf("first process:\n%s", strings.Join(got, "\n"))
	}

	stop, _ = start("SELECT 'a' AS w UNION SELECT 'b'")
	time.Sleep(2500 * time.Millisecond)
	stop()
	if got = lines(); len(got) != 2 {
		t.Fatalf("a restart with unchanged results logged:\n%s", strings.Join(got[2:], "\n"))
	}

	stop, se = start("SELECT 'b' AS w UNION SELECT 'c'")
	got = waitLines(4, se)
	stop()
	// Changed SQL: osquery resets the counter but still diffs against the
	// stored results.
	if suffix(got[2]) != `"counter":0,"numerics":false,"columns":{"w":"a"},"action":"removed"}` ||
		suffix(got[3]) != `"counter":0,"numerics":false,"columns":{"w":"c"},"action":"added"}` || len(got) != 4 {
		t.Fatalf("after restart with new SQL:\n%s", strings.Join(got, "\n"))
	}
}

// daemonRun is the daemon subcommand running in this process.
type daemonRun struct {
	t      *testing.T
	stderr *lockedBuffer
	done   chan int // its exit code
}

// startDaemon runs the daemon subcommand with args in this process.
func startDaemon(t *testing.T, args ...string) *daemonRun {
	d := &daemonRun{t: t, stderr: &lockedBuffer{}, done: make(chan int, 1)}
	go func() { d.done <- run(append([]string{"daemon"}, args...), io.Discard, d.stderr) }()
	return d
}

// stop ends the daemon with SIGINT and fails the test unless it exits 0.
func (d *daemonRun) stop() {
	d.t.Helper()
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		d.t.Fatal(err)
	}
	select {
	case code := <-d.done:
		if code != 0 {
			d.t.Fatalf("exit code %d after SIGINT:\n%s", code, d.stderr.String())
		}
	case <-time.After(20 * time.Second):
		d.t.Fatal("daemon did not stop on SIGINT")
	}
}

// TestDaemonSDKLogsFollowVerbose: the AWS SDK's messages (aws_debug logs
// every response, at debug level) go through the daemon's logger, so they
// reach osqueryd.INFO with --verbose and stay out of it without.
func TestDaemonSDKLogsFollowVerbose(t *testing.T) {
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KINESIS", "AWS_PROFILE", "AWS_REGION", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	k := awsfake.NewKinesis(t, "logs")
	for _, verbose := range []bool{true, false} {
		t.Run(fmt.Sprintf("verbose=%v", verbose), func(t *testing.T) {
			dir := t.TempDir()
			d := startDaemon(t, fmt.Sprintf("--verbose=%v", verbose), "--disable_syslog",
				"--database_path", filepath.Join(dir, "ev.db"), "--forwarder_queue_path", filepath.Join(dir, "q.db"),
				"--logger_plugin", "filesystem,kinesis", "--logger_path", filepath.Join(dir, "log"),
				"--aws_kinesis_stream", "logs", "--aws_kinesis_endpoint", k.URL(), "--aws_region", "us-east-1",
				"--aws_access_key_id", "AKIDTEST", "--aws_secret_access_key", "secret", "--aws_debug")
			info := filepath.Join(dir, "log", "osqueryd.INFO")
			deadline := time.Now().Add(15 * time.Second)
			for {
				// The stream's DescribeStreamSummary precedes "daemon running".
				b, _ := os.ReadFile(info)
				if strings.Contains(string(b), "daemon running") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("osqueryd.INFO never said the daemon runs:\n%s\n%s", b, d.stderr.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			d.stop()
			b, _ := os.ReadFile(info)
			const sdk = `level=DEBUG msg="aws sdk" component=kinesis detail=`
			if got := strings.Contains(string(b), sdk); got != verbose {
				t.Errorf("SDK debug message in osqueryd.INFO: %v, want %v:\n%s", got, verbose, b)
			}
			if got := strings.Contains(d.stderr.String(), `msg="aws sdk"`); got != verbose {
				t.Errorf("SDK debug message on stderr: %v, want %v:\n%s", got, verbose, d.stderr.String())
			}
		})
	}
}
