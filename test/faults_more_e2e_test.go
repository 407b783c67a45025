package test

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/osquery-syslog/osquery-syslog/test/awsfake"
	"github.com/osquery-syslog/osquery-syslog/test/osquerytest"
)

// faultReport prints the one line per scenario that `make faults` collects:
// what was sent, how many distinct items arrived, the extra copies, and
// what never arrived.
func faultReport(t *testing.T, scenario string, sent, delivered, duplicated, lost int, note string) {
	t.Helper()
	t.Logf("FAULT %-22s sent=%d delivered=%d duplicated=%d lost=%d %s", scenario, sent, delivered, duplicated, lost, note)
}

// TestFaultMalformedFlood: 100,000 malformed lines (not CSV, wrong field
// counts, NUL bytes and invalid UTF-8, unterminated quotes, empty lines, and
// 100 lines of 100 KiB)
// around 10,000 good ones. Every good line is stored exactly once, every
// malformed one is counted, and ingestion goes on afterwards.
func TestFaultMalformedFlood(t *testing.T) {
	e := newEnv(t)
	e.start(t)
	waitFIFO(t, e.pipe)
	f := openPipe(t, e.pipe)

	long := strings.Repeat("x", 100<<10)
	malformed := []string{
		"garbage without any structure",
		"\x00\x01\x02\xff\xfe binary \x00 junk",
		`"2026-01-02T03:04:05+00:00","h","6"`,
		`"2026-01-02T03:04:05+00:00","h","6","user","t:","m","x","y"`,
		`"2026-01-02T03:04:05+00:00","h","6","user","unterminated, quote,x`, // five fields
		"",
	}
	const good, bad = 10000, 100000
	lines := make([]string, 0, good+bad)
	g := 0
	for i := 0; i < good+bad; i++ {
		if i%11 == 0 && g < good {
			lines = append(lines, csvLine("2026-01-02T03:04:05.000000+00:00", "flood-host", "6", "user", "flood:", fmt.Sprintf("good %05d", g)))
			g++
			continue
		}
		if i%1000 == 1 { // 100 lines over --syslog_max_line
			lines = append(lines, `"`+long)
			continue
		}
		lines = append(lines, malformed[i%len(malformed)])
	}
	for g < good {
		lines = append(lines, csvLine("2026-01-02T03:04:05.000000+00:00", "flood-host", "6", "user", "flood:", fmt.Sprintf("good %05d", g)))
		g++
	}
	nbad := len(lines) - good
	writeLines(t, f, lines...)
	writeLines(t, f, csvLine("2026-01-02T03:04:06.000000+00:00", "flood-host", "6", "user", "after-flood:", "still ingesting"))

	ctx := callCtx(t)
	eventually(t, 3*time.Minute, "the line after the flood", func() error {
		rows, err := tagged(ctx, e.mgr, "after-flood")
		if err != nil {
			return err
		}
		if len(rows) != 1 {
			return fmt.Errorf("%d rows", len(rows))
		}
		return nil
	})
	rows, err := tagged(ctx, e.mgr, "flood")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]int{}
	for _, r := range rows {
		var n int
		if _, err := fmt.Sscanf(r["message"], "good %05d", &n); err != nil {
			t.Fatalf("unexpected row %v", r)
		}
		seen[n]++
	}
	lost, dup, extra := lostDup(seen, good)
	st, err := syslogStats(ctx, e.mgr)
	if err != nil {
		t.Fatal(err)
	}
	faultReport(t, "malformed-flood", good, len(seen), dup, lost, fmt.Sprintf("(%d malformed lines; parse_errors=%s truncated_lines=%s rows_buffered=%s)", nbad, st["parse_errors"], st["truncated_lines"], st["rows_buffered"]))
	if lost != 0 || dup != 0 || extra != 0 {
		t.Fatalf("good lines: lost %d, duplicated %d, unknown %d of %d", lost, dup, extra, good)
	}
	// Empty lines are skipped without counting; every other malformed
	// line is a parse error, and those over --syslog_max_line are also
	// counted as truncated.
	empty, nlong := 0, 0
	for _, l := range lines {
		switch {
		case l == "":
			empty++
		case len(l) > 64<<10:
			nlong++
		}
	}
	if want := strconv.Itoa(nbad - empty); st["parse_errors"] != want {
		t.Errorf("parse_errors %s, want %s (malformed %d: %d empty, %d too long): %v", st["parse_errors"], want, nbad, empty, nlong, st)
	}
	if want := strconv.Itoa(nlong); st["truncated_lines"] != want {
		t.Errorf("truncated_lines %s, want %s: %v", st["truncated_lines"], want, st)
	}
	// Nothing but the good lines and the one after the flood became rows.
	if want := strconv.Itoa(good + 1); st["rows_buffered"] != want {
		t.Errorf("rows_buffered %s, want %s: %v", st["rows_buffered"], want, st)
	}
}

