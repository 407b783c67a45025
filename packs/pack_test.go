//go:build sqlite_vtable

package packs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/osquery-syslog/osquery-syslog/engine"
	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/schedule"
	"github.com/osquery-syslog/osquery-syslog/tables/syslog"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// match is what one row of a pack query must look like: a substring of its
// message (or, for aggregates, its program) and exact extracted columns.
type match struct {
	message string
	cols    map[string]string
}

// want lists, per query of syslog-security.conf, every row it must return
// from testdata/samples.csv plus the generated flood, and nothing else.
var want = map[string][]match{
	"sudo_commands": {
		{"COMMAND=/usr/bin/systemctl restart nginx", map[string]string{"user": "alice", "run_as": "root", "command": "/usr/bin/systemctl restart nginx"}},
		{`COMMAND=/usr/bin/psql -c "DROP TABLE audit"`, map[string]string{"user": "bob", "run_as": "postgres", "command": `/usr/bin/psql -c "DROP TABLE audit"`}},
	},
	"sudo_failures": {
		{"3 incorrect password attempts", nil},
		{"user NOT in sudoers", nil},
	},
	"su_sessions": {
		{"(to root) alice on pts/0", map[string]string{"outcome": "opened"}},
		{"session opened for user root(uid=0) by alice", map[string]string{"outcome": "opened"}},
		{"FAILED SU (to root) mallory", map[string]string{"outcome": "failed"}},
	},
	"ssh_failed_logins": {
		{"Failed password for invalid user admin", map[string]string{"remote_address": "198.51.100.23"}},
		{"Invalid user admin from", map[string]string{"remote_address": "198.51.100.23"}},
		{"Failed password for root", map[string]string{"remote_address": "198.51.100.23"}},
	},
	"ssh_accepted_logins": {
		{"Accepted publickey for alice", map[string]string{"method": "publickey", "user": "alice", "remote_address": "203.0.113.7"}},
		{"Accepted password for deploy", map[string]string{"method": "password", "user": "deploy", "remote_address": "2001:db8::17"}},
	},
	"new_users": {
		{"new user: name=backup2", nil},
	},
	"new_groups": {
		{"new group: name=backup2", nil},
		{"group added to /etc/group: name=docker", nil},
		{"new group: name=docker", nil},
	},
	"kernel_errors": {
		{"I/O error, dev sda", nil},
		{"Out of memory: Killed process 4242", nil},
	},
	"segfaults": {
		{"nginx[4242]: segfault at 0", map[string]string{"process": "nginx"}},
		{"php-fpm8.2[9931]: segfault at 7ffc", map[string]string{"process": "php-fpm8.2"}},
	},
	"service_crashes": {
		{"nginx.service: Main process exited, code=killed", nil},
		{"nginx.service: Failed with result 'signal'", nil},
		{"Process 4242 (nginx) of user 33 dumped core", nil},
	},
	"log_floods_by_tag": {
		{"chatty", map[string]string{"host": "web-1", "messages": "150"}},
	},
}

// TestPackQueriesMatchSamples runs every query of every pack on the
// embedded engine over realistic syslog lines ingested through the real
// parser, and checks each returns exactly its expected rows.
func TestPackQueriesMatchSamples(t *testing.T) {
	cfg, err := schedule.Parse([]byte(`{"packs":{"syslog-security":"syslog-security.conf"}}`), schedule.ParseOptions{BaseDir: "."})
	if err != nil {
		t.Fatal(err)
	}
	store, err := eventstore.Open(filepath.Join(t.TempDir(), "ev.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	st, err := store.Stream(syslog.Schema(), eventstore.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	samples, err := os.ReadFile("testdata/samples.csv")
	if err != nil {
		t.Fatal(err)
	}
	var in bytes.Buffer
	in.Write(samples)
	// A flood (150 lines of one program) and a busy program just under the
	// threshold.
	for i := range 150 {
		fmt.Fprintf(&in, "\"2026-11-02T07:06:%02d.000000+00:00\",\"web-1\",\"6\",\"user\",\"chatty[77]:\",\"retrying connection to 10.0.0.5:5432 (attempt %d)\"\n", i%60, i)
	}
	for i := range 99 {
		fmt.Fprintf(&in, "\"2026-11-02T07:07:%02d.000000+00:00\",\"web-1\",\"6\",\"daemon\",\"busy[78]:\",\"heartbeat %d\"\n", i%60, i)
	}
	if err := syslog.Ingest(t.Context(), &in, syslog.Config{}, st, nil, nil); err != nil {
		t.Fatal(err)
	}
	if n := st.Count(); n != 33+150+99 {
		t.Fatalf("%d rows ingested, want %d", n, 33+150+99)
	}
	eng, err := engine.New([]tablekit.Table{syslog.Table(st)})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()

	checkPack(t, eng, cfg, "syslog-security", want)
}

// checkPack runs every query of the pack on eng and checks that each
// returns exactly its expected rows in want (keyed by the query's name in
// the pack).
func checkPack(t *testing.T, eng *engine.Engine, cfg *schedule.Config, pack string, want map[string][]match) {
	t.Helper()
	if len(cfg.Queries) != len(want) {
		t.Errorf("%s has %d queries, the test knows %d: every query needs sample lines", pack, len(cfg.Queries), len(want))
	}
	for _, q := range cfg.Queries {
		short := strings.TrimPrefix(q.Name, "pack_"+pack+"_")
		t.Run(short, func(t *testing.T) {
			if q.Description == "" || q.Interval == schedule.DefaultInterval {
				t.Errorf("query needs its own interval and a description: %+v", q)
			}
			exp, ok := want[short]
			if !ok {
				t.Fatalf("no expected rows for %s", short)
			}
			res, err := eng.Query(t.Context(), q.SQL)
			if err != nil {
				t.Fatal(err)
			}
			var rows []map[string]string
			for _, r := range res.Rows {
				m := map[string]string{}
				for i, c := range res.Columns {
					m[c] = r[i].Text
				}
				rows = append(rows, m)
			}
			key := func(m map[string]string) string {
				if v, ok := m["message"]; ok {
					return v
				}
				return m["program"]
			}
			used := make([]bool, len(rows))
			for _, w := range exp {
				i := slices.IndexFunc(rows, func(m map[string]string) bool { return strings.Contains(key(m), w.message) })
				if i < 0 {
					t.Errorf("no row for %q", w.message)
					continue
				}
				used[i] = true
				for c, v := range w.cols {
					if rows[i][c] != v {
						t.Errorf("row %q: %s = %q, want %q", w.message, c, rows[i][c], v)
					}
				}
			}
			for i, u := range used {
				if !u {
					t.Errorf("unexpected row %v", rows[i])
				}
			}
		})
	}
}
