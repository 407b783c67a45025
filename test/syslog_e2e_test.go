package test

// End-to-end tests of osquery-syslog.ext as osqueryd runs it: launched with
// osqueryd's argv, registered with the osquerytest fake osqueryd (the real
// Thrift protocol), fed by a private rsyslogd through the named pipe, and
// queried with the exact generate requests osqueryd sends.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
	"github.com/osquery-syslog/osquery-syslog/test/osquerytest"
	"github.com/osquery-syslog/osquery-syslog/test/rsyslogtest"
)

type env struct {
	mgr  *osquerytest.Manager
	dir  string
	db   string
	pipe string
}

func newEnv(t *testing.T) env {
	dir := osquerytest.ShortTempDir(t)
	return env{
		mgr:  osquerytest.New(t, osquerytest.Options{}),
		dir:  dir,
		db:   filepath.Join(dir, "buffer.db"),
		pipe: filepath.Join(dir, "syslog_pipe"),
	}
}

// start launches the extension and waits until it serves its tables.
func (e env) start(t *testing.T, extra ...string) (*process, osquerytest.ExtensionInfo) {
	t.Helper()
	p := startExtension(t, e.mgr, e.db, e.pipe, extra...)
	info := waitRegistered(t, e.mgr, p, 90*time.Second)
	return p, info
}