// mountTmpfs mounts a tmpfs of size bytes on a new directory: a file system
// that really fills up (ENOSPC), without Docker. It needs root, like
// scripts/deps.sh.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := osquerytest.ShortTempDir(t)
	mnt := filepath.Join(dir, "small")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", mnt).CombinedOutput()
	if err != nil {
		t.Fatalf("mounting a %d-byte tmpfs for the disk-full drill (needs root): %v: %s", size, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	return mnt
}

// TestFaultDiskFull: the logger plugins' queue lives on an 8 MiB file system
// that another file fills up to its last 1 MiB, while the sink is down.
// Logger calls succeed until the disk is full, then fail with a clear error
// (osqueryd keeps the line); nothing already accepted is lost or corrupted:
// once the sink is back every accepted line arrives exactly once, the queue
// passes SQLite's integrity check, and once the other file is gone logging
// works again.
func TestFaultDiskFull(t *testing.T) {
	const stream = "osquery_results"
	mnt := mountTmpfs(t, 8<<20)
	k := awsfake.NewKinesis(t, stream)
	e := newEnv(t)
	queuePath := filepath.Join(mnt, "queue.db")
	flags := kinesisFakeFlags(e, k, stream, "--aws_kinesis_aggregate=false")
	for i, f := range flags {
		if f == "--forwarder_queue_path" {
			flags[i+1] = queuePath
		}
	}
	p, _ := e.start(t, flags...)
	defer p.terminate(30 * time.Second)
	k.Down(0, awsfake.DownRefuse)
	filler := filepath.Join(mnt, "filler")
	var fs syscall.Statfs_t
	if err := syscall.Statfs(mnt, &fs); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filler, make([]byte, int64(fs.Bavail)*int64(fs.Bsize)-1<<20), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx := t.Context()
	accepted := 0
	var failMsg string
	for i := 0; i < 200000; i++ {
		code, msg, err := e.mgr.CallLogger(ctx, "kinesis", map[string]string{"string": resultLine(i), "category": "event"})
		if err != nil {
			t.Fatalf("logger call %d: %v", i, err)
		}
		if code != 0 {
			failMsg = msg
			break
		}
		accepted++
	}
	if failMsg == "" {
		t.Fatalf("%d logger calls fit in a 2 MiB file system", accepted)
	}
	t.Logf("disk full after %d lines: %q", accepted, failMsg)
	if !strings.Contains(failMsg, "full") {
		t.Errorf("the error does not say the disk is full: %q", failMsg)
	}
	// More calls while full fail the same way; the extension stays up.
	for i := 0; i < 10; i++ {
		code, _, err := e.mgr.CallLogger(ctx, "kinesis", map[string]string{"string": resultLine(accepted), "category": "event"})
		if err != nil {
			t.Fatal(err)
		}
		if code == 0 {
			accepted++ // space freed up (a WAL checkpoint): the line is queued
		}
	}
	if !p.running() {
		t.Fatalf("the extension exited on a full disk\n%s", p.logs())
	}

	k.Up()
	waitLines(accepted, 90*time.Second, func() int { return len(kinesisCounts(t, k.Records(stream))) })
	time.Sleep(2 * time.Second)
	seen := kinesisCounts(t, k.Records(stream))
	lost, dup, extra := lostDup(seen, accepted)
	faultReport(t, "disk-full-queue", accepted, len(seen)-extra, dup, lost, fmt.Sprintf("(then refused with %q)", failMsg))
	if lost != 0 || extra != 0 {
		t.Fatalf("lost %d, unknown %d of %d accepted lines\n%s", lost, extra, accepted, p.logs())
	}
	if dup != 0 {
		t.Errorf("%d duplicates", dup)
	}

	// The other file goes away: logging works again.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "logging after the disk has room again", func() error {
		code, msg, err := e.mgr.CallLogger(ctx, "kinesis", map[string]string{"string": resultLine(accepted), "category": "event"})
		if err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("code %d: %s", code, msg)
		}
		return nil
	})
	waitLines(accepted+1, 30*time.Second, func() int { return len(kinesisCounts(t, k.Records(stream))) })
	if got := len(kinesisCounts(t, k.Records(stream))); got != accepted+1 {
		t.Errorf("%d distinct lines after logging again, want %d", got, accepted+1)
	}

	// Nothing corrupted: SQLite's own check of the queue file, read-only
	// beside the running extension.
	db, err := sql.Open("sqlite3", "file:"+queuePath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil {
		t.Fatal(err)
	}
	if check != "ok" {
		t.Fatalf("queue integrity_check: %s", check)
	}
}

