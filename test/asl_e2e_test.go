package test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/osquery-syslog/osquery-syslog/tables/asl/aslfile"
	"github.com/osquery-syslog/osquery-syslog/test/osquerytest"
)

// writeASLStore writes a store directory as a copy off a Mac would look:
// a modern and a legacy daily file, and one whose last record is cut.
func writeASLStore(t *testing.T, dir string) {
	t.Helper()
	str := aslfile.Str
	senders := []string{"securityd", "notsecurityd", "kernel", "com.apple.xpc.launchd"}
	write := func(name string, v aslfile.Variant, base uint64, n, cut int) {
		w := aslfile.NewWriter(v, base)
		for i := range n {
			w.Add(&aslfile.Message{
				ID: base + uint64(i), Time: base + uint64(i), Level: uint16(i % 8), PID: uint32(200 + i),
				UID: 0, GID: 0, ReadUID: aslfile.Unset, ReadGID: aslfile.Unset,
				Host: str("ir-mac"), Sender: str(senders[i%len(senders)]), Facility: str("auth"),
				Text:  str(fmt.Sprintf("%s event %d", name, i)),
				Pairs: []aslfile.Pair{{Key: "com.apple.message.signature", Value: str("sig/" + strconv.Itoa(i))}},
			})
		}
		b := w.Bytes()
		if err := os.WriteFile(filepath.Join(dir, name), b[:len(b)-cut], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("2025.03.01.asl", aslfile.Modern, 1740787200, 8, 0)
	write("2025.03.02.asl", aslfile.Legacy, 1740873600, 8, 0)
	write("2025.03.03.asl", aslfile.Modern, 1740960000, 8, 40) // last record cut
}

// asl_messages under the osqueryd harness: registered, served with pushed
// constraints, damage counted in osquery_syslog_stats.
func TestASLThroughOsqueryd(t *testing.T) {
	e := newEnv(t)
	store := filepath.Join(e.dir, "asl")
	if err := os.Mkdir(store, 0o700); err != nil {
		t.Fatal(err)
	}
	writeASLStore(t, store)
	_, info := e.start(t, "--disable_syslog", "--asl_store_path", store)
	if _, ok := info.Routes["table"]["asl_messages"]; !ok {
		t.Fatalf("asl_messages not registered: %v", info.Routes["table"])
	}
	cols, err := e.mgr.Columns("asl_messages")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"time": "INTEGER", "time_nano_sec": "INTEGER", "host": "TEXT", "sender": "TEXT", "facility": "TEXT",
		"pid": "INTEGER", "gid": "BIGINT", "uid": "BIGINT", "level": "INTEGER", "message": "TEXT", "ref_pid": "INTEGER",
		"ref_proc": "TEXT", "extra": "TEXT", "path": "TEXT"}
	if len(cols) != len(want) {
		t.Errorf("columns %v", cols)
	}
	for _, c := range cols {
		if want[c.Name] != c.Type {
			t.Errorf("asl_messages.%s is %s, want %s", c.Name, c.Type, want[c.Name])
		}
	}

	ctx := callCtx(t)
	all, err := e.mgr.Generate(ctx, "asl_messages")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 23 {
		t.Fatalf("%d rows, want 23 (the cut record skipped)", len(all))
	}
	checkRowKeys(t, e.mgr, "asl_messages", all[0])
	if got := all[0]["extra"]; got != "{\"ASLMessageID\":\"1740787200\",\"com.apple.message.signature\":\"sig\\/0\"}\n" {
		t.Errorf("extra %q", got)
	}

	// sender LIKE 'sec%' AND time >= (second file): the anchored pushdown
	// must not keep notsecurityd, and the file before the range is skipped.
	rows, err := e.mgr.Generate(ctx, "asl_messages",
		osquerytest.Constraint{Column: "sender", Op: osquerytest.OpLike, Expr: "sec%"},
		osquerytest.Constraint{Column: "time", Op: osquerytest.OpGreaterThanOrEquals, Expr: "1740873600"},
	)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Errorf("%d rows for sender LIKE 'sec%%' AND time >= 1740873600, want 4: %v", len(rows), rows)
	}
	for _, r := range rows {
		if r["sender"] != "securityd" {
			t.Errorf("row of sender %q kept by sender LIKE 'sec%%'", r["sender"])
		}
	}

	stats, err := e.mgr.Generate(ctx, "osquery_syslog_stats")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range stats {
		if s["source"] != "asl" {
			continue
		}
		found = true
		if s["parse_errors"] != "1" || s["lines_read"] == "0" || s["last_error"] == "" {
			t.Errorf("asl stats %v, want parse_errors 1 (the cut file, counted once), lines_read > 0, a last_error", s)
		}
	}
	if !found {
		t.Errorf("no asl source in osquery_syslog_stats: %v", stats)
	}
}

// The query subcommand reads a store copied off a Mac with real SQL, with
// no event buffer on that machine.
func TestASLQuerySubcommand(t *testing.T) {
	dir := osquerytest.ShortTempDir(t)
	store := filepath.Join(dir, "asl")
	if err := os.Mkdir(store, 0o700); err != nil {
		t.Fatal(err)
	}
	writeASLStore(t, store)
	// No extension or daemon ever ran here: query reads the store without
	// a buffer and creates none.
	db := filepath.Join(dir, "buffer.db")
	defer func() {
		if _, err := os.Stat(db); !os.IsNotExist(err) {
			t.Errorf("query created %s (%v)", db, err)
		}
	}()
	rows := runQueryArgs(t, []string{"--asl_store_path", store}, db,
		`SELECT time, level, sender, message, ref_pid, uid, path FROM asl_messages
		 WHERE sender LIKE 'SEC%' AND level >= 0 AND path LIKE '%.03.0_.asl' ORDER BY time`)
	if len(rows) != 6 {
		t.Fatalf("%d rows, want 6 (two securityd records per file): %v", len(rows), rows)
	}
	first := rows[0]
	want := map[string]string{"time": "1740787200", "level": "0", "sender": "securityd", "message": "2025.03.01.asl event 0",
		"ref_pid": "", "uid": "0", "path": filepath.Join(store, "2025.03.01.asl")}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("%s = %q, want %q (%v)", k, first[k], v, first)
		}
	}
	n := runQueryArgs(t, []string{"--asl_store_path", filepath.Join(store, "2025.03.02.asl")}, db,
		`SELECT count(*) AS n FROM asl_messages`)
	if len(n) != 1 || n[0]["n"] != "8" {
		t.Errorf("one store file: %v, want 8 rows", n)
	}
}

// runQueryArgs runs the query subcommand with --json and extra flags.
func runQueryArgs(t *testing.T, flags []string, db, sql string) []map[string]string {
	t.Helper()
	args := append([]string{"query", "--json", "--database_path", db}, flags...)
	cmd := exec.CommandContext(callCtx(t), extBin, append(args, sql)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("query: %v\nstderr: %s\nstdout: %s", err, stderr.String(), out)
	}
	var rows []map[string]string
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("query --json output: %v\n%s", err, out)
	}
	return rows
}