var (
	rfc3339RE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$`)
	intRE     = regexp.MustCompile(`^-?\d+$`)
)

// checkSchema compares the broadcast tables with the contract.
func checkSchema(t *testing.T, mgr *osquerytest.Manager, info osquerytest.ExtensionInfo) {
	t.Helper()
	for _, forbidden := range []string{"syslog_events", "syslog", "asl", "unified_log"} {
		if _, ok := info.Routes["table"][forbidden]; ok {
			t.Errorf("extension registers built-in table name %s", forbidden)
		}
	}
	type col struct{ name, typ string }
	want := map[string][]col{
		"syslog_messages": {
			{"time", "BIGINT"}, {"datetime", "TEXT"}, {"host", "TEXT"}, {"severity", "INTEGER"},
			{"facility", "TEXT"}, {"tag", "TEXT"}, {"message", "TEXT"}, {"event_time", "BIGINT"},
			{"truncated", "INTEGER"}, {"eid", "BIGINT"},
		},
		"osquery_syslog_stats": {
			{"source", "TEXT"}, {"lines_read", "BIGINT"}, {"bytes_read", "BIGINT"}, {"parse_errors", "BIGINT"},
			{"truncated_lines", "BIGINT"}, {"rows_buffered", "BIGINT"}, {"rows_expired", "BIGINT"},
			{"last_error", "TEXT"}, {"last_error_time", "BIGINT"}, {"updated_time", "BIGINT"},
		},
	}
	for table, wantCols := range want {
		cols, err := mgr.Columns(table)
		if err != nil {
			t.Errorf("table %s: %v", table, err)
			continue
		}
		got := map[string]osquerytest.Column{}
		for _, c := range cols {
			got[c.Name] = c
		}
		for _, w := range wantCols {
			c, ok := got[w.name]
			switch {
			case !ok:
				t.Errorf("%s lacks column %s", table, w.name)
			case c.Type != w.typ:
				t.Errorf("%s.%s is %s, want %s", table, w.name, c.Type, w.typ)
			}
		}
		if table == "syslog_messages" {
			if len(cols) != len(wantCols) {
				t.Errorf("syslog_messages has columns %v, want exactly %v", cols, wantCols)
			}
			for _, c := range cols {
				if c.Name == "eid" {
					if c.Op != osquerytest.ColumnHidden|osquerytest.ColumnAdditional {
						t.Errorf("eid options %d, want hidden+additional (20)", c.Op)
					}
				} else if c.Hidden() {
					t.Errorf("syslog_messages.%s is hidden", c.Name)
				}
			}
		}
	}
}

// checkRowKeys: every key a declared column or "rowid" (which osqueryd takes
// as the row's SQLite rowid; the evented tables put their eid there), every
// visible column present.
func checkRowKeys(t *testing.T, mgr *osquerytest.Manager, table string, row map[string]string) {
	t.Helper()
	cols, err := mgr.Columns(table)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, c := range cols {
		declared[c.Name] = true
		if _, ok := row[c.Name]; !ok && !c.Hidden() {
			t.Errorf("%s row lacks column %s: %v", table, c.Name, row)
		}
	}
	for k := range row {
		if !declared[k] && k != tablekit.RowIDKey {
			t.Errorf("%s row has undeclared key %q", table, k)
		}
	}
	if id, ok := row[tablekit.RowIDKey]; ok && declared["eid"] && id != row["eid"] {
		t.Errorf("%s row has rowid %q, want its eid %q", table, id, row["eid"])
	}
}

// (a) rsyslog + logger -> pipe -> extension -> osqueryd-style generate.
func TestSyslogThroughRsyslog(t *testing.T) {
	e := newEnv(t)
	start := time.Now().Unix()
	_, info := e.start(t)
	checkSchema(t, e.mgr, info)
	waitFIFO(t, e.pipe)
	rs := rsyslogtest.StartT(t, e.pipe)

	big := strings.Repeat("0123456789abcdef", 60<<10/16) // 60 KiB
	cases := []struct {
		tag, msg, want string
	}{
		{"e2e-quotes", `he said "hi" and ""twice""`, `he said "hi" and ""twice""`},
		{"e2e-commas", `a,b,,c,`, `a,b,,c,`},
		{"e2e-backslash", `C:\dir\ \\x \"q\" end\`, `C:\dir\ \\x \"q\" end\`},
		{"e2e-utf8", "héllo wörld 日本語 🙂", "héllo wörld 日本語 🙂"},
		{"e2e-control", "tab\there\nnext", "tab#011here#012next"}, // rsyslog escapes on receive
		{"e2e-empty", "", ""},
		{"e2e-big", big, big},
	}
	ctx := callCtx(t)
	for _, c := range cases {
		if err := rs.Send(ctx, c.msg, rsyslogtest.SendOptions{Tag: c.tag, Priority: "local3.warning"}); err != nil {
			t.Fatal(err)
		}
	}
	startStr := strconv.FormatInt(start, 10)
	for _, c := range cases {
		var row map[string]string
		eventually(t, 90*time.Second, "row tagged "+c.tag, func() error {
			rows, err := tagged(ctx, e.mgr, c.tag, osquerytest.Constraint{Column: "time", Op: osquerytest.OpGreaterThanOrEquals, Expr: startStr})
			if err != nil {
				return err
			}
			if len(rows) != 1 {
				return fmt.Errorf("%d rows", len(rows))
			}
			row = rows[0]
			return nil
		})
		checkRowKeys(t, e.mgr, "syslog_messages", row)
		if row["message"] != c.want {
			t.Errorf("%s: message\n got %.200q (%d bytes)\nwant %.200q (%d bytes)", c.tag, row["message"], len(row["message"]), c.want, len(c.want))
		}
		if row["severity"] != "4" || row["facility"] != "local3" || row["truncated"] != "0" {
			t.Errorf("%s: severity %q facility %q truncated %q, want 4 local3 0", c.tag, row["severity"], row["facility"], row["truncated"])
		}
		if row["host"] == "" {
			t.Errorf("%s: empty host", c.tag)
		}
		if !rfc3339RE.MatchString(row["datetime"]) {
			t.Errorf("%s: datetime %q is not rsyslog's RFC 3339", c.tag, row["datetime"])
		} else if dt, err := time.Parse(time.RFC3339Nano, row["datetime"]); err == nil && row["event_time"] != strconv.FormatInt(dt.Unix(), 10) {
			t.Errorf("%s: event_time %q, want %d from datetime %s", c.tag, row["event_time"], dt.Unix(), row["datetime"])
		}
		if tm, err := strconv.ParseInt(row["time"], 10, 64); err != nil || tm < start || tm > time.Now().Unix()+1 {
			t.Errorf("%s: time %q not the ingestion time (start %d)", c.tag, row["time"], start)
		}
	}

	// A tag no message has: nothing, even though SQLite would re-check.
	rows, err := e.mgr.Generate(ctx, "syslog_messages", osquerytest.Constraint{Column: "tag", Op: osquerytest.OpEquals, Expr: "e2e-none"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r["tag"] == "e2e-none" {
			t.Errorf("unexpected row %v", r)
		}
	}
	st, err := syslogStats(ctx, e.mgr)
	if err != nil {
		t.Fatal(err)
	}
	checkRowKeys(t, e.mgr, "osquery_syslog_stats", st)
	if n, _ := strconv.Atoi(st["lines_read"]); n < len(cases) {
		t.Errorf("stats lines_read %q, want >= %d: %v", st["lines_read"], len(cases), st)
	}
	if st["parse_errors"] != "0" {
		t.Errorf("stats parse_errors %q, want 0: %v", st["parse_errors"], st)
	}
}

