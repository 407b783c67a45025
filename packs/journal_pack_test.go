//go:build sqlite_vtable

package packs

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/osquery-syslog/osquery-syslog/engine"
	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/schedule"
	"github.com/osquery-syslog/osquery-syslog/stats"
	"github.com/osquery-syslog/osquery-syslog/tables/journal"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
	"github.com/osquery-syslog/osquery-syslog/test/journaltest"
)

// wantJournal lists, per query of journal-security.conf, every row it must
// return from testdata/journal-samples.json plus the generated flood and
// decoys, and nothing else: the same detections as syslog-security.conf on
// the same events logged through journald (want), with the journal's tags,
// timestamps and whole multi-line messages where they differ.
var wantJournal = func() map[string][]match {
	w := make(map[string][]match, len(want))
	for q, rows := range want {
		w[q] = rows
	}
	w["sudo_commands"] = []match{
		{"COMMAND=/usr/bin/systemctl restart nginx", map[string]string{"user": "alice", "run_as": "root", "command": "/usr/bin/systemctl restart nginx", "datetime": "2026-11-02T07:05:09.101Z", "tag": "sudo[31330]"}},
		{`COMMAND=/usr/bin/psql -c "DROP TABLE audit"`, map[string]string{"user": "bob", "run_as": "postgres", "command": `/usr/bin/psql -c "DROP TABLE audit"`, "tag": "sudo[31337]"}},
	}
	w["ssh_accepted_logins"] = []match{
		{"Accepted publickey for alice", map[string]string{"method": "publickey", "user": "alice", "remote_address": "203.0.113.7", "tag": "sshd[2201]"}},
		{"Accepted password for deploy", map[string]string{"method": "password", "user": "deploy", "remote_address": "2001:db8::17", "tag": "sshd-session[2203]"}},
	}
	w["kernel_errors"] = []match{
		{"I/O error, dev sda", map[string]string{"severity": "3", "facility": "kern"}},
		{"Out of memory: Killed process 4242", nil},
	}
	w["service_crashes"] = []match{
		{"nginx.service: Main process exited, code=killed", map[string]string{"tag": "systemd[1]"}},
		{"nginx.service: Failed with result 'signal'", nil},
		// journald keeps the whole multi-line core dump report.
		{"Process 4242 (nginx) of user 33 dumped core.\n\nModule libc.so.6", nil},
	}
	return w
}()

// journalSamples is testdata/journal-samples.json plus a flood (150 entries
// of one program), a busy program just under the threshold on another host,
// and decoys: a binary MESSAGE from sudo and a flood of another program
// split over two hosts.
func journalSamples(t *testing.T) []journaltest.Entry {
	t.Helper()
	f, err := os.Open("testdata/journal-samples.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	es, err := journaltest.ParseJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	const base = 1793603220000000 // 2026-11-02T07:07:00Z
	entry := func(i int, host, ident, pid, msg string) journaltest.Entry {
		return journaltest.Entry{
			"__REALTIME_TIMESTAMP":  []byte(fmt.Sprint(base + i*1000)),
			"__MONOTONIC_TIMESTAMP": []byte(fmt.Sprint(86506000000 + i*1000)),
			"_BOOT_ID":              []byte("5d0f8c2b9e4a4f7a8c1e3b6d2f9a0c17"),
			"_HOSTNAME":             []byte(host),
			"_TRANSPORT":            []byte("stdout"),
			"PRIORITY":              []byte("6"),
			"SYSLOG_FACILITY":       []byte("3"),
			"SYSLOG_IDENTIFIER":     []byte(ident),
			"_PID":                  []byte(pid),
			"_UID":                  []byte("1001"),
			"_GID":                  []byte("1001"),
			"_COMM":                 []byte(ident),
			"_SYSTEMD_UNIT":         []byte(ident + ".service"),
			"MESSAGE":               []byte(msg),
		}
	}
	for i := range 150 {
		es = append(es, entry(i, "web-1", "chatty", "77", fmt.Sprintf("retrying connection to 10.0.0.5:5432 (attempt %d)", i)))
	}
	for i := range 99 {
		es = append(es, entry(200+i, "web-1", "busy", "78", fmt.Sprintf("heartbeat %d", i)))
	}
	for i := range 120 {
		es = append(es, entry(300+i, []string{"web-1", "db-2"}[i%2], "split", "79", fmt.Sprintf("tick %d", i)))
	}
	bin := entry(500, "web-1", "sudo", "31350", "")
	bin["MESSAGE"] = []byte("\xff\xfe : TTY=pts/9 \x00 COMMAND=")
	return append(es, bin)
}

// TestJournalPackQueriesMatchSamples writes the samples into a real journal
// file (systemd-journal-remote), reads it through journal_messages' reader
// into the event buffer, and checks every query of journal-security.conf
// returns exactly its expected rows.
func TestJournalPackQueriesMatchSamples(t *testing.T) {
	journaltest.Require(t)
	cfg, err := schedule.Parse([]byte(`{"packs":{"journal-security":"journal-security.conf"}}`), schedule.ParseOptions{BaseDir: "."})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	samples := journalSamples(t)
	if err := journaltest.WriteJournal(filepath.Join(dir, "journal", "system.journal"), samples); err != nil {
		t.Fatal(err)
	}

	store, err := eventstore.Open(filepath.Join(dir, "ev.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	st, err := store.Stream(journal.Schema(), eventstore.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	since, err := journal.ParseSince("all")
	if err != nil {
		t.Fatal(err)
	}
	src := stats.NewRegistry().Source("journal")
	if err := journal.ReadAll(t.Context(), journal.Config{Path: filepath.Join(dir, "journal"), Since: since}, st, store, src, nil); err != nil {
		t.Fatal(err)
	}
	if n := st.Count(); n != int64(len(samples)) {
		t.Fatalf("%d rows ingested, want %d (source state %q)", n, len(samples), src.State())
	}

	eng, err := engine.New([]tablekit.Table{journal.Table(st)})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	checkPack(t, eng, cfg, "journal-security", wantJournal)
}
