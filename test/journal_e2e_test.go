package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/osquery-syslog/osquery-syslog/tables/journal/journalcheck"
	"github.com/osquery-syslog/osquery-syslog/test/journaltest"
	"github.com/osquery-syslog/osquery-syslog/test/osquerytest"
)

func writeJournal(t *testing.T, path string, es []journaltest.Entry) {
	t.Helper()
	if err := journaltest.WriteJournal(path, es); err != nil {
		t.Fatal(err)
	}
}

func readJournal(t *testing.T, dir string) []journaltest.Entry {
	t.Helper()
	es, err := journaltest.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// Under osqueryd: journal_messages is registered with its schema, every field
// of a few thousand generated entries comes back exactly (as journalctl reads
// the same files), the pushed-down constraints answer, appends arrive, and
// the journal row of osquery_syslog_stats counts them.
func TestJournalThroughOsqueryd(t *testing.T) {
	journaltest.Require(t)
	e := newEnv(t)
	jdir := filepath.Join(e.dir, "journal")
	writeJournal(t, filepath.Join(jdir, "system.journal"), journaltest.Generate(3000, 11))
	_, _ = e.start(t, "--disable_syslog", "--journal_path", jdir, "--journal_since", "all")

	types := eventedColumnTypes(t, e.mgr, "journal_messages")
	want := map[string]string{"time": "BIGINT", "event_time": "BIGINT", "event_time_usec": "BIGINT",
		"host": "TEXT", "severity": "INTEGER", "facility": "TEXT", "tag": "TEXT", "identifier": "TEXT",
		"pid": "BIGINT", "uid": "BIGINT", "gid": "BIGINT", "comm": "TEXT", "exe": "TEXT", "cmdline": "TEXT",
		"systemd_unit": "TEXT", "boot_id": "TEXT", "transport": "TEXT", "message": "TEXT", "cursor": "TEXT",
		"fields": "TEXT", "truncated": "INTEGER", "eid": "BIGINT"}
	for n, typ := range want {
		if types[n] != typ {
			t.Errorf("journal_messages.%s is %q, want %s", n, types[n], typ)
		}
	}
	if len(types) != len(want) {
		t.Errorf("journal_messages columns %v, want %v", types, want)
	}

	entries := readJournal(t, jdir)
	if len(entries) != 3000 {
		t.Fatalf("journalctl reads %d entries, want 3000", len(entries))
	}
	ctx := callCtx(t)
	var rows []map[string]string
	var err error
	eventually(t, time.Minute, "every entry", func() error {
		rows, err = e.mgr.Select(ctx, "journal_messages")
		if err != nil {
			return err
		}
		if len(rows) != len(entries) {
			return fmt.Errorf("%d rows, journalctl reads %d", len(rows), len(entries))
		}
		return nil
	})
	checkRowKeys(t, e.mgr, "journal_messages", rows[0])
	bad := 0
	for i, w := range entries {
		if d := journalcheck.Diff(w, rows[i]); len(d) > 0 {
			t.Errorf("entry %d differs:\n  %s", i, strings.Join(d, "\n  "))
			if bad++; bad > 5 {
				t.FailNow()
			}
		}
		ident := string(w["SYSLOG_IDENTIFIER"])
		if ident == "" {
			ident = string(w["_COMM"])
		}
		pid := string(w["SYSLOG_PID"])
		if pid == "" {
			pid = string(w["_PID"])
		}
		wantTag := ident
		if ident != "" && pid != "" {
			wantTag += "[" + pid + "]"
		}
		if rows[i]["tag"] != wantTag || rows[i]["truncated"] != "0" {
			t.Errorf("entry %d: tag %q truncated %q, want %q and 0", i, rows[i]["tag"], rows[i]["truncated"], wantTag)
		}
	}

	// Pushed-down equality and ranges give what the oracle says.
	count := func(pred func(journaltest.Entry) bool) int {
		n := 0
		for _, w := range entries {
			if pred(w) {
				n++
			}
		}
		return n
	}
	sample := entries[7]
	eq := func(col, field string) []osquerytest.Constraint {
		return []osquerytest.Constraint{{Column: col, Op: osquerytest.OpEquals, Expr: string(sample[field])}}
	}
	sameAs := func(field string) int {
		return count(func(w journaltest.Entry) bool { return string(w[field]) == string(sample[field]) })
	}
	t0, _ := strconv.ParseInt(rows[1000]["event_time"], 10, 64)
	t1, _ := strconv.ParseInt(rows[2000]["event_time"], 10, 64)
	eid2000 := rows[1999]["eid"]
	for _, tc := range []struct {
		name string
		cons []osquerytest.Constraint
		want int
	}{
		{"systemd_unit", eq("systemd_unit", "_SYSTEMD_UNIT"), sameAs("_SYSTEMD_UNIT")},
		{"host", eq("host", "_HOSTNAME"), sameAs("_HOSTNAME")},
		{"identifier", eq("identifier", "SYSLOG_IDENTIFIER"), sameAs("SYSLOG_IDENTIFIER")},
		{"boot_id", eq("boot_id", "_BOOT_ID"), sameAs("_BOOT_ID")},
		{"event_time range", []osquerytest.Constraint{
			{Column: "event_time", Op: osquerytest.OpGreaterThanOrEquals, Expr: strconv.FormatInt(t0, 10)},
			{Column: "event_time", Op: osquerytest.OpLessThan, Expr: strconv.FormatInt(t1, 10)}},
			count(func(w journaltest.Entry) bool {
				us, _ := strconv.ParseInt(string(w[journaltest.FieldRealtime]), 10, 64)
				return us/1e6 >= t0 && us/1e6 < t1
			})},
		{"eid", []osquerytest.Constraint{{Column: "eid", Op: osquerytest.OpGreaterThan, Expr: eid2000}}, 1000},
	} {
		got, err := e.mgr.Select(ctx, "journal_messages", tc.cons...)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tc.want || tc.want == 0 {
			t.Errorf("%s: %d rows, want %d (> 0)", tc.name, len(got), tc.want)
		}
	}

	// Appends while running arrive.
	writeJournal(t, filepath.Join(jdir, "system.journal"), journaltest.Generate(200, 12))
	eventually(t, time.Minute, "appended entries", func() error {
		rows, err := e.mgr.Select(ctx, "journal_messages", osquerytest.Constraint{Column: "eid", Op: osquerytest.OpGreaterThan, Expr: rows[len(rows)-1]["eid"]})
		if err != nil {
			return err
		}
		if len(rows) != 200 {
			return fmt.Errorf("%d new rows, want 200", len(rows))
		}
		return nil
	})
	eventually(t, time.Minute, "journal stats", func() error {
		st, err := e.mgr.Select(ctx, "osquery_syslog_stats", osquerytest.Constraint{Column: "source", Op: osquerytest.OpEquals, Expr: "journal"})
		if err != nil {
			return err
		}
		if len(st) != 1 || st[0]["lines_read"] != "3200" || st[0]["state"] != "reading" || st[0]["gaps"] != "0" || st[0]["bytes_read"] == "0" {
			return fmt.Errorf("stats %v", st)
		}
		return nil
	})
}

// journalDaemon prepares a daemon that reads the journal directory journal/
// of a new directory into its own buffer.
func journalDaemon(t *testing.T) (dir, jdir, db string, argv []string) {
	t.Helper()
	dir = osquerytest.ShortTempDir(t)
	jdir = filepath.Join(dir, "journal")
	db = filepath.Join(dir, "buffer.db")
	argv = []string{extBin, "daemon", "--database_path", db, "--disable_syslog",
		"--journal_path", jdir, "--journal_since", "all"}
	return dir, jdir, db, argv
}

func journalCount(t *testing.T, db string) int {
	rows := runQuery(t, db, `SELECT count(*) AS n FROM journal_messages`)
	n, _ := strconv.Atoi(rows[0]["n"])
	return n
}

func journalCountIs(t *testing.T, db string, want int) func() error {
	return func() error {
		if n := journalCount(t, db); n != want {
			return fmt.Errorf("%d rows, want %d", n, want)
		}
		return nil
	}
}

// checkJournalOnce compares the stored cursors with journalctl's entries:
// each exactly once, nothing else.
func checkJournalOnce(t *testing.T, db, jdir string) {
	t.Helper()
	time.Sleep(500 * time.Millisecond) // duplicates would come now
	if rows := runQuery(t, db, `SELECT cursor, count(*) AS n FROM journal_messages GROUP BY cursor HAVING n > 1`); len(rows) != 0 {
		t.Fatalf("%d entries stored more than once, e.g. %v", len(rows), rows[0])
	}
	stored := map[string]bool{}
	for _, r := range runQuery(t, db, `SELECT cursor FROM journal_messages`) {
		stored[r["cursor"]] = true
	}
	entries := readJournal(t, jdir)
	for i, e := range entries {
		if !stored[string(e[journaltest.FieldCursor])] {
			t.Fatalf("entry %d (%s) lost", i, e[journaltest.FieldCursor])
		}
	}
	if len(stored) != len(entries) {
		t.Fatalf("%d stored, journalctl reads %d", len(stored), len(entries))
	}
}

// The daemon reads the journal across a rotation while it runs, a restart
// with appends while it is down, and a kill -9 in the middle of a stream of
// appends: every entry once. Then the file holding its last entry is
// vacuumed while it is down: it resumes at the oldest entry left and counts
// the gap.
func TestJournalRestartKillAndVacuum(t *testing.T) {
	journaltest.Require(t)
	dir, jdir, db, argv := journalDaemon(t)
	cur := filepath.Join(jdir, "system.journal")
	writeJournal(t, cur, journaltest.Generate(1000, 21))
	p := startProcess(t, dir, argv)
	eventually(t, time.Minute, "first entries", journalCountIs(t, db, 1000))

	// Rotation while running: the file is archived, a new one begins.
	if _, err := journaltest.Archive(cur); err != nil {
		t.Fatal(err)
	}
	writeJournal(t, cur, journaltest.Generate(500, 22))
	eventually(t, time.Minute, "entries across the rotation", journalCountIs(t, db, 1500))

	if code := p.terminate(30 * time.Second); code != 0 {
		t.Fatalf("daemon exit code %d", code)
	}
	writeJournal(t, cur, journaltest.Generate(300, 23))
	p = startProcess(t, dir, argv)
	eventually(t, time.Minute, "entries after the restart", journalCountIs(t, db, 1800))
	checkJournalOnce(t, db, jdir)

	// kill -9 while appends stream in.
	const bursts, per = 20, 500
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for b := range bursts {
			if err := journaltest.WriteJournal(cur, journaltest.Generate(per, int64(100+b))); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	deadline := time.Now().Add(time.Minute)
	for journalCount(t, db) < 1800+bursts*per/4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
	atKill := journalCount(t, db)
	<-writerDone
	if atKill >= 1800+bursts*per {
		t.Fatalf("all entries were stored before the kill: not mid-stream")
	}
	t.Logf("killed with %d of %d entries stored", atKill, 1800+bursts*per)
	p = startProcess(t, dir, argv)
	eventually(t, time.Minute, "every entry after the kill", journalCountIs(t, db, 1800+bursts*per))
	checkJournalOnce(t, db, jdir)

	// Vacuum while down: the files holding everything stored so far go.
	if code := p.terminate(30 * time.Second); code != 0 {
		t.Fatalf("daemon exit code %d", code)
	}
	if _, err := journaltest.Archive(cur); err != nil {
		t.Fatal(err)
	}
	old, err := filepath.Glob(filepath.Join(jdir, "*@*.journal"))
	if err != nil || len(old) < 2 {
		t.Fatalf("archived files %v, %v", old, err)
	}
	writeJournal(t, cur, journaltest.Generate(100, 31))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	total := 1800 + bursts*per + 100
	p = startProcess(t, dir, argv)
	eventually(t, time.Minute, "entries after the vacuum", journalCountIs(t, db, total))
	entries := readJournal(t, jdir)
	rows := runQuery(t, db, `SELECT cursor FROM journal_messages ORDER BY eid DESC LIMIT 100`)
	for i, r := range rows {
		if w := string(entries[len(entries)-1-i][journaltest.FieldCursor]); r["cursor"] != w {
			t.Fatalf("row %d from the end: cursor %s, want %s", i, r["cursor"], w)
		}
	}
	eventually(t, time.Minute, "the gap counted", func() error {
		st := runQuery(t, db, `SELECT gaps, state FROM osquery_syslog_stats WHERE source = 'journal'`)
		if len(st) != 1 || st[0]["gaps"] != "1" || st[0]["state"] != "reading" {
			return fmt.Errorf("stats %v, want gaps 1", st)
		}
		return nil
	})
	if code := p.terminate(30 * time.Second); code != 0 {
		t.Errorf("daemon exit code %d", code)
	}
}

// Bad journal flag values fail the start-up, naming the flag: exit 2 for a
// value that does not parse, 1 for a journal directory that is not there.
func TestJournalBadFlags(t *testing.T) {
	for _, tc := range []struct {
		flag, value string
		code        int
	}{
		{"--journal_since", "yesterday", 2},
		{"--journal_match", "_TRANSPORT", 2},
		{"--journal_match", "lower=case", 2},
		{"--journal_units", "ssh service", 2},
		{"--journal_max_line", "10", 2},
		{"--journal_events_max", "-1", 2},
		{"--journal_path", "/nonexistent/journal", 1},
	} {
		t.Run(tc.flag+"="+tc.value, func(t *testing.T) {
			dir := osquerytest.ShortTempDir(t)
			p := startProcess(t, dir, []string{extBin, "daemon", "--database_path", filepath.Join(dir, "b.db"), "--disable_syslog", tc.flag, tc.value})
			if code := p.waitExit(30 * time.Second); code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			// The flag package itself names it with one dash.
			if !strings.Contains(p.logs(), "-"+strings.TrimLeft(tc.flag, "-")) {
				t.Errorf("error does not name %s:\n%s", tc.flag, p.logs())
			}
		})
	}
}

// Forensics: the query subcommand reads a copied journal directory given
// with --journal_path (from its oldest entry), with no daemon and without
// touching --database_path.
func TestJournalQueryCopiedJournal(t *testing.T) {
	journaltest.Require(t)
	dir := osquerytest.ShortTempDir(t)
	jdir := filepath.Join(dir, "evidence", "journal")
	writeJournal(t, filepath.Join(jdir, "system.journal"), journaltest.Generate(300, 41))
	db := filepath.Join(dir, "none.db")
	entries := readJournal(t, jdir)
	rows := runQueryArgs(t, []string{"--journal_path", jdir}, db,
		`SELECT count(*) AS n, count(DISTINCT cursor) AS c, min(event_time_usec) AS first FROM journal_messages`)
	if len(rows) != 1 || rows[0]["n"] != "300" || rows[0]["c"] != "300" || rows[0]["first"] != string(entries[0][journaltest.FieldRealtime]) {
		t.Errorf("rows %v, want 300 distinct entries from %s", rows, entries[0][journaltest.FieldRealtime])
	}
	unit := string(entries[3]["_SYSTEMD_UNIT"])
	want := 0
	for _, e := range entries {
		if string(e["_SYSTEMD_UNIT"]) == unit {
			want++
		}
	}
	rows = runQueryArgs(t, []string{"--journal_path", jdir}, db,
		`SELECT count(*) AS n FROM journal_messages WHERE systemd_unit = '`+unit+`'`)
	if rows[0]["n"] != strconv.Itoa(want) {
		t.Errorf("unit %s: %v, want %d", unit, rows, want)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("--database_path was created: %v", err)
	}
}
