package test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/osquery-syslog/osquery-syslog/test/osquerytest"
)

// extBin is the osquery-syslog.ext TestMain builds.
var extBin string

const extensionName = "osquery-syslog"

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

// binEnv names a prebuilt binary to test instead of building ./extension
// (e.g. build/osquery-syslog.ext from make build).
const binEnv = "OSQUERY_SYSLOG_EXT"

func runMain(m *testing.M) int {
	if p := os.Getenv(binEnv); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		extBin = abs
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "oqbin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	extBin = filepath.Join(dir, "osquery-syslog.ext")
	args := []string{"build", "-tags", "sqlite_vtable"}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "-o", extBin, "./extension")
	cmd := exec.Command(goBin(), args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the extension (go %s in %s): %v\n%s", strings.Join(args, " "), root, err, out)
		return 1
	}
	return m.Run()
}

func goBin() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// moduleRoot is the directory of go.mod, found from the package directory
// go test runs in.
func moduleRoot() (string, error) {
	out, err := exec.Command(goBin(), "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}

// process is a running osquery-syslog.ext.
type process struct {
	t       *testing.T
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	waitErr error
}

// startExtension launches the extension exactly as osqueryd autoloads it
// (argv from osquerytest.LaunchArgs, verbose), plus our own flags.
func startExtension(t *testing.T, mgr *osquerytest.Manager, db, pipe string, extra ...string) *process {
	t.Helper()
	argv := osquerytest.LaunchArgs(extBin, mgr.Socket(), true)
	argv = append(argv, "--database_path", db, "--syslog_pipe_path", pipe)
	argv = append(argv, extra...)
	return startProcess(t, filepath.Dir(db), argv)
}

func startProcess(t *testing.T, logDir string, argv []string) *process {
	t.Helper()
	logf, err := os.CreateTemp(logDir, "ext-*.log")
	if err != nil {
		t.Fatal(err)
	}
	p := &process{t: t, logPath: logf.Name(), done: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Stdout = logf
	p.cmd.Stderr = logf
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("starting %v: %v", argv, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	t.Logf("started pid %d: %s", p.cmd.Process.Pid, strings.Join(argv, " "))
	t.Cleanup(func() {
		if p.running() {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(20 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
		if strings.Contains(p.logs(), "WARNING: DATA RACE") {
			t.Errorf("the extension (pid %d) reported a data race", p.cmd.Process.Pid)
		}
		if t.Failed() {
			t.Logf("extension pid %d output (%s):\n%s", p.cmd.Process.Pid, strings.Join(argv[1:], " "), p.logs())
		}
	})
	return p
}

func (p *process) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// logs returns the end of the process's output.
func (p *process) logs() string {
	b, _ := os.ReadFile(p.logPath)
	const max = 64 << 10
	if len(b) > max {
		return "[...]\n" + string(b[len(b)-max:])
	}
	return string(b)
}

// waitExit waits for the process to exit and returns its exit code.
func (p *process) waitExit(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("pid %d still running after %s", p.cmd.Process.Pid, timeout)
	}
	var ee *exec.ExitError
	if p.waitErr != nil && !errors.As(p.waitErr, &ee) {
		p.t.Fatalf("waiting for pid %d: %v", p.cmd.Process.Pid, p.waitErr)
	}
	st := p.cmd.ProcessState
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		p.t.Errorf("pid %d killed by %v", p.cmd.Process.Pid, ws.Signal())
		return -1
	}
	return st.ExitCode()
}

// terminate sends SIGTERM and returns the exit code.
func (p *process) terminate(timeout time.Duration) int {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatalf("SIGTERM: %v", err)
	}
	return p.waitExit(timeout)
}

// eventually retries f every 250 ms until it succeeds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %s: %v", what, timeout, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// callCtx bounds one harness call.
func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// waitRegistered waits for the extension to register and serve.
func waitRegistered(t *testing.T, mgr *osquerytest.Manager, p *process, timeout time.Duration) osquerytest.ExtensionInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	type result struct {
		info osquerytest.ExtensionInfo
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		info, err := mgr.WaitExtension(ctx, extensionName)
		ch <- result{info, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("extension did not register: %v (registrations: %+v)", r.err, mgr.Registrations())
		}
		return r.info
	case <-p.done:
		cancel()
		t.Fatalf("extension exited before registering: %v", p.waitErr)
	}
	return osquerytest.ExtensionInfo{}
}

// waitFIFO waits until the extension has created its pipe.
func waitFIFO(t *testing.T, path string) {
	t.Helper()
	eventually(t, 30*time.Second, "pipe "+path, func() error {
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		if fi.Mode()&os.ModeNamedPipe == 0 {
			return fmt.Errorf("%s is %v, not a FIFO", path, fi.Mode())
		}
		return nil
	})
}

// openPipe opens the pipe for writing. Read-write, so it never blocks on a
// missing reader; the test never reads from it.
func openPipe(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// writeLines writes CSV lines (without newlines) into the pipe.
func writeLines(t *testing.T, f *os.File, lines ...string) {
	t.Helper()
	w := bufio.NewWriterSize(f, 64<<10)
	for _, l := range lines {
		w.WriteString(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		t.Fatalf("writing to the pipe: %v", err)
	}
}

// csvLine renders the six fields as rsyslog's osquery template does.
func csvLine(fields ...string) string {
	var b bytes.Buffer
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + strings.ReplaceAll(f, `"`, `""`) + `"`)
	}
	return b.String()
}

// tagged returns the syslog_messages rows with tag = tag, as osqueryd would
// after SQLite re-checks the constraints.
func tagged(ctx context.Context, mgr *osquerytest.Manager, tag string, more ...osquerytest.Constraint) ([]map[string]string, error) {
	cons := append([]osquerytest.Constraint{{Column: "tag", Op: osquerytest.OpEquals, Expr: tag}}, more...)
	return mgr.Select(ctx, "syslog_messages", cons...)
}

// syslogStats returns the osquery_syslog_stats row of the syslog source.
func syslogStats(ctx context.Context, mgr *osquerytest.Manager) (map[string]string, error) {
	rows, err := mgr.Select(ctx, "osquery_syslog_stats", osquerytest.Constraint{Column: "source", Op: osquerytest.OpEquals, Expr: "syslog"})
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("%d stats rows for source syslog", len(rows))
	}
	return rows[0], nil
}

// eventedColumnTypes returns the column types osqueryd registered for an
// evented table, and fails the test unless eid, and only eid, is hidden.
func eventedColumnTypes(t *testing.T, mgr *osquerytest.Manager, table string) map[string]string {
	t.Helper()
	cols, err := mgr.Columns(table)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, c := range cols {
		types[c.Name] = c.Type
		if c.Hidden() != (c.Name == "eid") {
			t.Errorf("%s.%s hidden = %v", table, c.Name, c.Hidden())
		}
	}
	return types
}
