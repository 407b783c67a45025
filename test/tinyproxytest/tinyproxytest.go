// Package tinyproxytest runs a private tinyproxy (Debian package tinyproxy)
// on a free loopback port for tests, and reads from its log which requests
// went through it.
//
// tinyproxy forwards to loopback destinations and, with no ConnectPort line
// in its config, allows CONNECT to any port; its Allow list only restricts
// clients (here 127.0.0.1 and ::1).
package tinyproxytest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options configure the proxy.
type Options struct {
	// User and Password, when set, require proxy basic authentication.
	User, Password string
}

// Proxy is a running tinyproxy.
type Proxy struct {
	port     int
	dir      string
	logPath  string
	cmd      *exec.Cmd
	done     chan struct{}
	waitErr  error
	stopOnce sync.Once
}

// Request is one request line tinyproxy logged.
type Request struct {
	Method string // CONNECT, GET, POST, ...
	Target string // absolute URL, or host:port for CONNECT
}

// Binary returns the tinyproxy executable (TINYPROXY overrides).
func Binary() (string, error) {
	if p := os.Getenv("TINYPROXY"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("tinyproxy"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("tinyproxy not found (apt-get install -y tinyproxy)")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Start runs tinyproxy in the foreground (-d) with a config, log and pid
// file in dir, and waits until it accepts connections.
func Start(ctx context.Context, dir string, o Options) (*Proxy, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	var lastErr error
	for range 3 { // the free port may be taken before tinyproxy binds it
		p, err := start(ctx, bin, dir, o)
		if err == nil {
			return p, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func start(ctx context.Context, bin, dir string, o Options) (*Proxy, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &Proxy{port: port, dir: dir, logPath: filepath.Join(dir, "tinyproxy.log"), done: make(chan struct{})}
	os.Remove(p.logPath)
	var conf strings.Builder
	fmt.Fprintf(&conf, "Port %d\nListen 127.0.0.1\nTimeout 60\n", port)
	fmt.Fprintf(&conf, "LogFile %q\nLogLevel Info\nPidFile %q\n", p.logPath, filepath.Join(dir, "tinyproxy.pid"))
	conf.WriteString("MaxClients 50\nAllow 127.0.0.1\nAllow ::1\nDisableViaHeader Yes\n")
	// No User line: tinyproxy warns and keeps the current user, so the
	// log and pid files in dir stay writable.
	if o.User != "" {
		fmt.Fprintf(&conf, "BasicAuth %s %s\n", o.User, o.Password)
	}
	confPath := filepath.Join(dir, "tinyproxy.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o600); err != nil {
		return nil, err
	}
	p.cmd = exec.Command(bin, "-d", "-c", confPath)
	out, err := os.Create(filepath.Join(dir, "tinyproxy.out"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	p.cmd.Stdout, p.cmd.Stderr = out, out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting tinyproxy: %w", err)
	}
	go func() { p.waitErr = p.cmd.Wait(); close(p.done) }()

	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.Addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return p, nil
		}
		select {
		case <-p.done:
			b, _ := os.ReadFile(filepath.Join(dir, "tinyproxy.out"))
			l, _ := os.ReadFile(p.logPath)
			return nil, fmt.Errorf("tinyproxy exited: %v\n%s%s", p.waitErr, b, l)
		case <-ctx.Done():
			p.Stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("tinyproxy not listening on %s: %v", p.Addr(), err)
		}
	}
}

// StartT starts a proxy for a test in a temporary folder and stops it when
// the test ends. It skips the test when tinyproxy is missing, unless
// TINYPROXY_REQUIRED is set (CI sets it).
func StartT(tb testing.TB, o Options) *Proxy {
	tb.Helper()
	if _, err := Binary(); err != nil && os.Getenv("TINYPROXY_REQUIRED") == "" {
		tb.Skip(err)
	}
	p, err := Start(context.Background(), tb.TempDir(), o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Stop)
	return p
}

// Host is the proxy's address (127.0.0.1).
func (p *Proxy) Host() string { return "127.0.0.1" }

// Port is the proxy's port.
func (p *Proxy) Port() int { return p.port }

// Addr is host:port.
func (p *Proxy) Addr() string { return net.JoinHostPort(p.Host(), strconv.Itoa(p.port)) }

// URL is the proxy URL (http://127.0.0.1:port).
func (p *Proxy) URL() string { return "http://" + p.Addr() }

// Log returns tinyproxy's log so far.
func (p *Proxy) Log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// Requests parses the log for the request lines tinyproxy received, e.g.
// "Request (file descriptor 5): POST http://127.0.0.1:4567/ HTTP/1.1".
func (p *Proxy) Requests() ([]Request, error) {
	f, err := os.Open(p.logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Request
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.Index(line, "Request (file descriptor ")
		if i < 0 {
			continue
		}
		rest := line[i:]
		j := strings.Index(rest, "): ")
		if j < 0 {
			continue
		}
		fields := strings.Fields(rest[j+3:])
		if len(fields) < 2 {
			continue
		}
		out = append(out, Request{Method: fields[0], Target: fields[1]})
	}
	return out, sc.Err()
}

// WaitRequests polls the log until it holds at least n requests or timeout
// passes, and returns what it holds.
func (p *Proxy) WaitRequests(n int, timeout time.Duration) []Request {
	deadline := time.Now().Add(timeout)
	for {
		reqs, _ := p.Requests()
		if len(reqs) >= n || time.Now().After(deadline) {
			return reqs
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop ends tinyproxy and waits for it.
func (p *Proxy) Stop() {
	p.stopOnce.Do(func() {
		if p.cmd == nil || p.cmd.Process == nil {
			return
		}
		pgid := -p.cmd.Process.Pid
		syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(3 * time.Second):
			syscall.Kill(pgid, syscall.SIGKILL)
			<-p.done
		}
	})
}
