// Package rsyslogtest runs a private rsyslogd for tests and local runs: an
// imuxsock input on its own socket (the system socket untouched), the CSV
// template osquery documents, and an ompipe action into a named pipe - the
// exact path a production rsyslog uses to feed osquery-syslog. Messages are
// sent with the real util-linux logger.
package rsyslogtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Template is the rsyslog v7+ template osquery documents for its syslog
// pipe (docs/wiki/deployment/syslog.md), verbatim.
const Template = `template(
  name="OsqueryCsvFormat"
  type="string"
  string="%timestamp:::date-rfc3339,csv%,%hostname:::csv%,%syslogseverity:::csv%,%syslogfacility-text:::csv%,%syslogtag:::csv%,%msg:::csv%\n"
)`

// Config describes a private rsyslog instance.
type Config struct {
	// WorkDir holds rsyslog's state (workDirectory).
	WorkDir string
	// Socket is the imuxsock input socket that logger writes to.
	Socket string
	// Pipe is the named pipe the ompipe action writes into.
	Pipe string
	// Extra is appended to the generated configuration.
	Extra string
}

// Render returns the rsyslog configuration for c:
//   - maxMessageSize 256k, so 60 KiB messages pass whole;
//   - imuxsock with the system socket off and rate limiting disabled on the
//     private input;
//   - osquery's CSV template;
//   - an ompipe action with its own LinkedList queue, retried forever every
//     second and reopening the pipe on resume, so nothing is dropped while
//     the reader starts or restarts (ompipe opens the FIFO read-write and
//     never blocks, but suspends when the pipe is missing or full).
func (c Config) Render() string {
	var b strings.Builder
	fmt.Fprintf(&b, "global(workDirectory=%s maxMessageSize=\"256k\")\n", quote(c.WorkDir))
	b.WriteString("module(load=\"imuxsock\" SysSock.Use=\"off\")\n")
	fmt.Fprintf(&b, "input(type=\"imuxsock\" Socket=%s CreatePath=\"on\" RateLimit.Interval=\"0\" RateLimit.Burst=\"1000000\")\n", quote(c.Socket))
	b.WriteString(Template)
	b.WriteString("\n")
	fmt.Fprintf(&b, "*.* action(type=\"ompipe\" Pipe=%s template=\"OsqueryCsvFormat\"\n", quote(c.Pipe))
	b.WriteString("  queue.type=\"LinkedList\" queue.size=\"100000\"\n")
	b.WriteString("  action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\" tryResumeReopen=\"on\")\n")
	if c.Extra != "" {
		b.WriteString(c.Extra)
		b.WriteString("\n")
	}
	return b.String()
}

// quote renders a RainerScript string constant.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// Option adjusts a Config before rsyslog starts.
type Option func(*Config)

// WithExtra appends configuration text.
func WithExtra(conf string) Option { return func(c *Config) { c.Extra += conf + "\n" } }

// Rsyslog is a running private rsyslogd.
type Rsyslog struct {
	Config
	ConfPath string
	PidFile  string
	LogPath  string // rsyslogd's own stdout and stderr

	cmd      *exec.Cmd
	logFile  *os.File
	done     chan struct{}
	waitErr  error
	stopOnce sync.Once
}

