package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/osquery-syslog/osquery-syslog/test/osquerytest"
)

func appendLog(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		t.Fatal(err)
	}
}

func logLines(gen string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s %d", gen, i))
	}
	return out
}

// logfileDaemon prepares a daemon that follows logs/*.log of a new
// directory into its own buffer, polling every poll: it returns the
// directory, the buffer, the log file logs/app.log and argv.
func logfileDaemon(t *testing.T, poll string) (dir, db, app string, argv []string) {
	t.Helper()
	dir = osquerytest.ShortTempDir(t)
	logs := filepath.Join(dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	db = filepath.Join(dir, "buffer.db")
	app = filepath.Join(logs, "app.log")
	argv = []string{extBin, "daemon", "--database_path", db, "--disable_syslog",
		"--logfile_paths", filepath.Join(logs, "*.log"), "--logfile_poll_interval", poll}
	return dir, db, app, argv
}

// The daemon follows a log file through a rename rotation while it runs, a
// rotation and appends while it is stopped, and a copytruncate; query reads
// logfile_lines: every line exactly once, numbered within its generation.
func TestLogfileRotationAndRestart(t *testing.T) {
	dir, db, app, argv := logfileDaemon(t, "100ms")

	countIs := func(want int) func() error {
		return func() error {
			rows := runQuery(t, db, `SELECT count(*) AS n FROM logfile_lines`)
			if len(rows) != 1 || rows[0]["n"] != strconv.Itoa(want) {
				return fmt.Errorf("rows %v, want %d", rows, want)
			}
			return nil
		}
	}

	appendLog(t, app, logLines("g1", 0, 100)...)
	p := startProcess(t, dir, argv)
	eventually(t, time.Minute, "first 100 lines", countIs(100))

	// Rename rotation while running, with lines the daemon has not read yet.
	appendLog(t, app, logLines("g1", 100, 150)...)
	if err := os.Rename(app, app+".1"); err != nil {
		t.Fatal(err)
	}
	appendLog(t, app, logLines("g2", 0, 50)...)
	eventually(t, time.Minute, "lines across the rotation", countIs(200))

	if code := p.terminate(30 * time.Second); code != 0 {
		t.Fatalf("daemon exit code %d", code)
	}
	// While it is down: more lines, a rotation, a new file.
	appendLog(t, app, logLines("g2", 50, 70)...)
	if err := os.Rename(app, app+".2"); err != nil {
		t.Fatal(err)
	}
	appendLog(t, app, logLines("g3", 0, 10)...)

	p = startProcess(t, dir, argv)
	eventually(t, time.Minute, "lines after the restart", countIs(230))

	// copytruncate once the daemon has read everything.
	if err := os.Truncate(app, 0); err != nil {
		t.Fatal(err)
	}
	appendLog(t, app, logLines("g4", 0, 5)...)
	eventually(t, time.Minute, "lines after copytruncate", countIs(235))

	rows := runQuery(t, db, `SELECT path, line, message, offset, inode, truncated, eid FROM logfile_lines ORDER BY eid`)
	want := map[string]int{"g1": 150, "g2": 70, "g3": 10, "g4": 5}
	next := map[string]int{}
	for _, r := range rows {
		gen, _, _ := strings.Cut(r["message"], " ")
		if r["message"] != fmt.Sprintf("%s %d", gen, next[gen]) {
			t.Fatalf("row %v: want %s %d next (each line once, in order)", r, gen, next[gen])
		}
		if r["line"] != strconv.Itoa(next[gen]+1) || r["path"] != app || r["truncated"] != "0" {
			t.Errorf("row %v: want line %d, path %s", r, next[gen]+1, app)
		}
		next[gen]++
	}
	for gen, n := range want {
		if next[gen] != n {
			t.Errorf("generation %s: %d lines, want %d", gen, next[gen], n)
		}
	}

	// Pushed-down constraints answer through the store.
	if got := runQuery(t, db, `SELECT count(*) AS n FROM logfile_lines WHERE path = '`+app+`' AND eid > 200`); got[0]["n"] != "35" {
		t.Errorf("path+eid constraint: %v, want 35", got)
	}
	var stats []map[string]string
	eventually(t, time.Minute, "logfile stats persisted", func() error {
		stats = runQuery(t, db, `SELECT rotations, lines_read FROM osquery_syslog_stats WHERE source = 'logfile'`)
		if len(stats) != 1 || stats[0]["rotations"] != "2" {
			return fmt.Errorf("stats %v, want 2 rotations since the restart", stats)
		}
		return nil
	})
	if code := p.terminate(30 * time.Second); code != 0 {
		t.Errorf("daemon exit code %d", code)
	}
}

func TestLogfileBadFlag(t *testing.T) {
	dir := osquerytest.ShortTempDir(t)
	p := startProcess(t, dir, []string{extBin, "daemon", "--database_path", filepath.Join(dir, "b.db"), "--disable_syslog", "--logfile_paths", "/var/log/[x"})
	if code := p.waitExit(30 * time.Second); code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	if !strings.Contains(p.logs(), "--logfile_paths") {
		t.Errorf("error does not name the flag:\n%s", p.logs())
	}
}

// Under osqueryd: logfile_lines is registered with its schema and answers
// generate calls with osquery's constraint JSON, path pushed down.
func TestLogfileThroughOsqueryd(t *testing.T) {
	e := newEnv(t)
	logs := filepath.Join(e.dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(logs, "a.log"), filepath.Join(logs, "b.log")
	appendLog(t, a, "alpha one", "alpha two")
	appendLog(t, b, "beta one")
	_, _ = e.start(t, "--logfile_paths", filepath.Join(logs, "*.log"), "--logfile_poll_interval", "100ms")

	types := eventedColumnTypes(t, e.mgr, "logfile_lines")
	want := map[string]string{"path": "TEXT", "line": "BIGINT", "time": "BIGINT", "message": "TEXT",
		"offset": "BIGINT", "inode": "BIGINT", "truncated": "INTEGER", "eid": "BIGINT"}
	if len(types) != len(want) {
		t.Errorf("logfile_lines columns %v, want %v", types, want)
	}
	for n, typ := range want {
		if types[n] != typ {
			t.Errorf("logfile_lines.%s is %q, want %s", n, types[n], typ)
		}
	}

	ctx := callCtx(t)
	var rows []map[string]string
	var err error
	eventually(t, time.Minute, "rows of a.log", func() error {
		rows, err = e.mgr.Select(ctx, "logfile_lines", osquerytest.Constraint{Column: "path", Op: osquerytest.OpEquals, Expr: a})
		if err != nil {
			return err
		}
		if len(rows) != 2 {
			return fmt.Errorf("%d rows: %v", len(rows), rows)
		}
		return nil
	})
	if rows[0]["message"] != "alpha one" || rows[1]["message"] != "alpha two" || rows[1]["line"] != "2" || rows[1]["offset"] != "10" {
		t.Errorf("rows %v", rows)
	}
	checkRowKeys(t, e.mgr, "logfile_lines", rows[0])
}

// kill -9 while the daemon ingests a growing, rotating log: positions are
// stored with their rows, so after a restart every line is there exactly
// once.
func TestLogfileKillDashNine(t *testing.T) {
	dir, db, app, argv := logfileDaemon(t, "50ms")
	count := func() int {
		rows := runQuery(t, db, `SELECT count(*) AS n FROM logfile_lines`)
		n, _ := strconv.Atoi(rows[0]["n"])
		return n
	}

	p := startProcess(t, dir, argv)
	eventually(t, time.Minute, "buffer created", func() error {
		_, err := os.Stat(db)
		return err
	})
	// The writer: 40 bursts of 500 lines, 150 ms apart, rotating before
	// bursts 5 and 20. The kill comes once a quarter is stored (the
	// generation begun at burst 5 has been seen, so its position is
	// saved); the rotation at 20 comes before or after it, as timing goes
	// (TestLogfileRotationAndRestart rotates while down for sure). (A generation created and rotated away while it is down could
	// not be found by any tailer: the test keeps to one rotation there.)
	const bursts, per = 40, 500
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for b := range bursts {
			if b == 5 || b == 20 {
				if err := os.Rename(app, fmt.Sprintf("%s.%d", app, b)); err != nil {
					t.Error(err)
					return
				}
			}
			appendLog(t, app, logLines(fmt.Sprintf("b%02d", b), 0, per)...)
			time.Sleep(150 * time.Millisecond)
		}
	}()
	deadline := time.Now().Add(time.Minute)
	for count() < bursts*per/4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
	atKill := count()
	<-writerDone
	if atKill >= bursts*per {
		t.Fatalf("all lines were stored before the kill: not mid-stream")
	}
	t.Logf("killed with %d of %d lines stored", atKill, bursts*per)

	p = startProcess(t, dir, argv)
	eventually(t, time.Minute, "every line after the restart", func() error {
		if n := count(); n < bursts*per {
			return fmt.Errorf("%d rows", n)
		}
		return nil
	})
	time.Sleep(500 * time.Millisecond) // duplicates would come now
	rows := runQuery(t, db, `SELECT message, count(*) AS n FROM logfile_lines GROUP BY message HAVING n > 1`)
	if len(rows) != 0 {
		t.Fatalf("%d lines stored more than once, e.g. %v", len(rows), rows[0])
	}
	if n := count(); n != bursts*per {
		t.Fatalf("%d rows, want %d", n, bursts*per)
	}
	if code := p.terminate(30 * time.Second); code != 0 {
		t.Errorf("daemon exit code %d", code)
	}
}
