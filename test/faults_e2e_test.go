package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/osquery-syslog/osquery-syslog/test/awsfake"
)

func kinesisFakeFlags(e env, k *awsfake.Kinesis, stream string, extra ...string) []string {
	return append([]string{
		"--forwarder_queue_path", filepath.Join(e.dir, "queue.db"),
		"--aws_kinesis_stream", stream,
		"--aws_kinesis_endpoint", k.URL(),
		"--aws_kinesis_period", "1",
		"--aws_region", "us-east-1",
		"--aws_access_key_id", "AKIDOSQUERYSYSLOG",
		"--aws_secret_access_key", "secret",
	}, extra...)
}

// kinesisCounts counts the counters of accepted unaggregated records.
func kinesisCounts(t *testing.T, recs []awsfake.Entry) map[int]int {
	t.Helper()
	seen := map[int]int{}
	for _, r := range recs {
		seen[lineCounter(t, trimNL(r.Data))]++
	}
	return seen
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == '\n' {
		b = b[:len(b)-1]
	}
	return b
}

// sdkResentRecords sums the records of the forwarder's "the SDK resent a
// whole request" warnings in a process log.
func sdkResentRecords(logs string) int {
	total := 0
	for _, l := range strings.Split(logs, "\n") {
		if !strings.Contains(l, "the SDK resent a whole request") {
			continue
		}
		_, after, ok := strings.Cut(l, " records=")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(strings.Fields(after)[0])
		total += n
	}
	return total
}

// lostDup compares seen with counters 0..n-1.
func lostDup(seen map[int]int, n int) (lost, dup, extra int) {
	for i := range n {
		switch c := seen[i]; {
		case c == 0:
			lost++
		case c > 1:
			dup += c - 1
		}
	}
	for k := range seen {
		if k < 0 || k >= n {
			extra++
		}
	}
	return
}

// TestKinesisThrottling30Percent: with 30% of every PutRecords answered
// ProvisionedThroughputExceededException, nothing is lost or duplicated
// and only the failed entries are sent again.
func TestKinesisThrottling30Percent(t *testing.T) {
	const stream = "osquery_results"
	k := awsfake.NewKinesis(t, stream)
	k.FailRecords(awsfake.RecordFault{Fraction: 0.3})
	e := newEnv(t)
	p, _ := e.start(t, kinesisFakeFlags(e, k, stream, "--aws_kinesis_aggregate=false")...)
	defer p.terminate(30 * time.Second)

	const n = 5000
	sendLines(t, e, p, "kinesis", 0, n)
	waitLines(n, 45*time.Second, func() int { return len(k.Records(stream)) })
	time.Sleep(2 * time.Second)

	seen := kinesisCounts(t, k.Records(stream))
	lost, dup, extra := lostDup(seen, n)
	faultReport(t, "kinesis-throttling-30%", n, len(seen)-extra, dup, lost, "(30% of entries answered ProvisionedThroughputExceeded)")
	if lost != 0 || extra != 0 {
		t.Fatalf("lost %d, duplicated %d, unknown %d of %d lines", lost, dup, extra, n)
	}
	// Every accepted entry arrives once. (Duplicates seen here under load
	// were net/http closing the connection after a late body read that the
	// SDK had made fail; forwarder/awsconf's HTTP client prevents it, see
	// TestAnswerBeforeBodyDrainKeepsConnection.) Any SDK whole-request
	// resend the forwarder logged is shown, as the likely cause.
	if dup != 0 {
		full, _ := os.ReadFile(p.logPath)
		t.Fatalf("%d of %d lines duplicated; the SDK resent %d records after errors it retried\n%s", dup, n, sdkResentRecords(string(full)), p.logs())
	}

	// Per attempt: every entry sent is either accepted (exactly once, above)
	// or failed; so only failed entries were resent iff
	// sent = n + failed, and each failed entry's data is accepted later.
	puts := k.Puts()
	sent, failed, accepted := 0, 0, 0
	failedData := map[string]int{}
	acceptedData := map[string]int{}
	for _, r := range puts {
		if r.Status != 200 {
			t.Errorf("whole PutRecords failed: %d %s", r.Status, r.ErrorCode)
			continue
		}
		for _, en := range r.Entries {
			sent++
			if en.ErrorCode != "" {
				failed++
				failedData[string(en.Data)]++
			} else {
				accepted++
				acceptedData[string(en.Data)]++
			}
		}
	}
	for d, c := range acceptedData {
		if c != 1 {
			t.Errorf("accepted record sent %d times after acceptance: %q", c, d)
		}
	}
	for d := range failedData {
		if acceptedData[d] != 1 {
			t.Errorf("failed entry accepted %d times later: %q", acceptedData[d], d)
		}
	}
	if accepted != n+dup || sent != n+dup+failed {
		t.Fatalf("sent %d entries, %d failed, %d accepted, for %d lines: want sent = n + failed, accepted = n", sent, failed, accepted, n)
	}
	if failed < n*3/10 {
		t.Errorf("only %d entries throttled, want at least 30%% of %d", failed, n)
	}
	t.Logf("%d lines: %d PutRecords, %d entries sent, %d throttled and resent, %d accepted once each", n, len(puts), sent, failed, accepted)
}

