// Package rsyslog holds the rsyslog and syslog-ng configurations that feed
// osquery-syslog.ext's named pipe. This test-only package checks them: the
// osquery CSV format text against what osquery documents, each file with the
// real daemon's own configuration check, and each file end to end (a private
// daemon writes real messages into a test pipe, and the lines read back must
// be the six CSV fields osquery-syslog parses).
//
// rsyslogd comes from `make deps` (Debian's rsyslog package); syslog-ng from
// `make deps` too, unpacked under build/tools/syslog-ng without being
// installed, because Debian's syslog-ng conflicts with rsyslog. Outside CI a
// missing daemon skips its checks; with CI set it fails them.
package rsyslog

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// defaultPipe is the pipe path in the shipped files: osquery's and our
// --syslog_pipe_path default.
const defaultPipe = "/var/osquery/syslog_pipe"

// The osquery CSV format, exactly as osquery's syslog deployment docs give it.
const (
	osqueryTemplateV7 = `template(
  name="OsqueryCsvFormat"
  type="string"
  string="%timestamp:::date-rfc3339,csv%,%hostname:::csv%,%syslogseverity:::csv%,%syslogfacility-text:::csv%,%syslogtag:::csv%,%msg:::csv%\n"
)`
	osqueryTemplateLegacy = `$template OsqueryCsvFormat, "%timestamp:::date-rfc3339,csv%,%hostname:::csv%,%syslogseverity:::csv%,%syslogfacility-text:::csv%,%syslogtag:::csv%,%msg:::csv%\n"`
	osqueryActionLegacy   = `*.* |/var/osquery/syslog_pipe;OsqueryCsvFormat`

	syslogNgTemplate = `template("\"${ISODATE}\",\"${HOST}\",\"${LEVEL_NUM}\",\"${FACILITY}\",\"${PROGRAM}\",\"${CSVMESSAGE}\"\n");`
	syslogNgEscape   = `template_escape(no);`
	syslogNgSet      = `set("$MESSAGE" value("CSVMESSAGE"));`
	syslogNgSubst    = `subst("\"", "\"\"", value("CSVMESSAGE"), flags(global));`
)

var rsyslogFiles = []string{"osquery-syslog.conf", "osquery-syslog-legacy.conf"}

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// uncommented returns s without its comment lines.
func uncommented(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line)
		}
	}
	return b.String()
}

func TestFormatMatchesOsquery(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"osquery-syslog.conf", []string{osqueryTemplateV7, `type="ompipe"`, `Pipe="` + defaultPipe + `"`, `template="OsqueryCsvFormat"`}},
		{"osquery-syslog-legacy.conf", []string{osqueryTemplateLegacy + "\n" + osqueryActionLegacy + "\n"}},
		{"syslog-ng.conf", []string{syslogNgTemplate, syslogNgEscape, syslogNgSet, syslogNgSubst, `pipe("` + defaultPipe + `" template(t_osquery_csv));`, `rewrite(r_osquery_csv_message);`}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := uncommented(read(t, tt.file))
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s: missing (outside comments)\n%s", tt.file, w)
				}
			}
			if n := strings.Count(body, "/var/osquery/"); n != 1 {
				t.Errorf("%s: %d paths under /var/osquery/, want exactly the pipe once", tt.file, n)
			}
		})
	}
	// The v7 action's queue settings, which the README explains.
	body := uncommented(read(t, "osquery-syslog.conf"))
	for _, w := range []string{`queue.type="LinkedList"`, `queue.size="`, `queue.timeoutEnqueue="0"`, `action.resumeRetryCount="-1"`, `action.resumeInterval="`, `tryResumeReopen="on"`} {
		if !strings.Contains(body, w) {
			t.Errorf("osquery-syslog.conf: missing %s", w)
		}
	}
}

// tool finds a daemon binary, or skips (fails in CI) when there is none.
func tool(t *testing.T, candidates ...string) string {
	t.Helper()
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("none of %q found; run `make deps`", candidates)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func rsyslogd(t *testing.T) string {
	return tool(t, os.Getenv("RSYSLOGD"), "rsyslogd", "/usr/sbin/rsyslogd")
}

func syslogNg(t *testing.T) string {
	local := ""
	if root, err := repoRoot(); err == nil {
		local = filepath.Join(root, "build", "tools", "syslog-ng", "syslog-ng")
	}
	return tool(t, os.Getenv("SYSLOG_NG"), local, "syslog-ng", "/usr/sbin/syslog-ng")
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found")
		}
		dir = parent
	}
}