// Binary returns rsyslogd's path: from PATH, else the Debian location.
func Binary() (string, error) {
	if p, err := exec.LookPath("rsyslogd"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/rsyslogd", "/sbin/rsyslogd"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("rsyslogd not found (Debian: apt-get install -y rsyslog)")
}

// Start writes a config into dir (socket dir/log.sock, state in dir),
// validates it with rsyslogd -N1, runs rsyslogd -n (foreground) and waits
// for the input socket. Keep dir short: a unix socket path must fit in 108
// bytes. pipePath need not exist yet: ompipe retries until it does.
func Start(dir, pipePath string, opts ...Option) (*Rsyslog, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	r := &Rsyslog{
		Config:   Config{WorkDir: dir, Socket: filepath.Join(dir, "log.sock"), Pipe: pipePath},
		ConfPath: filepath.Join(dir, "rsyslog.conf"),
		PidFile:  filepath.Join(dir, "rsyslogd.pid"),
		LogPath:  filepath.Join(dir, "rsyslogd.log"),
		done:     make(chan struct{}),
	}
	for _, o := range opts {
		o(&r.Config)
	}
	if len(r.Socket) > 100 {
		return nil, fmt.Errorf("socket path %s is too long for a unix socket", r.Socket)
	}
	if err := os.WriteFile(r.ConfPath, []byte(r.Render()), 0o644); err != nil {
		return nil, err
	}
	if out, err := exec.Command(bin, "-N1", "-f", r.ConfPath).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("rsyslogd -N1 rejects %s: %v\n%s", r.ConfPath, err, out)
	}
	r.logFile, err = os.Create(r.LogPath)
	if err != nil {
		return nil, err
	}
	r.cmd = exec.Command(bin, "-n", "-f", r.ConfPath, "-i", r.PidFile)
	r.cmd.Stdout = r.logFile
	r.cmd.Stderr = r.logFile
	if err := r.cmd.Start(); err != nil {
		r.logFile.Close()
		return nil, fmt.Errorf("starting rsyslogd: %w", err)
	}
	go func() {
		r.waitErr = r.cmd.Wait()
		r.logFile.Close()
		close(r.done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if fi, err := os.Stat(r.Socket); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return r, nil
		}
		select {
		case <-r.done:
			return nil, fmt.Errorf("rsyslogd exited before creating %s: %v\n%s", r.Socket, r.waitErr, r.Logs())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			r.Stop()
			return nil, fmt.Errorf("rsyslogd did not create %s within 30s\n%s", r.Socket, r.Logs())
		}
	}
}

// StartT is Start in a short temporary directory, stopped (and its output
// logged on failure) when the test ends.
func StartT(t testing.TB, pipePath string, opts ...Option) *Rsyslog {
	t.Helper()
	dir, err := os.MkdirTemp(os.TempDir(), "rs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	r, err := Start(dir, pipePath, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Stop()
		if t.Failed() {
			t.Logf("rsyslogd output:\n%s", r.Logs())
		}
	})
	return r
}

// Logs returns what rsyslogd printed.
func (r *Rsyslog) Logs() string {
	b, _ := os.ReadFile(r.LogPath)
	return string(b)
}

// Running reports whether rsyslogd is still running.
func (r *Rsyslog) Running() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// Stop terminates rsyslogd (SIGTERM, then SIGKILL after 10 s) and waits.
func (r *Rsyslog) Stop() error {
	r.stopOnce.Do(func() {
		if r.cmd == nil || r.cmd.Process == nil {
			return
		}
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			_ = r.cmd.Process.Kill()
			<-r.done
		}
	})
	return nil
}

// SendOptions are logger's tag and priority.
type SendOptions struct {
	Tag      string // -t; default "osquerytest"
	Priority string // -p facility.severity; default "user.notice"
	PID      bool   // --id: the tag becomes tag[pid]
}

// maxArg keeps a message argument well under Linux's 128 KiB per-argument
// limit; longer single-line messages go through stdin.
const maxArg = 100 << 10

// Send logs msg with the real util-linux logger to the private socket:
// logger -u SOCK --size 262144 -t TAG -p PRIO -- MSG.
//
// logger sends nothing for an empty argument (or empty stdin), so an empty
// message is sent as one empty line on stdin, which logger does send. A
// message too long for an argument is sent as one stdin line (it must not
// contain a newline then). Either way the message bytes arrive unchanged;
// rsyslog then prefixes the msg property with the space after "tag:" and
// escapes control characters (#011 for TAB, #012 for LF).
func (r *Rsyslog) Send(ctx context.Context, msg string, o SendOptions) error {
	if o.Tag == "" {
		o.Tag = "osquerytest"
	}
	if o.Priority == "" {
		o.Priority = "user.notice"
	}
	args := []string{"-u", r.Socket, "--socket-errors=on", "--size", "262144", "-t", o.Tag, "-p", o.Priority}
	if o.PID {
		args = append(args, "--id")
	}
	var stdin *strings.Reader
	switch {
	case msg == "":
		stdin = strings.NewReader("\n")
	case len(msg) > maxArg:
		if strings.ContainsAny(msg, "\n") {
			return errors.New("a message over 100 KiB must be a single line")
		}
		stdin = strings.NewReader(msg + "\n")
	default:
		args = append(args, "--", msg)
	}
	cmd := exec.CommandContext(ctx, "logger", args...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("logger: %v: %s", err, out.String())
	}
	return nil
}
