package rsyslogtest

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// csvField renders a field as rsyslog's csv property option does: wrapped in
// quotes, inner quotes doubled, nothing else escaped.
func csvField(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

var prefixRE = regexp.MustCompile(`^"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d","([^",]+)",`)

// A plain FIFO reader (no extension): every message arrives as one CSV line
// in osquery's documented format.
func TestMessagesArriveAsCSVLines(t *testing.T) {
	dir, err := os.MkdirTemp(os.TempDir(), "rsp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	pipe := filepath.Join(dir, "syslog_pipe")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Fatal(err)
	}
	// Read-write, like the extension: open never blocks, and the pipe
	// never reports EOF while rsyslog reopens it.
	f, err := os.OpenFile(pipe, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	lines := make(chan string, 1000)
	go func() {
		br := bufio.NewReaderSize(f, 1<<20)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				close(lines)
				return
			}
			lines <- line
		}
	}()

	r := StartT(t, pipe)
	big := strings.Repeat("0123456789abcdef", 60<<10/16) // 60 KiB
	cases := []struct {
		tag, msg string
		want     string // the msg field after rsyslog, before CSV quoting
	}{
		{"quotes", `he said "hi" and ""twice""`, ` he said "hi" and ""twice""`},
		{"commas", `a,b,,c,`, ` a,b,,c,`},
		{"backslash", `C:\dir\ \\x \"q\" end\`, ` C:\dir\ \\x \"q\" end\`},
		{"utf8", "héllo wörld 日本語 🙂", " héllo wörld 日本語 🙂"},
		{"control", "tab\there\nnext", " tab#011here#012next"},
		{"empty", "", " "},
		{"big", big, " " + big},
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	for _, c := range cases {
		if err := r.Send(ctx, c.msg, SendOptions{Tag: c.tag, Priority: "local3.warning"}); err != nil {
			t.Fatal(err)
		}
	}

	got := map[string]string{}
	host := ""
	for len(got) < len(cases) {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("pipe reader stopped")
			}
			m := prefixRE.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("line without timestamp/host prefix: %.200q", line)
				continue
			}
			if host == "" {
				host = m[1]
			} else if m[1] != host {
				t.Errorf("host changed from %q to %q", host, m[1])
			}
			rest := line[len(m[0]):]
			for _, c := range cases {
				p := `"4","local3",` + csvField(c.tag+":") + ","
				if strings.HasPrefix(rest, p) {
					got[c.tag] = rest[len(p):]
				}
			}
		case <-ctx.Done():
			t.Fatalf("got %d of %d lines; rsyslogd output:\n%s", len(got), len(cases), r.Logs())
		}
	}
	for _, c := range cases {
		if want := csvField(c.want) + "\n"; got[c.tag] != want {
			t.Errorf("%s: msg field\n got %.300q\nwant %.300q", c.tag, got[c.tag], want)
		}
	}
	if h, _ := os.Hostname(); host != strings.SplitN(h, ".", 2)[0] {
		t.Logf("rsyslog host %q, os.Hostname %q", host, h)
	}
}

func TestRenderedConfigIsValid(t *testing.T) {
	c := Config{WorkDir: "/w d", Socket: `/s"q.sock`, Pipe: "/p"}
	conf := c.Render()
	for _, want := range []string{
		Template,
		`global(workDirectory="/w d" maxMessageSize="256k")`,
		`module(load="imuxsock" SysSock.Use="off")`,
		`Socket="/s\"q.sock"`,
		`RateLimit.Interval="0"`,
		`*.* action(type="ompipe" Pipe="/p" template="OsqueryCsvFormat"`,
		`action.resumeRetryCount="-1"`,
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("config lacks %q:\n%s", want, conf)
		}
	}
}