// (b) 1,000 malformed lines among 10,000 good ones: every good row kept,
// every bad line counted, and ingestion goes on.
func TestMalformedLinesAreCountedAndSkipped(t *testing.T) {
	e := newEnv(t)
	e.start(t)
	waitFIFO(t, e.pipe)
	f := openPipe(t, e.pipe)

	malformed := []string{
		`this is not csv at all`,                                                   // one field
		`"2024-01-02T03:04:05.000000+00:00","h","6","user","bad:"`,                 // five fields
		`"2024-01-02T03:04:05.000000+00:00","h","6","user","bad:","m","extra"`,     // seven fields
		`"2024-01-02T03:04:05.000000+00:00","h","6","user","unterminated, quote,x`, // the quote eats the rest: five fields
	}
	const good, bad = 10000, 1000
	var lines []string
	g := 0
	for i := 0; i < good+bad; i++ {
		if i%11 == 5 {
			lines = append(lines, malformed[(i/11)%len(malformed)])
			continue
		}
		lines = append(lines, csvLine("2024-01-02T03:04:05.123456+00:00", "bulk-host", "6", "user", "bulk[42]:", fmt.Sprintf("good message %05d", g)))
		g++
	}
	if g != good {
		t.Fatalf("built %d good lines", g)
	}
	writeLines(t, f, lines...)

	ctx := callCtx(t)
	var rows []map[string]string
	eventually(t, 3*time.Minute, "10,000 good rows", func() error {
		var err error
		rows, err = tagged(ctx, e.mgr, "bulk[42]")
		if err != nil {
			return err
		}
		if len(rows) != good {
			return fmt.Errorf("%d rows", len(rows))
		}
		return nil
	})
	seen := make([]bool, good)
	for _, r := range rows {
		var n int
		if _, err := fmt.Sscanf(r["message"], "good message %05d", &n); err != nil || n < 0 || n >= good || seen[n] {
			t.Fatalf("unexpected or duplicate row %v", r)
		}
		seen[n] = true
		if r["host"] != "bulk-host" || r["severity"] != "6" || r["facility"] != "user" || r["datetime"] != "2024-01-02T03:04:05.123456+00:00" {
			t.Fatalf("row fields %v", r)
		}
	}
	eventually(t, time.Minute, "stats", func() error {
		st, err := syslogStats(ctx, e.mgr)
		if err != nil {
			return err
		}
		if st["parse_errors"] != strconv.Itoa(bad) {
			return fmt.Errorf("parse_errors %q, want %d: %v", st["parse_errors"], bad, st)
		}
		if n, _ := strconv.Atoi(st["lines_read"]); n < good+bad {
			return fmt.Errorf("lines_read %q, want >= %d", st["lines_read"], good+bad)
		}
		if st["last_error"] == "" {
			return fmt.Errorf("last_error empty after parse errors: %v", st)
		}
		return nil
	})

	// osquery's publisher gives up after 10 errors; ours must not.
	writeLines(t, f, csvLine("2024-01-02T03:04:06.000000+00:00", "bulk-host", "6", "user", "after:", "still ingesting"))
	eventually(t, time.Minute, "a message after the malformed ones", func() error {
		rows, err := tagged(ctx, e.mgr, "after")
		if err != nil {
			return err
		}
		if len(rows) != 1 || rows[0]["message"] != "still ingesting" {
			return fmt.Errorf("rows %v", rows)
		}
		return nil
	})
}

