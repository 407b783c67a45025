package test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/awslabs/kinesis-aggregation/go/v2/deaggregator"

	"github.com/osquery-syslog/osquery-syslog/test/awsfake"
	"github.com/osquery-syslog/osquery-syslog/test/osquerytest"
)

// The benchmarks here run the built extension the way osqueryd autoloads
// it (test/osquerytest plays osqueryd) and measure it from outside: wall
// time, the process's peak RSS (VmHWM), and logger-call latency as osqueryd
// sees it (a Thrift round trip).

// benchExt is a running extension under a benchmark.
type benchExt struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func startBenchExt(b *testing.B, mgr *osquerytest.Manager, dir string, flags ...string) *benchExt {
	b.Helper()
	argv := osquerytest.LaunchArgs(extBin, mgr.Socket(), false)
	argv = append(argv, "--database_path", filepath.Join(dir, "buffer.db"), "--syslog_pipe_path", filepath.Join(dir, "syslog_pipe"))
	argv = append(argv, flags...)
	x := &benchExt{log: filepath.Join(dir, "ext.log"), done: make(chan struct{})}
	logf, err := os.Create(x.log)
	if err != nil {
		b.Fatal(err)
	}
	x.cmd = exec.Command(argv[0], argv[1:]...)
	x.cmd.Stdout, x.cmd.Stderr = logf, logf
	if err := x.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() {
		x.cmd.Wait()
		logf.Close()
		close(x.done)
	}()
	b.Cleanup(func() {
		x.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-x.done:
		case <-time.After(20 * time.Second):
			x.cmd.Process.Kill()
			<-x.done
		}
	})
	ctx, cancel := contextTimeout(b, 90*time.Second)
	defer cancel()
	if _, err := mgr.WaitExtension(ctx, extensionName); err != nil {
		b.Fatalf("extension did not register: %v\n%s", err, x.logs())
	}
	return x
}

func (x *benchExt) logs() string {
	out, _ := os.ReadFile(x.log)
	return string(out)
}

// status reads a field of /proc/PID/status in kB.
func (x *benchExt) status(b *testing.B, field string) int64 {
	b.Helper()
	out, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", x.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, x.cmd.Process.Pid)
	return 0
}