// TestKillDashNineMidStream: kill -9 while shipping, restart on the same
// queue and database; nothing lost, duplicates at most what was in flight.
func TestKillDashNineMidStream(t *testing.T) {
	const stream = "osquery_results"
	fh := awsfake.NewFirehose(t, stream)
	e := newEnv(t)
	flags := firehoseFlags(e, fh, stream)
	p, info := e.start(t, flags...)

	// Queue the lines while the sink answers 503, then let the backlog drain
	// and kill -9 once part of it has landed: mid-stream, with requests
	// in flight.
	const n = 5000
	fh.Down(0, awsfake.DownUnavailable)
	sendLines(t, e, p, "firehose", 0, n)
	fh.Up()
	delivered := func() int {
		_, l := firehoseCounts(t, fh.Records(stream))
		return l
	}
	deadline := time.Now().Add(30 * time.Second)
	before := delivered()
	for before < n/5 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		before = delivered()
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
	atKill := delivered()
	if atKill >= n {
		t.Fatalf("all %d lines were delivered before the kill: not mid-stream", atKill)
	}
	t.Logf("killed pid %d with %d lines delivered (%d just before the kill)", p.cmd.Process.Pid, atKill, before)
	e.mgr.Forget(info.UUID)

	p2, _ := e.start(t, flags...)
	defer p2.terminate(30 * time.Second)
	waitLines(n, 45*time.Second, func() int {
		seen, _ := firehoseCounts(t, fh.Records(stream))
		return len(seen)
	})
	time.Sleep(2 * time.Second)
	seen, lines := firehoseCounts(t, fh.Records(stream))
	lost, dup, extra := lostDup(seen, n)
	t.Logf("after restart: %d lines delivered for %d sent: lost %d, duplicated %d (delivered at kill: %d)", lines, n, lost, dup, atKill)
	faultReport(t, "kill-9-mid-shipping", n, len(seen)-extra, dup, lost, fmt.Sprintf("(firehose; %d delivered before the kill)", atKill))
	if lost != 0 || extra != 0 {
		t.Fatalf("lost %d lines, %d unknown\n%s", lost, extra, p2.logs())
	}
	if dup > n {
		t.Fatalf("%d duplicates exceed the %d lines that could have been in flight", dup, n)
	}
}

// TestSinkOutage: the sink refuses connections while lines are logged and
// comes back after 60 s (the drill); nothing is lost or duplicated.
func TestSinkOutage(t *testing.T) {
	const stream = "osquery_results"
	k := awsfake.NewKinesis(t, stream)
	e := newEnv(t)
	p, _ := e.start(t, kinesisFakeFlags(e, k, stream, "--aws_kinesis_aggregate=false")...)
	defer p.terminate(30 * time.Second)

	const n = 2000
	const outage = 60 * time.Second
	k.Down(0, awsfake.DownRefuse)
	downAt := time.Now()
	sendLines(t, e, p, "kinesis", 0, n)
	time.Sleep(time.Until(downAt.Add(outage)))
	if got := len(k.Records(stream)); got != 0 {
		t.Fatalf("%d records accepted while down", got)
	}
	k.Up()

	waitLines(n, 40*time.Second, func() int { return len(k.Records(stream)) })
	time.Sleep(2 * time.Second)
	seen := kinesisCounts(t, k.Records(stream))
	lost, dup, extra := lostDup(seen, n)
	faultReport(t, "sink-outage-60s", n, len(seen)-extra, dup, lost, "(connections refused for 60 s)")
	if lost != 0 || dup != 0 || extra != 0 {
		t.Fatalf("after a %s outage: lost %d, duplicated %d, unknown %d of %d lines\n%s", outage, lost, dup, extra, n, p.logs())
	}
	t.Logf("%d lines logged during a %s outage arrived exactly once after Up (%d PutRecords)", n, outage, len(k.Puts()))
}