// shortTempDir is a temporary directory with a path short enough for unix
// socket names (108 bytes), which t.TempDir's long names can exceed.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "osq-rs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// withPipe returns the named shipped file with its pipe path replaced.
func withPipe(t *testing.T, name, pipe string) string {
	t.Helper()
	body := read(t, name)
	if !strings.Contains(body, defaultPipe) {
		t.Fatalf("%s does not mention %s", name, defaultPipe)
	}
	return strings.ReplaceAll(body, defaultPipe, pipe)
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRsyslogValidates(t *testing.T) {
	bin := rsyslogd(t)
	for _, name := range rsyslogFiles {
		t.Run(name, func(t *testing.T) {
			dir := shortTempDir(t)
			conf := filepath.Join(dir, "rsyslog.conf")
			writeFile(t, conf, withPipe(t, name, filepath.Join(dir, "syslog_pipe")))
			out, err := exec.CommandContext(t.Context(), bin, "-N1", "-f", conf).CombinedOutput()
			if err != nil {
				t.Fatalf("rsyslogd -N1 -f %s: %v\n%s", name, err, out)
			}
			// rsyslog reports some problems without failing the run.
			if bytes.Contains(bytes.ToLower(out), []byte("error")) || bytes.Contains(out, []byte("warning")) {
				t.Fatalf("rsyslogd -N1 -f %s complained:\n%s", name, out)
			}
		})
	}
}

func TestSyslogNgValidates(t *testing.T) {
	bin := syslogNg(t)
	dir := shortTempDir(t)
	conf := filepath.Join(dir, "syslog-ng.conf")
	writeFile(t, conf, syslogNgConfig(t, dir))
	out, err := exec.CommandContext(t.Context(), bin, "--syntax-only", "-f", conf).CombinedOutput()
	if err != nil {
		t.Fatalf("syslog-ng --syntax-only: %v\n%s", err, out)
	}
}

// syslogNgConfig is a whole syslog-ng configuration around the shipped
// snippet: the version line and the s_src source it reads (a private socket
// here) come from the main configuration in real installations.
func syslogNgConfig(t *testing.T, dir string) string {
	return "@version: 3.38\n" +
		`source s_src { unix-dgram("` + filepath.Join(dir, "log.sock") + `"); };` + "\n" +
		withPipe(t, "syslog-ng.conf", filepath.Join(dir, "syslog_pipe"))
}

// message is one syslog message sent to the daemon and the CSV fields
// expected back.
type message struct {
	pri      int // facility*8 + severity
	tag      string
	text     string
	severity string
	facility string
}

var messages = []message{
	{pri: 4*8 + 6, tag: "sshd[4242]", text: "Accepted publickey for alice from 203.0.113.7 port 52814 ssh2", severity: "6", facility: "auth"},
	{pri: 1*8 + 3, tag: "myapp", text: `config "main.yml", line 3: unknown key "colour"`, severity: "3", facility: "user"},
	{pri: 9*8 + 6, tag: "CRON[16538]", text: "(root) CMD (   cd / && run-parts --report /etc/cron.hourly)", severity: "6", facility: "cron"},
}

// daemonCase runs a daemon that reads a datagram socket and writes the pipe.
type daemonCase struct {
	name    string
	start   func(t *testing.T, dir string) *exec.Cmd
	wantTag func(m message) string // the tag field as this daemon writes it
}

func TestDeliversOsqueryCSV(t *testing.T) {
	var cases []daemonCase
	for _, name := range rsyslogFiles {
		cases = append(cases, daemonCase{
			name: name,
			start: func(t *testing.T, dir string) *exec.Cmd {
				bin := rsyslogd(t)
				work := filepath.Join(dir, "work")
				if err := os.Mkdir(work, 0o755); err != nil {
					t.Fatal(err)
				}
				conf := filepath.Join(dir, "rsyslog.conf")
				writeFile(t, conf, fmt.Sprintf(`global(workDirectory=%q maxMessageSize="256k")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket=%q RateLimit.Interval="0")
`, work, filepath.Join(dir, "log.sock"))+withPipe(t, name, filepath.Join(dir, "syslog_pipe")))
				return exec.Command(bin, "-n", "-f", conf, "-i", filepath.Join(dir, "rsyslog.pid"))
			},
			// rsyslog's syslogtag keeps the trailing ':' (osquery-syslog strips one).
			wantTag: func(m message) string { return m.tag + ":" },
		})
	}
	cases = append(cases, daemonCase{
		name: "syslog-ng.conf",
		start: func(t *testing.T, dir string) *exec.Cmd {
			bin := syslogNg(t)
			conf := filepath.Join(dir, "syslog-ng.conf")
			writeFile(t, conf, syslogNgConfig(t, dir))
			return exec.Command(bin, "-F", "--no-caps", "-f", conf,
				"--persist-file", filepath.Join(dir, "persist"),
				"--pidfile", filepath.Join(dir, "syslog-ng.pid"),
				"--control", filepath.Join(dir, "ctl"))
		},
		// ${PROGRAM} is the program name alone: no pid, no ':'.
		wantTag: func(m message) string { name, _, _ := strings.Cut(m.tag, "["); return name },
	})

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := shortTempDir(t)
			pipe := filepath.Join(dir, "syslog_pipe")
			if err := syscall.Mkfifo(pipe, 0o600); err != nil {
				t.Fatal(err)
			}
			// Read-write, as osquery-syslog opens it: never blocks, never EOF.
			fifo, err := os.OpenFile(pipe, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer fifo.Close()

			cmd := tc.start(t, dir)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			defer func() {
				_ = cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					_ = cmd.Process.Kill()
					<-done
				}
				if t.Failed() {
					t.Logf("daemon output:\n%s", out.String())
				}
			}()

			sock := filepath.Join(dir, "log.sock")
			waitFor(t, done, func() bool { _, err := os.Stat(sock); return err == nil })

			// A token per run tells our lines from the daemon's own messages.
			token := "t" + strconv.FormatInt(time.Now().UnixNano(), 36)
			conn, err := net.Dial("unixgram", sock)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for _, m := range messages {
				// What glibc's syslog(3) sends to a local socket.
				dgram := fmt.Sprintf("<%d>%s %s: %s %s", m.pri, time.Now().Format(time.Stamp), m.tag, token, m.text)
				if _, err := conn.Write([]byte(dgram)); err != nil {
					t.Fatal(err)
				}
			}

			got := readLines(t, fifo, token, len(messages))
			for i, m := range messages {
				checkLine(t, got[i], m, tc.wantTag(m), token)
			}
		})
	}
}