// BenchmarkBinaryBurst: a burst of 1,000,000 lines written with
// `cat FILE > FIFO` into the running extension, with its default flags
// (the buffer keeps the newest 100,000 rows, expiring older ones as it
// goes). Reports lines/s until the last line is queryable, and the peak RSS
// of the extension process.
func BenchmarkBinaryBurst(b *testing.B) {
	const n = 1_000_000
	for range b.N {
		b.StopTimer()
		mgr := osquerytest.New(b, osquerytest.Options{})
		dir := osquerytest.ShortTempDir(b)
		x := startBenchExt(b, mgr, dir)
		file := filepath.Join(dir, "burst.csv")
		f, err := os.Create(file)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		for i := range n {
			tag := fmt.Sprintf("sshd[%d]:", 1000+i%5000)
			if i == n-1 {
				tag = "burst-end:"
			}
			fmt.Fprintln(w, csvLine("2026-11-30T20:00:00.123456+00:00", fmt.Sprint("web-", i%7), fmt.Sprint(i%8), "authpriv", tag,
				fmt.Sprintf("Accepted publickey for deploy from 10.0.%d.%d port %d ssh2: ED25519 SHA256:abcdefghijklmnopqrstuvwxyz %d", i%256, i/256%256, 40000+i%20000, i)))
		}
		w.Flush()
		f.Close()
		pipe := filepath.Join(dir, "syslog_pipe")
		pw, err := os.OpenFile(pipe, os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := contextTimeout(b, 10*time.Minute)
		b.StartTimer()
		t0 := time.Now()
		cat := exec.Command("cat", file)
		cat.Stdout = pw
		if err := cat.Run(); err != nil {
			b.Fatal(err)
		}
		pw.Close()
		var rss int64
		for {
			rss = max(rss, x.status(b, "VmRSS"))
			st, err := syslogStats(ctx, mgr)
			if err != nil {
				b.Fatal(err)
			}
			if st["lines_read"] == strconv.Itoa(n) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		for {
			rows, err := mgr.Select(ctx, "syslog_messages",
				osquerytest.Constraint{Column: "tag", Op: osquerytest.OpEquals, Expr: "burst-end"},
				osquerytest.Constraint{Column: "time", Op: osquerytest.OpGreaterThanOrEquals, Expr: strconv.FormatInt(t0.Unix(), 10)})
			if err != nil {
				b.Fatal(err)
			}
			if len(rows) == 1 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		elapsed := time.Since(t0)
		b.StopTimer()
		cancel()
		st, err := syslogStatsB(b, mgr)
		if err != nil {
			b.Fatal(err)
		}
		if st["lines_read"] != strconv.Itoa(n) || st["parse_errors"] != "0" {
			b.Fatalf("stats after the burst: %v", st)
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "lines/s")
		b.ReportMetric(float64(x.status(b, "VmHWM"))/1024, "peak-RSS-MB")
		b.ReportMetric(float64(rss)/1024, "sampled-RSS-MB")
	}
}

func syslogStatsB(b *testing.B, mgr *osquerytest.Manager) (map[string]string, error) {
	ctx, cancel := contextTimeout(b, time.Minute)
	defer cancel()
	return syslogStats(ctx, mgr)
}

// BenchmarkBinaryOutage: the kinesis logger plugin while its sink is down
// for 60 s (connections refused) and osqueryd keeps logging 2,000 result
// lines a second; then the sink comes back and, while the senders drain the
// backlog, 20,000 more logger calls are timed. Reports the extension's peak
// RSS, the logger-call latency (p50, p99, max) during the outage and while
// the senders are busy, and sent/delivered/duplicated/lost.
//
// Sub-benchmarks: aggregated (the default: KPL aggregation) and plain
// (one record per line, --aws_kinesis_aggregate=false).
func BenchmarkBinaryOutage(b *testing.B) {
	b.Run("aggregated", func(b *testing.B) { benchOutage(b, true) })
	b.Run("plain", func(b *testing.B) { benchOutage(b, false) })
}

func benchOutage(b *testing.B, aggregate bool) {
	const (
		stream = "osquery_results"
		outage = 60 * time.Second
		rate   = 2000 // lines/s during the outage
		during = 20000
	)
	for range b.N {
		b.StopTimer()
		k := awsfake.NewKinesis(b, stream)
		mgr := osquerytest.New(b, osquerytest.Options{})
		dir := osquerytest.ShortTempDir(b)
		x := startBenchExt(b, mgr, dir,
			"--forwarder_queue_path", filepath.Join(dir, "queue.db"),
			"--aws_kinesis_stream", stream,
			"--aws_kinesis_endpoint", k.URL(),
			"--aws_kinesis_period", "1",
			"--aws_region", "us-east-1",
			"--aws_access_key_id", "AKIDOSQUERYSYSLOG",
			"--aws_secret_access_key", "secret",
			fmt.Sprintf("--aws_kinesis_aggregate=%t", aggregate))
		ctx, cancel := contextTimeout(b, 10*time.Minute)
		call := func(i int) time.Duration {
			t0 := time.Now()
			code, msg, err := mgr.CallLogger(ctx, "kinesis", map[string]string{"string": resultLine(i), "category": "event"})
			d := time.Since(t0)
			if err != nil || code != 0 {
				b.Fatalf("logger call %d: code %d %q %v", i, code, msg, err)
			}
			return d
		}
		b.StartTimer()
		k.Down(0, awsfake.DownRefuse)
		start := time.Now()
		sent := 0
		var downLat []time.Duration
		for time.Since(start) < outage {
			due := int(time.Since(start).Seconds() * rate)
			for sent < due {
				downLat = append(downLat, call(sent))
				sent++
			}
			time.Sleep(5 * time.Millisecond)
		}
		if got := len(k.Records(stream)); got != 0 {
			b.Fatalf("%d records accepted while down", got)
		}
		backlog := sent
		k.Up()
		busyLat := make([]time.Duration, 0, during)
		for range during {
			busyLat = append(busyLat, call(sent))
			sent++
		}
		drainedDuring := len(k.Records(stream))
		counts := func() map[int]int {
			recs := k.Records(stream)
			in := make([]types.Record, len(recs))
			for i, r := range recs {
				in[i] = types.Record{Data: r.Data, PartitionKey: aws.String(r.PartitionKey)}
			}
			subs, err := deaggregator.DeaggregateRecords(in)
			if err != nil {
				b.Fatal(err)
			}
			seen := map[int]int{}
			for _, r := range subs {
				seen[lineCounterB(b, trimNL(r.Data))]++
			}
			return seen
		}
		// Distinct lines: a duplicate must not end the wait early.
		got := waitLines(sent, 5*time.Minute, func() int { return len(counts()) })
		b.StopTimer()
		time.Sleep(2 * time.Second)
		cancel()
		seen := counts()
		lost, dup, extra := lostDup(seen, sent)
		if lost != 0 || extra != 0 || got < sent {
			b.Fatalf("lost %d, duplicated %d, unknown %d of %d\n%s", lost, dup, extra, sent, x.logs())
		}
		pct := func(l []time.Duration, p int) float64 {
			slices.Sort(l)
			return float64(l[(len(l)-1)*p/100].Microseconds())
		}
		b.ReportMetric(float64(x.status(b, "VmHWM"))/1024, "peak-RSS-MB")
		b.ReportMetric(float64(backlog), "backlog-lines")
		b.ReportMetric(float64(drainedDuring), "records-shipped-while-timed")
		b.ReportMetric(pct(downLat, 50), "down-p50-µs")
		b.ReportMetric(pct(downLat, 99), "down-p99-µs")
		b.ReportMetric(pct(busyLat, 50), "busy-p50-µs")
		b.ReportMetric(pct(busyLat, 99), "busy-p99-µs")
		b.ReportMetric(pct(busyLat, 100), "busy-max-µs")
		b.ReportMetric(float64(sent), "sent")
		b.ReportMetric(float64(len(seen)), "delivered")
		b.ReportMetric(float64(dup), "duplicated")
		b.ReportMetric(float64(lost), "lost")
	}
}

func contextTimeout(b *testing.B, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.Context(), d)
}

// lineCounterB is lineCounter for a benchmark.
func lineCounterB(b *testing.B, line []byte) int {
	var v struct {
		Counter *int `json:"counter"`
	}
	if err := json.Unmarshal(line, &v); err != nil || v.Counter == nil {
		b.Fatalf("delivered line is not a result line: %q (%v)", line, err)
	}
	return *v.Counter
}