// eidsOf returns the eids of rows, sorted.
func eidsOf(t *testing.T, rows []map[string]string) []int64 {
	t.Helper()
	var out []int64
	for _, r := range rows {
		if !intRE.MatchString(r["eid"]) {
			t.Fatalf("row without a numeric eid: %v", r)
		}
		n, _ := strconv.ParseInt(r["eid"], 10, 64)
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// withEid is the query SELECT *, eid FROM syslog_messages WHERE tag = tag.
func withEid(ctx context.Context, e env, tag string) ([]map[string]string, error) {
	cols, err := e.mgr.Columns("syslog_messages")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, c := range cols {
		names = append(names, c.Name)
	}
	cons := []osquerytest.Constraint{{Column: "tag", Op: osquerytest.OpEquals, Expr: tag}}
	rows, err := e.mgr.GenerateQuery(ctx, "syslog_messages", osquerytest.Query{Columns: names, Constraints: cons})
	if err != nil {
		return nil, err
	}
	return osquerytest.Filter(rows, cols, cons...)
}

// (c) Rows and eids survive a restart of the extension; new eids are greater.
func TestRowsSurviveRestart(t *testing.T) {
	e := newEnv(t)
	p, _ := e.start(t)
	ctx := callCtx(t)
	waitFIFO(t, e.pipe)
	f := openPipe(t, e.pipe)
	var first []string
	for i := range 5 {
		first = append(first, csvLine("2024-05-06T07:08:09.000000+02:00", "h", "5", "daemon", "keep:", fmt.Sprintf("before %d", i)))
	}
	writeLines(t, f, first...)
	var before []int64
	eventually(t, time.Minute, "5 rows before the restart", func() error {
		rows, err := withEid(ctx, e, "keep")
		if err != nil {
			return err
		}
		if len(rows) != 5 {
			return fmt.Errorf("%d rows", len(rows))
		}
		before = eidsOf(t, rows)
		return nil
	})
	if code := p.terminate(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}

	// Lines written while the extension is down wait in the pipe.
	writeLines(t, f, csvLine("2024-05-06T07:08:10.000000+02:00", "h", "5", "daemon", "keep:", "while down"))
	e.start(t)
	writeLines(t, f, csvLine("2024-05-06T07:08:11.000000+02:00", "h", "5", "daemon", "keep:", "after"))
	eventually(t, time.Minute, "rows after the restart", func() error {
		rows, err := withEid(ctx, e, "keep")
		if err != nil {
			return err
		}
		if len(rows) != 7 {
			return fmt.Errorf("%d rows, want 7", len(rows))
		}
		after := eidsOf(t, rows)
		if !slices.Equal(after[:5], before) {
			return fmt.Errorf("eids before %v, after %v", before, after)
		}
		if after[5] <= before[4] || after[6] <= after[5] {
			t.Errorf("new eids %v not greater than old %v", after[5:], before)
		}
		return nil
	})
}

// (d) Supervision: osqueryd restarts, silently forgets the extension, and
// finally asks it to shut down.
func TestSupervision(t *testing.T) {
	e := newEnv(t)
	p, info := e.start(t)
	ctx := callCtx(t)
	answers := func(what string) {
		t.Helper()
		eventually(t, time.Minute, what, func() error {
			_, err := e.mgr.Generate(ctx, "syslog_messages")
			if err != nil {
				return err
			}
			_, err = syslogStats(ctx, e.mgr)
			return err
		})
	}
	answers("tables before any trouble")

	// osqueryd restarts: the socket goes away and comes back, registrations
	// are lost. The extension must notice and register again by itself.
	if err := e.mgr.Restart(); err != nil {
		t.Fatal(err)
	}
	info2 := waitRegistered(t, e.mgr, p, 2*time.Minute)
	t.Logf("re-registered after osqueryd restart: uuid %d -> %d", info.UUID, info2.UUID)
	answers("tables after the osqueryd restart")

	// osqueryd drops the registration without telling the extension.
	forgotAt := time.Now()
	if !e.mgr.Forget(info2.UUID) {
		t.Fatal("Forget: not registered")
	}
	info3 := waitRegistered(t, e.mgr, p, 2*time.Minute)
	if !info3.Registered.After(forgotAt) {
		t.Fatalf("registration %+v predates Forget", info3)
	}
	t.Logf("re-registered after being forgotten: uuid %d -> %d", info2.UUID, info3.UUID)
	answers("tables after re-registering")
	if !p.running() {
		t.Fatal("the extension exited instead of re-registering")
	}

	// osqueryd stops: it calls shutdown() on the extension.
	if err := e.mgr.ShutdownExtension(ctx, info3.UUID); err != nil {
		t.Fatalf("shutdown(): %v", err)
	}
	if code := p.waitExit(time.Minute); code != 0 {
		t.Fatalf("exit code %d after shutdown()", code)
	}
}

// runQuery runs the standalone query subcommand with --json.
func runQuery(t *testing.T, db, sql string) []map[string]string {
	t.Helper()
	cmd := exec.CommandContext(callCtx(t), extBin, "query", "--json", "--database_path", db, sql)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("query --json: %v\nstderr: %s\nstdout: %s", err, stderr.String(), out)
	}
	var rows []map[string]string
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("query --json printed something else than an array of string maps: %v\n%s", err, out)
	}
	return rows
}