// waitFor polls cond until it holds; it fails if the daemon exits first.
func waitFor(t *testing.T, exited <-chan error, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		select {
		case err := <-exited:
			t.Fatalf("daemon exited while starting: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("daemon did not open its socket in time")
		}
	}
}

// readLines reads pipe lines until n of them contain token.
func readLines(t *testing.T, fifo *os.File, token string, n int) []string {
	t.Helper()
	if err := fifo.SetReadDeadline(time.Now().Add(15 * time.Second)); err != nil {
		t.Fatalf("pipe read deadline: %v", err)
	}
	r := bufio.NewReader(fifo)
	var got []string
	for len(got) < n {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the pipe after %d of %d lines: %v", len(got), n, err)
		}
		if strings.Contains(line, token) {
			got = append(got, line)
		}
	}
	return got
}

func checkLine(t *testing.T, line string, m message, wantTag, token string) {
	t.Helper()
	if !strings.HasSuffix(line, "\n") || strings.Count(line, "\n") != 1 {
		t.Errorf("record is not one line: %q", line)
	}
	// Every field quoted, inner quotes doubled: plain CSV.
	rec, err := csv.NewReader(strings.NewReader(line)).Read()
	if err != nil {
		t.Errorf("not CSV: %v: %q", err, line)
		return
	}
	if len(rec) != 6 {
		t.Errorf("%d fields, want 6: %q", len(rec), line)
		return
	}
	if !strings.HasPrefix(line, `"`) || strings.Count(line, `","`) < 5 {
		t.Errorf("fields not all quoted: %q", line)
	}
	datetime, host, severity, facility, tag, msg := rec[0], rec[1], rec[2], rec[3], rec[4], rec[5]
	if _, err := time.Parse(time.RFC3339Nano, datetime); err != nil {
		t.Errorf("datetime %q is not RFC 3339: %v", datetime, err)
	}
	if host == "" {
		t.Errorf("empty host: %q", line)
	}
	if severity != m.severity || facility != m.facility || tag != wantTag {
		t.Errorf("severity, facility, tag = %q, %q, %q; want %q, %q, %q\nline: %q", severity, facility, tag, m.severity, m.facility, wantTag, line)
	}
	// osquery trims the fields; rsyslog keeps the space after the tag's ':'.
	if want := token + " " + m.text; strings.TrimSpace(msg) != want {
		t.Errorf("message = %q, want %q", strings.TrimSpace(msg), want)
	}
}
