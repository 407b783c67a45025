package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/osquery-syslog/osquery-syslog/test/awsfake"
)

// resultLine is the osquery result line with counter i, as osqueryd hands
// it to a logger plugin.
func resultLine(i int) string {
	return fmt.Sprintf(`{"name":"pack_syslog_sudo","hostIdentifier":"host-%d","calendarTime":"Sun Nov 22 07:00:00 2026 UTC","unixTime":1795330800,"epoch":0,"counter":%d,"numerics":false,"columns":{"i":"%d"},"action":"added"}`, i%7, i, i)
}

// sendLines makes logger calls for counters from..to-1 to plugin.
func sendLines(t *testing.T, e env, p *process, plugin string, from, to int) {
	t.Helper()
	ctx := t.Context()
	for i := from; i < to; i++ {
		code, msg, err := e.mgr.CallLogger(ctx, plugin, map[string]string{"string": resultLine(i), "category": "event"})
		if err != nil || code != 0 {
			t.Fatalf("logger call %d: code %d %q %v\n%s", i, code, msg, err, p.logs())
		}
	}
}

// lineCounter parses one delivered line and returns its counter.
func lineCounter(t *testing.T, line []byte) int {
	t.Helper()
	var v struct {
		Counter *int   `json:"counter"`
		LogType string `json:"log_type"`
	}
	if err := json.Unmarshal(line, &v); err != nil || v.Counter == nil {
		t.Fatalf("delivered line is not a result line: %q (%v)", line, err)
	}
	if v.LogType != "result" {
		t.Errorf("line without \"log_type\":\"result\": %s", line)
	}
	return *v.Counter
}

// firehoseCounts splits every accepted Firehose record into its
// newline-framed lines and counts each counter.
func firehoseCounts(t *testing.T, recs []awsfake.Entry) (map[int]int, int) {
	t.Helper()
	seen := map[int]int{}
	lines := 0
	for _, r := range recs {
		if len(r.Data) == 0 || r.Data[len(r.Data)-1] != '\n' {
			t.Fatalf("firehose record not newline-terminated: %q", r.Data)
		}
		for _, l := range bytes.Split(r.Data[:len(r.Data)-1], []byte("\n")) {
			seen[lineCounter(t, l)]++
			lines++
		}
	}
	return seen, lines
}

// waitLines polls count until it reports at least n lines or timeout passes.
func waitLines(n int, timeout time.Duration, count func() int) int {
	deadline := time.Now().Add(timeout)
	got := count()
	for got < n && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		got = count()
	}
	return got
}

func firehoseFlags(e env, fh *awsfake.Firehose, stream string) []string {
	return []string{
		"--forwarder_queue_path", filepath.Join(e.dir, "queue.db"),
		"--aws_firehose_stream", stream,
		"--aws_firehose_endpoint", fh.URL(),
		"--aws_firehose_period", "1",
		"--aws_region", "us-east-1",
		"--aws_access_key_id", "AKIDOSQUERYSYSLOG",
		"--aws_secret_access_key", "secret",
	}
}

// TestFirehoseLoggerExactlyOnce: 10,000 logger calls to the firehose plugin
// arrive exactly once, newline-framed, several lines per Firehose record.
func TestFirehoseLoggerExactlyOnce(t *testing.T) {
	const stream = "osquery_results"
	fh := awsfake.NewFirehose(t, stream)
	e := newEnv(t)
	p, _ := e.start(t, firehoseFlags(e, fh, stream)...)
	defer p.terminate(30 * time.Second)

	const n = 10000
	sendLines(t, e, p, "firehose", 0, n)

	waitLines(n, 45*time.Second, func() int {
		_, l := firehoseCounts(t, fh.Records(stream))
		return l
	})
	// A little longer, so a late duplicate would show.
	time.Sleep(2 * time.Second)
	recs := fh.Records(stream)
	seen, lines := firehoseCounts(t, recs)
	for i := range n {
		if seen[i] != 1 {
			t.Fatalf("line %d arrived %d times (%d lines in %d records)\n%s", i, seen[i], lines, len(recs), p.logs())
		}
	}
	if lines != n {
		t.Fatalf("%d lines delivered for %d sent", lines, n)
	}
	if len(recs) >= n/2 {
		t.Errorf("%d Firehose records for %d lines: lines are not packed", len(recs), n)
	}
	t.Logf("%d logger calls arrived exactly once in %d Firehose records (%d PutRecordBatch calls)", n, len(recs), len(fh.Puts()))
}