// (e) query --json reads the buffer of a running extension.
func TestQueryJSONWhileExtensionRuns(t *testing.T) {
	e := newEnv(t)
	p, _ := e.start(t)
	waitFIFO(t, e.pipe)
	f := openPipe(t, e.pipe)
	writeLines(t, f,
		csvLine("2024-01-01T00:00:00.000000+00:00", "qhost", "3", "auth", "qj[7]:", `one "quoted", message`),
		csvLine("2024-01-01T00:00:01.000000+00:00", "qhost", "3", "auth", "qj[7]:", "two 日本"),
	)
	ctx := callCtx(t)
	eventually(t, time.Minute, "rows via the extension", func() error {
		rows, err := tagged(ctx, e.mgr, "qj[7]")
		if err != nil {
			return err
		}
		if len(rows) != 2 {
			return fmt.Errorf("%d rows", len(rows))
		}
		return nil
	})
	var rows []map[string]string
	eventually(t, time.Minute, "rows via query --json", func() error {
		rows = runQuery(t, e.db, `SELECT tag, message, severity, host FROM syslog_messages WHERE tag = 'qj[7]' ORDER BY message`)
		if len(rows) != 2 {
			return fmt.Errorf("%d rows: %v", len(rows), rows)
		}
		return nil
	})
	want := []map[string]string{
		{"tag": "qj[7]", "message": `one "quoted", message`, "severity": "3", "host": "qhost"},
		{"tag": "qj[7]", "message": "two 日本", "severity": "3", "host": "qhost"},
	}
	for i := range want {
		for k, v := range want[i] {
			if rows[i][k] != v {
				t.Errorf("row %d %s = %q, want %q (%v)", i, k, rows[i][k], v, rows[i])
			}
		}
	}
	if !p.running() {
		t.Error("the extension stopped while query read its database")
	}
}

// The daemon subcommand ingests without osqueryd; query reads its buffer.
func TestDaemonStandalone(t *testing.T) {
	dir := osquerytest.ShortTempDir(t)
	db, pipe := filepath.Join(dir, "buffer.db"), filepath.Join(dir, "syslog_pipe")
	p := startProcess(t, dir, []string{extBin, "daemon", "--database_path", db, "--syslog_pipe_path", pipe})
	waitFIFO(t, pipe)
	f := openPipe(t, pipe)
	writeLines(t, f, csvLine("2024-01-01T00:00:00.000000+00:00", "dh", "6", "user", "dmn:", "standalone"))
	eventually(t, time.Minute, "daemon row via query --json", func() error {
		rows := runQuery(t, db, `SELECT message FROM syslog_messages WHERE tag = 'dmn'`)
		if len(rows) != 1 || rows[0]["message"] != "standalone" {
			return fmt.Errorf("rows %v", rows)
		}
		return nil
	})
	if code := p.terminate(30 * time.Second); code != 0 {
		t.Errorf("daemon exit code %d after SIGTERM", code)
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("database: %v", err)
	}
}
