package forwarder

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/osquery-syslog/osquery-syslog/forwarder/awsconf"
	"github.com/osquery-syslog/osquery-syslog/forwarder/pack"
	"github.com/osquery-syslog/osquery-syslog/forwarder/queue"
	"github.com/osquery-syslog/osquery-syslog/forwarder/sink"
	"github.com/osquery-syslog/osquery-syslog/stats"
)

// typicalRows returns n event-format result lines of 300–800 bytes (about
// 550 on average) from 20 queries of 10 hosts: what a syslog pack's
// differential results look like.
func typicalRows(n int) [][]byte {
	r := rand.New(rand.NewPCG(7, 8))
	out := make([][]byte, n)
	for i := range out {
		size := 300 + r.IntN(501)
		var b strings.Builder
		fmt.Fprintf(&b, `{"name":"pack_syslog_query_%d","hostIdentifier":"host-%d","calendarTime":"Mon Nov 30 20:00:00 2026 UTC","unixTime":1796068800,"epoch":0,"counter":%d,"numerics":false,"decorations":{"host_uuid":"4C4C4544-0042-3010-8051-B4C04F4E3232"},"columns":{`,
			r.IntN(20), r.IntN(10), i)
		for c := 0; b.Len() < size-40; c++ {
			if c > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"col%d":"%s"`, c, strings.Repeat(string(rune('a'+r.IntN(26))), min(r.IntN(40)+1, max(1, size-40-b.Len()))))
		}
		b.WriteString(`},"action":"added"}`)
		out[i] = []byte(b.String())
	}
	return out
}

// The local sink runs in a child process: the benchmark binary re-executed
// with shipSinkEnv set (see init below). "Per core" is the shipper's cost,
// so the records/cpu-s and MB/cpu-s metrics divide by the CPU time (user +
// system, getrusage RUSAGE_SELF) of the benchmark process alone: reading
// and deleting in the SQLite queue, packing, the SDK's JSON/base64
// serialisation and SigV4 signing, and the client's side of HTTP and of the
// loopback TCP stack. The sink's decoding is not the shipper's work, and Go
// cannot account CPU per thread, so an in-process sink would be charged to
// the shipper. records/cpu-s-with-sink adds the child's CPU over the same
// interval (the cost of the whole loopback exchange), for comparison.
const shipSinkEnv = "OSQUERY_SYSLOG_SHIP_BENCH_SINK"

func init() {
	if os.Getenv(shipSinkEnv) == "1" {
		os.Exit(serveShipSink())
	}
}

var shipProfile = flag.String("ship.cpuprofile", "", "write a CPU profile of each BenchmarkShip case's timed region to `PREFIX`.CASE.prof")

// sinkStats is what the sink child reports on GET /stats.
type sinkStats struct {
	Records int64 `json:"records"`
	Bytes   int64 `json:"bytes"`
	CPUNano int64 `json:"cpu_ns"`
}

// serveShipSink is the child's main: a minimal Kinesis/Firehose endpoint on
// loopback that reads each request, counts its entries and accepts all of
// them. It prints its address on stdout and exits when stdin closes (the
// benchmark ended or died).
func serveShipSink() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "ship sink:", err)
		return 1
	}
	var records, nbytes atomic.Int64
	kOK := []byte(`{"SequenceNumber":"49590338271490256608559692538361571095921575989136588898","ShardId":"shardId-000000000000"}`)
	fOK := []byte(`{"RecordId":"49590338271490256608559692538361571095921575989136588898"}`)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stats" {
			json.NewEncoder(w).Encode(sinkStats{Records: records.Load(), Bytes: nbytes.Load(), CPUNano: int64(processCPU())})
			return
		}
		body, _ := io.ReadAll(r.Body)
		nbytes.Add(int64(len(body)))
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-cbor") {
			var in struct{ Records []cbor.RawMessage }
			if err := cbor.Unmarshal(body, &in); err != nil {
				w.WriteHeader(400)
				return
			}
			records.Add(int64(len(in.Records)))
			type result struct{ SequenceNumber, ShardId string }
			res := make([]result, len(in.Records))
			for i := range res {
				res[i] = result{"49590338271490256608559692538361571095921575989136588898", "shardId-000000000000"}
			}
			out, _ := cbor.Marshal(map[string]any{"FailedRecordCount": 0, "Records": res})
			w.Header().Set("Content-Type", "application/x-amz-cbor-1.1")
			w.Write(out)
			return
		}
		n := bytes.Count(body, []byte(`"Data":`))
		records.Add(int64(n))
		var out bytes.Buffer
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "Firehose") {
			out.WriteString(`{"Encrypted":false,"FailedPutCount":0,"RequestResponses":[`)
			for i := range n {
				if i > 0 {
					out.WriteByte(',')
				}
				out.Write(fOK)
			}
		} else {
			out.WriteString(`{"FailedRecordCount":0,"Records":[`)
			for i := range n {
				if i > 0 {
					out.WriteByte(',')
				}
				out.Write(kOK)
			}
		}
		out.WriteString(`]}`)
		w.Write(out.Bytes())
	})}
	go srv.Serve(ln)
	fmt.Println(ln.Addr().String())
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// processCPU is the user + system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// localSink is the parent's handle on the sink child.
type localSink struct {
	addr string
}

// startLocalSink starts the sink child; it is stopped when b ends.
func startLocalSink(b *testing.B) *localSink {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), shipSinkEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			b.Errorf("ship sink child: %v", err)
		}
	})
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("reading the ship sink's address: %v", err)
	}
	return &localSink{addr: strings.TrimSpace(addr)}
}

// sink returns a sink of service ("kinesis" or "firehose") pointed at the
// local sink through the real SDK client; wire "" is the default.
func (ls *localSink) sink(b *testing.B, service, wire string) sink.Sink {
	f := awsconf.Defaults()
	f.AccessKeyID, f.SecretAccessKey, f.Region = "AKIDBENCH", "secret", "us-east-1"
	f.KinesisEndpoint, f.FirehoseEndpoint = "http://"+ls.addr, "http://"+ls.addr
	if wire != "" {
		f.KinesisWire = wire
	}
	cfg, err := awsconf.Load(b.Context(), f, service, nil)
	if err != nil {
		b.Fatal(err)
	}
	var s sink.Sink
	if service == awsconf.Firehose {
		s, err = sink.NewFirehose(cfg, "bench")
	} else {
		s, err = sink.NewKinesis(cfg, "bench", sink.WithKinesisWire(f.Wire()))
	}
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// benchQueue opens a queue named name in a fresh file, closed when b ends.
func benchQueue(b testing.TB, name string) *queue.Queue {
	db, err := queue.Open(filepath.Join(b.TempDir(), "queue.db"))
	if err != nil {
		b.Fatal(err)
	}
	q, err := db.Queue(name, 0)
	if err != nil {
		db.Close()
		b.Fatal(err)
	}
	b.Cleanup(func() { q.Close(); db.Close() })
	return q
}

func (ls *localSink) stats(b *testing.B) sinkStats {
	resp, err := http.Get("http://" + ls.addr + "/stats")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var s sinkStats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkShip measures the whole ship path: b.N typical result lines
// already in the durable queue are read, packed (per case: one record per
// line, KPL aggregation, Firehose newline joining, gzip; Kinesis in its
// default CBOR wire format, and once in JSON), sent through the
// real AWS SDK client over loopback HTTP to a local sink with 4 requests in
// flight, and acknowledged (deleted) in the queue. It reports wall-clock
// records/s and MB/s, records and MB per CPU-second of the whole process
// (the local sink included), and allocations per record.
func BenchmarkShip(b *testing.B) {
	cases := []struct {
		name        string
		service     string
		aggregate   bool
		compression string
		wire        string // Kinesis: "" = the default (cbor)
	}{
		{"kinesis_plain", awsconf.Kinesis, false, "", ""},
		{"kinesis_aggregated", awsconf.Kinesis, true, "", ""},
		{"kinesis_aggregated_gzip", awsconf.Kinesis, true, "gzip", ""},
		{"kinesis_aggregated_json", awsconf.Kinesis, true, "", awsconf.WireJSON},
		{"firehose_joined", awsconf.Firehose, false, "", ""},
		{"firehose_joined_gzip", awsconf.Firehose, false, "gzip", ""},
	}
	rows := typicalRows(4096)
	ls := startLocalSink(b)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			s := ls.sink(b, c.service, c.wire)
			pc := pack.DefaultConfig(pack.Kinesis)
			if c.service == awsconf.Firehose {
				pc = pack.DefaultConfig(pack.Firehose)
			} else {
				pc.Aggregate = c.aggregate
			}
			pc.HostIdentifier, pc.Compression = "bench-host", c.compression
			packer, err := pack.New(pc)
			if err != nil {
				b.Fatal(err)
			}
			q := benchQueue(b, c.service)
			var lineBytes int64
			for i := 0; i < b.N; i += 1000 {
				batch := make([][]byte, 0, 1000)
				for j := i; j < min(i+1000, b.N); j++ {
					batch = append(batch, rows[j%len(rows)])
					lineBytes += int64(len(rows[j%len(rows)]))
				}
				if err := q.AppendMany(uint8(pack.Result), batch); err != nil {
					b.Fatal(err)
				}
			}
			var src stats.Source
			// The forwarder's log goes to b.Log after the result: written
			// to stderr during the run, a warning would split the result
			// line that scripts/bench.sh parses.
			var logBuf bytes.Buffer // slog's handler serialises writes
			fw := New(Config{Period: 10 * time.Millisecond}, q, packer, s, &src, slog.New(slog.NewTextHandler(&logBuf, nil)))

			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			sink0 := ls.stats(b)
			if *shipProfile != "" {
				pf, err := os.Create(*shipProfile + "." + c.name + ".prof")
				if err != nil {
					b.Fatal(err)
				}
				defer pf.Close()
				if err := pprof.StartCPUProfile(pf); err != nil {
					b.Fatal(err)
				}
			}
			cpu0 := processCPU()
			b.ResetTimer()
			ctx, cancel := context.WithCancel(b.Context())
			done := make(chan error, 1)
			go func() { done <- fw.Run(ctx) }()
			for q.Len() > 0 {
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			cpu := processCPU() - cpu0
			if *shipProfile != "" {
				pprof.StopCPUProfile()
			}
			sink1 := ls.stats(b)
			runtime.ReadMemStats(&ms1)
			cancel()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			if logBuf.Len() > 0 {
				b.Logf("forwarder log:\n%.2000s", logBuf.String())
			}
			if got := src.Shipped.Load(); got != int64(b.N) {
				b.Fatalf("shipped %d of %d lines", got, b.N)
			}
			sent, wire := sink1.Records-sink0.Records, sink1.Bytes-sink0.Bytes
			if sent == 0 {
				b.Fatal("the sink received nothing")
			}
			sinkCPU := time.Duration(sink1.CPUNano - sink0.CPUNano)
			secs := b.Elapsed().Seconds()
			mb := float64(lineBytes) / 1e6
			b.ReportMetric(float64(b.N)/secs, "records/s")
			b.ReportMetric(mb/secs, "MB/s")
			b.ReportMetric(float64(b.N)/cpu.Seconds(), "records/cpu-s")
			b.ReportMetric(mb/cpu.Seconds(), "MB/cpu-s")
			b.ReportMetric(float64(b.N)/(cpu+sinkCPU).Seconds(), "records/cpu-s-with-sink")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(b.N), "allocs/record")
			b.ReportMetric(float64(sent)/float64(b.N), "sent-records/line")
			b.ReportMetric(float64(wire)/float64(lineBytes), "wire-bytes/line-byte")
		})
	}
}

// Billing granularity: Kinesis Data Streams bills PUT payload units of 25 KB
// per record (a 1 KB record costs one unit, a 30 KB record two); Firehose
// rounds every record up to the next 5 KB.
const (
	kinesisUnit  = 25 << 10
	firehoseUnit = 5 << 10
)

func units(sizes []int, unit int) int {
	n := 0
	for _, s := range sizes {
		n += (s + unit - 1) / unit
	}
	return n
}

// BenchmarkBilledUnits packs 1,000 typical result rows (one flush of one
// host) as the plugins do by default, and with gzip, and reports the billed
// units against osquery's own loggers, which send one record per row (a row
// of 300–800 bytes is one 25 KB Kinesis unit, one 5 KB Firehose unit).
func BenchmarkBilledUnits(b *testing.B) {
	rows := typicalRows(1000)
	entries := make([]pack.Entry, len(rows))
	perRowK := make([]int, len(rows))
	perRowF := make([]int, len(rows))
	for i, r := range rows {
		entries[i] = pack.Entry{ID: int64(i + 1), Kind: pack.Result, Line: r}
		// osquery adds "log_type":"result" and, for Firehose, "\n".
		perRowK[i] = len(r) + len(`,"log_type":"result"`)
		perRowF[i] = perRowK[i] + 1
	}
	cases := []struct {
		name string
		cfg  func() pack.Config
		unit int
		base []int
	}{
		{"kinesis_aggregated", func() pack.Config { c := pack.DefaultConfig(pack.Kinesis); c.Aggregate = true; return c }, kinesisUnit, perRowK},
		{"kinesis_aggregated_gzip", func() pack.Config {
			c := pack.DefaultConfig(pack.Kinesis)
			c.Aggregate, c.Compression = true, "gzip"
			return c
		}, kinesisUnit, perRowK},
		{"firehose_joined", func() pack.Config { return pack.DefaultConfig(pack.Firehose) }, firehoseUnit, perRowF},
		{"firehose_joined_gzip", func() pack.Config { c := pack.DefaultConfig(pack.Firehose); c.Compression = "gzip"; return c }, firehoseUnit, perRowF},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			cfg := c.cfg()
			cfg.HostIdentifier = "bench-host"
			p, err := pack.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			var sizes []int
			b.ReportAllocs()
			for b.Loop() {
				recs, dropped := p.Pack(entries)
				if len(dropped) != 0 {
					b.Fatalf("%d rows dropped", len(dropped))
				}
				sizes = sizes[:0]
				for _, r := range recs {
					sizes = append(sizes, len(r.Data))
				}
			}
			ours, base := units(sizes, c.unit), units(c.base, c.unit)
			b.ReportMetric(float64(len(sizes)), "records/1000rows")
			b.ReportMetric(float64(ours), "units-ours/1000rows")
			b.ReportMetric(float64(base), "units-per-row/1000rows")
			b.ReportMetric(float64(base)/float64(ours), "fewer-units-x")
		})
	}
}

// BenchmarkLogBusy times logger calls (Forwarder.Log: the durable append a
// Thrift logger call makes) while the senders ship a backlog of 100,000
// lines to the local sink, KPL-aggregated (the default): the latency
// osqueryd sees when the extension is busiest. b.N calls are made back to
// back; p50/p99/max are reported.
func BenchmarkLogBusy(b *testing.B) {
	rows := typicalRows(4096)
	ls := startLocalSink(b)
	s := ls.sink(b, awsconf.Kinesis, "")
	pc := pack.DefaultConfig(pack.Kinesis)
	pc.Aggregate, pc.HostIdentifier = true, "bench-host"
	packer, err := pack.New(pc)
	if err != nil {
		b.Fatal(err)
	}
	q := benchQueue(b, awsconf.Kinesis)
	const backlog = 100000
	for i := 0; i < backlog; i += 1000 {
		batch := make([][]byte, 1000)
		for j := range batch {
			batch[j] = rows[(i+j)%len(rows)]
		}
		if err := q.AppendMany(uint8(pack.Result), batch); err != nil {
			b.Fatal(err)
		}
	}
	var src stats.Source
	var logBuf bytes.Buffer
	fw := New(Config{Period: time.Second}, q, packer, s, &src, slog.New(slog.NewTextHandler(&logBuf, nil)))
	ctx, cancel := context.WithCancel(b.Context())
	done := make(chan error, 1)
	go func() { done <- fw.Run(ctx) }()
	for src.Shipped.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	lat := make([]time.Duration, 0, b.N)
	busy := 0
	b.ResetTimer()
	for i := range b.N {
		if q.Len() > int64(b.N-i) {
			busy++
		}
		t0 := time.Now()
		if err := fw.Log(pack.Result, rows[i%len(rows)]); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	cancel()
	<-done
	slices.Sort(lat)
	pct := func(p int) float64 { return float64(lat[(len(lat)-1)*p/100].Microseconds()) }
	b.ReportMetric(pct(50), "p50-µs")
	b.ReportMetric(pct(99), "p99-µs")
	b.ReportMetric(pct(100), "max-µs")
	b.ReportMetric(float64(busy)/float64(b.N), "calls-with-backlog")
}
