package test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/awslabs/kinesis-aggregation/go/v2/deaggregator"

	"github.com/osquery-syslog/osquery-syslog/test/kinesismock"
)

// TestDaemonPackResultsReachKinesis is make run's mission as a test: the
// daemon with examples/local-kinesis.conf (its paths and endpoint moved by
// command-line flags, which beat the config's options) reads syslog lines
// from the pipe, runs packs/syslog-security.conf on its schedule and ships
// the results through the kinesis logger into kinesis-mock, where every
// pack query's results are read back in osquery's result format. The pack
// queries run at the full minute, so this takes up to about 70 s.
func TestDaemonPackResultsReachKinesis(t *testing.T) {
	const stream = "osquery-syslog-results"
	mock := kinesismock.StartT(t, stream)
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pipe := filepath.Join(dir, "syslog_pipe")
	p := startProcess(t, dir, []string{extBin, "daemon",
		"--config_path", filepath.Join(root, "examples", "local-kinesis.conf"),
		"--database_path", filepath.Join(dir, "ev.db"),
		"--forwarder_queue_path", filepath.Join(dir, "queue.db"),
		"--logger_path", filepath.Join(dir, "log"),
		"--syslog_pipe_path", pipe,
		"--aws_kinesis_endpoint", mock.Endpoint(),
		"--host_identifier", "specified", "--specified_identifier", "e2e-host-7",
	})
	waitFIFO(t, pipe)
	f := openPipe(t, pipe)
	defer f.Close()

	samples, err := os.Open(filepath.Join(root, "packs", "testdata", "samples.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer samples.Close()
	var lines []string
	sc := bufio.NewScanner(samples)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	for i := range 120 {
		lines = append(lines, csvLine("2026-11-02T07:06:00.000000+00:00", "web-1", "6", "user", "chatty[77]:", fmt.Sprintf("retrying connection (attempt %d)", i)))
	}
	writeLines(t, f, lines...)

	want := []string{"kernel_errors", "log_floods_by_tag", "new_groups", "new_users", "segfaults", "service_crashes",
		"ssh_accepted_logins", "ssh_failed_logins", "su_sessions", "sudo_commands", "sudo_failures"}
	// The host identifier names the results and, as in osquery, is the
	// partition key.
	const host = "e2e-host-7"
	type line struct {
		Name           string            `json:"name"`
		HostIdentifier string            `json:"hostIdentifier"`
		CalendarTime   string            `json:"calendarTime"`
		UnixTime       *int64            `json:"unixTime"`
		Epoch          *int64            `json:"epoch"`
		Counter        *int64            `json:"counter"`
		Numerics       *bool             `json:"numerics"`
		Decorations    map[string]string `json:"decorations"`
		Columns        map[string]string `json:"columns"`
		Action         string            `json:"action"`
		LogType        string            `json:"log_type"`
	}
	got := map[string]int{}
	var missing []string
	deadline := time.Now().Add(100 * time.Second)
	for time.Now().Before(deadline) {
		recs, err := mock.ReadAll(t.Context(), stream)
		if err != nil {
			t.Fatal(err)
		}
		in := make([]types.Record, len(recs))
		for i, r := range recs {
			if r.PartitionKey != host {
				t.Fatalf("record with partition key %q, want the host identifier %q", r.PartitionKey, host)
			}
			in[i] = types.Record{Data: r.Data, PartitionKey: aws.String(r.PartitionKey)}
		}
		subs, err := deaggregator.DeaggregateRecords(in)
		if err != nil {
			t.Fatal(err)
		}
		got = map[string]int{}
		for _, s := range subs {
			var l line
			if err := json.Unmarshal(s.Data, &l); err != nil {
				t.Fatalf("record is not JSON: %q", s.Data)
			}
			if l.Name == "syslog_stats" {
				continue // the example's own snapshot query
			}
			short, ok := strings.CutPrefix(l.Name, "pack_syslog-security_")
			if !ok {
				t.Fatalf("unexpected query name in %s", s.Data)
			}
			if l.HostIdentifier != host || l.UnixTime == nil || l.Epoch == nil || *l.Epoch != 0 || l.Counter == nil || *l.Counter != 0 ||
				l.Numerics == nil || *l.Numerics || !strings.HasSuffix(l.CalendarTime, " UTC") || l.Action != "added" ||
				l.LogType != "result" || l.Decorations["environment"] != "make-run" || len(l.Columns) == 0 {
				t.Fatalf("record not in osquery's result format: %s", s.Data)
			}
			got[short]++
		}
		missing = missing[:0]
		for _, w := range want {
			if got[w] == 0 {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 {
			break
		}
		if !p.running() {
			t.Fatalf("the daemon exited:\n%s", p.logs())
		}
		time.Sleep(2 * time.Second)
	}
	if len(missing) > 0 {
		t.Fatalf("no results in the stream from %v; got %v\n%s", missing, got, p.logs())
	}
	// Each event is reported once: the sample lines hold 3 failed SSH
	// logins, 2 accepted, 1 flood.
	for q, n := range map[string]int{"ssh_failed_logins": 3, "ssh_accepted_logins": 2, "log_floods_by_tag": 1} {
		if got[q] != n {
			t.Errorf("%s: %d rows in the stream, want %d", q, got[q], n)
		}
	}
	keys := slices.Sorted(maps.Keys(got))
	if !slices.Equal(keys, want) {
		t.Errorf("queries with results %v, want %v", keys, want)
	}
	// The filesystem logger of the example config wrote the same results.
	res, err := os.ReadFile(filepath.Join(dir, "log", "osqueryd.results.log"))
	if err != nil || !strings.Contains(string(res), `"name":"pack_syslog-security_sudo_commands"`) {
		t.Errorf("osqueryd.results.log lacks the results (%v)", err)
	}
}