// TestFaultOsquerydRestart: osqueryd restarts (socket gone, registrations
// lost) while syslog lines stream in and syslog_messages is queried without
// pause. Ingestion does not depend on osqueryd: every line is stored exactly
// once, and queries answer again after the extension re-registers.
func TestFaultOsquerydRestart(t *testing.T) {
	e := newEnv(t)
	p, _ := e.start(t)
	waitFIFO(t, e.pipe)
	f := openPipe(t, e.pipe)
	ctx := callCtx(t)

	const n = 20000
	var written atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // 20,000 lines over about 10 s
		defer wg.Done()
		for i := 0; i < n; i += 100 {
			batch := make([]string, 0, 100)
			for j := i; j < i+100; j++ {
				batch = append(batch, csvLine("2026-01-02T03:04:05.000000+00:00", "restart-host", "6", "user", "restart:", fmt.Sprintf("line %05d", j)))
			}
			writeLines(t, f, batch...)
			written.Add(100)
			time.Sleep(50 * time.Millisecond)
		}
	}()
	var okQ, failQ atomic.Int64
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // queries without pause
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := e.mgr.Select(ctx, "syslog_messages", osquerytest.Constraint{Column: "host", Op: osquerytest.OpEquals, Expr: "restart-host"}); err != nil {
				failQ.Add(1)
				time.Sleep(50 * time.Millisecond)
			} else {
				okQ.Add(1)
			}
		}
	}()

	for written.Load() < n/3 {
		time.Sleep(10 * time.Millisecond)
	}
	if err := e.mgr.Restart(); err != nil {
		t.Fatal(err)
	}
	okBefore := okQ.Load()
	waitRegistered(t, e.mgr, p, 2*time.Minute)
	for written.Load() < n {
		time.Sleep(10 * time.Millisecond)
	}
	// Let the querier run past the re-registration.
	deadline := time.Now().Add(30 * time.Second)
	for okQ.Load() <= okBefore+3 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if okQ.Load() <= okBefore {
		t.Fatalf("no query answered after the restart (%d answered before, %d failed)", okBefore, failQ.Load())
	}

	var seen map[int]int
	eventually(t, 2*time.Minute, "every line", func() error {
		rows, err := tagged(ctx, e.mgr, "restart")
		if err != nil {
			return err
		}
		seen = map[int]int{}
		for _, r := range rows {
			var i int
			if _, err := fmt.Sscanf(r["message"], "line %05d", &i); err != nil {
				return fmt.Errorf("unexpected row %v", r)
			}
			seen[i]++
		}
		if len(seen) < n {
			return fmt.Errorf("%d of %d lines", len(seen), n)
		}
		return nil
	})
	lost, dup, extra := lostDup(seen, n)
	faultReport(t, "osqueryd-restart", n, len(seen)-extra, dup, lost, fmt.Sprintf("(%d queries answered, %d failed during the restart)", okQ.Load(), failQ.Load()))
	if lost != 0 || dup != 0 || extra != 0 {
		t.Fatalf("lost %d, duplicated %d, unknown %d of %d", lost, dup, extra, n)
	}
	if !p.running() {
		t.Fatal("the extension exited")
	}
}
