package forwarder

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/awslabs/kinesis-aggregation/go/v2/deaggregator"

	"github.com/osquery-syslog/osquery-syslog/forwarder/pack"
	"github.com/osquery-syslog/osquery-syslog/forwarder/queue"
	"github.com/osquery-syslog/osquery-syslog/forwarder/sink"
	"github.com/osquery-syslog/osquery-syslog/stats"
)

// fakeClock is a Clock that moves only when told. fired counts timer
// values delivered and not taken back by Reset or Stop.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	fired  atomic.Int64
}

type fakeTimer struct {
	c      *fakeClock
	ch     chan time.Time
	when   time.Time
	active bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_800_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{c: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	t.Reset(d)
	return t
}

// Step moves the clock to the earliest timer due by target and fires it,
// or to target if none is; it reports whether it reached target.
func (c *fakeClock) Step(target time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := target
	for _, t := range c.timers {
		if t.active && t.when.Before(next) {
			next = t.when
		}
	}
	c.now = next
	c.fireLocked()
	return !next.Before(target)
}

func (c *fakeClock) fireLocked() {
	for _, t := range c.timers {
		if t.active && !t.when.After(c.now) {
			t.active = false
			t.ch <- c.now // empty: a fired timer is inactive until Reset drains it
			c.fired.Add(1)
		}
	}
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Reset(d time.Duration) {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.drainLocked()
	t.when, t.active = t.c.now.Add(d), true
	t.c.fireLocked()
}

func (t *fakeTimer) Stop() {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.drainLocked()
	t.active = false
}

func (t *fakeTimer) drainLocked() {
	select {
	case <-t.ch:
		t.c.fired.Add(-1)
	default:
	}
}

// clockSink accepts everything. A request takes reqTime: it records, per
// line counter, the fake time when the request carrying it completes.
type clockSink struct {
	clk     *fakeClock
	reqTime time.Duration

	mu       sync.Mutex
	arrived  map[int]time.Time
	dups     int
	records  int
	requests int
}

func (s *clockSink) Name() string { return "clock" }
func (s *clockSink) Limits() sink.Limits {
	return sink.Limits{MaxRecords: 500, MaxBatchBytes: 5 << 20, MaxRecordBytes: 1 << 20, CountPartitionKey: true, BillingUnit: sink.KinesisBillingUnit}
}

func (s *clockSink) Put(_ context.Context, recs []sink.Record) (sink.Result, error) {
	done := s.clk.Now().Add(s.reqTime)
	in := make([]types.Record, len(recs))
	for i := range recs {
		in[i] = types.Record{Data: recs[i].Data, PartitionKey: &recs[i].PartitionKey}
	}
	subs, err := deaggregator.DeaggregateRecords(in)
	if err != nil {
		return sink.Result{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	s.records += len(recs)
	for _, sub := range subs {
		var v struct{ Counter int }
		if err := json.Unmarshal(sub.Data, &v); err != nil {
			return sink.Result{}, err
		}
		if _, ok := s.arrived[v.Counter]; ok {
			s.dups++
		}
		s.arrived[v.Counter] = done
	}
	return sink.Result{}, nil
}

// TestLingerWaitsAtMostPeriodPlusOneRequest drives a forwarder on a fake
// clock through a trickle with pauses and a burst: no line waits longer
// than the period plus one request time, a trickle ships as few
// aggregates, and the burst ships without waiting for the period.
func TestLingerWaitsAtMostPeriodPlusOneRequest(t *testing.T) {
	const period, reqTime = 5 * time.Second, 300 * time.Millisecond
	clk := newFakeClock()
	db, err := queue.Open(filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q, err := db.Queue("k", 0)
	if err != nil {
		t.Fatal(err)
	}
	pc := pack.DefaultConfig(pack.Kinesis)
	pc.Aggregate, pc.HostIdentifier = true, "host-1"
	p, err := pack.New(pc)
	if err != nil {
		t.Fatal(err)
	}
	s := &clockSink{clk: clk, reqTime: reqTime, arrived: map[int]time.Time{}}
	src := stats.NewRegistry().Source("kinesis")
	f := New(Config{Period: period, Clock: clk}, q, p, s, src, nil)
	h := runClocked(t, f, clk)
	settle, advance := h.settle, h.advance

	rng := rand.New(rand.NewPCG(3, 4))
	logged := map[int]time.Time{}
	start := clk.Now()
	n := 0
	logLine := func(data []byte) {
		logged[n] = clk.Now()
		if err := f.Log(pack.Result, data); err != nil {
			t.Fatal(err)
		}
		n++
		settle()
	}
	// A trickle: 1,000 rows over 5 s, then quiet hosts (pauses up to
	// 12 s), then a burst of 4 MB at one instant, then a trickle again.
	for range 1000 {
		logLine(line(n))
		advance(5 * time.Millisecond)
	}
	trickleEnd := clk.Now()
	for range 30 {
		logLine(line(n))
		advance(time.Duration(rng.Int64N(int64(12 * time.Second))))
	}
	pad := make([]byte, 2000)
	for i := range pad {
		pad[i] = 'a' + byte(i%26)
	}
	burstStart, before := clk.Now(), s.requestsSoFar()
	for range 2000 {
		logLine([]byte(`{"counter":` + itoa(n) + `,"pad":"` + string(pad) + `"}`))
	}
	burstFlushed := s.requestsSoFar() - before
	for range 300 {
		logLine(line(n))
		advance(time.Duration(rng.Int64N(int64(200 * time.Millisecond))))
	}
	advance(2 * period)

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dups != 0 || len(s.arrived) != n {
		t.Fatalf("%d of %d lines arrived, %d twice", len(s.arrived), n, s.dups)
	}
	var worst time.Duration
	trickleRecords := 0
	for i := range n {
		w := s.arrived[i].Sub(logged[i])
		if w > period+reqTime {
			t.Errorf("line %d logged at +%v waited %v > period %v + request %v", i, logged[i].Sub(start), w, period, reqTime)
		}
		worst = max(worst, w)
	}
	arrivals := map[time.Time]bool{}
	for i := range 1000 {
		arrivals[s.arrived[i]] = true
	}
	trickleRecords = len(arrivals)
	// 1,000 rows over 5 s with a 5 s period: at most 2 flushes, one
	// aggregate each.
	if trickleRecords > 2 {
		t.Errorf("the 5 s trickle shipped in %d flushes, want at most 2", trickleRecords)
	}
	// The burst (4 MB) fills records: it must start shipping before the
	// period ends, not wait for it.
	if burstFlushed == 0 || s.arrived[1030].Sub(burstStart) > period {
		t.Errorf("burst: %d requests before the burst ended, first burst line shipped after %v", burstFlushed, s.arrived[1030].Sub(burstStart))
	}
	t.Logf("%d lines in %d records (%d requests) over %v; worst wait %v; trickle ended at +%v",
		n, s.records, s.requests, clk.Now().Sub(start), worst, trickleEnd.Sub(start))
	if got := src.BilledUnits.Load(); got < int64(s.records) || got > int64(s.records)*41 {
		t.Errorf("billed units %d for %d records of at most 1 MiB", got, s.records)
	}
}

// clocked runs a Forwarder on a fake clock and knows when it is idle.
type clocked struct {
	tb     testing.TB
	f      *Forwarder
	clk    *fakeClock
	hooked atomic.Int64
	stop   func() // ends Run and waits for it; idempotent
}

// runClocked starts f.Run, stopped when tb ends, and waits until it idles.
func runClocked(tb testing.TB, f *Forwarder, clk *fakeClock) *clocked {
	h := &clocked{tb: tb, f: f, clk: clk}
	h.hooked.Store(-1)
	f.idle = func() { h.hooked.Store(f.taken.Load()) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	h.stop = sync.OnceFunc(func() { cancel(); <-done })
	tb.Cleanup(h.stop)
	h.settle()
	return h
}

// settle returns once Run has taken every signal sent to it, gone back to
// waiting after the last one, and no request is in flight: only then may
// the clock move without a flush running late.
func (h *clocked) settle() {
	h.tb.Helper()
	f, clk := h.f, h.clk
	deadline := time.Now().Add(30 * time.Second)
	for {
		taken := f.taken.Load()
		if f.signals.Load()+clk.fired.Load() == taken && h.hooked.Load() == taken && len(f.slots) == 0 {
			return
		}
		if time.Now().After(deadline) {
			h.tb.Fatalf("forwarder never settled: signals %d fired %d taken %d hooked %d in flight %d",
				f.signals.Load(), clk.fired.Load(), taken, h.hooked.Load(), len(f.slots))
		}
		runtime.Gosched()
	}
}

// advance moves the clock on by d, one due timer at a time, letting the
// forwarder act on each before time goes on.
func (h *clocked) advance(d time.Duration) {
	target := h.clk.Now().Add(d)
	for !h.clk.Step(target) {
		h.settle()
	}
	h.settle()
}

func (s *clockSink) requestsSoFar() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// sizeSink accepts everything and keeps the size of every record.
type sizeSink struct {
	limits sink.Limits
	mu     sync.Mutex
	sizes  []int
}

func (s *sizeSink) Name() string        { return "size" }
func (s *sizeSink) Limits() sink.Limits { return s.limits }
func (s *sizeSink) Put(_ context.Context, recs []sink.Record) (sink.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		s.sizes = append(s.sizes, len(r.Data))
	}
	return sink.Result{}, nil
}

// BenchmarkTrickleCost is what a fleet pays at real osquery rates: 1,000
// typical result rows handed over one logger call at a time at 200 rows/s
// (on a fake clock, so it takes no wall time), shipped by the forwarder
// with the plugins' defaults and a given period. It reports the records
// and billed units (Kinesis 25 KiB PUT payload units, Firehose 5 KiB
// steps) per 1,000 rows against osquery's one record per row.
func BenchmarkTrickleCost(b *testing.B) {
	rows := typicalRows(1000)
	cases := []struct {
		name    string
		service pack.Service
		gzip    bool
		period  time.Duration
	}{
		{"kinesis_aggregated", pack.Kinesis, false, 10 * time.Second},
		{"kinesis_aggregated_gzip", pack.Kinesis, true, 10 * time.Second},
		{"kinesis_aggregated_period1s", pack.Kinesis, false, time.Second},
		{"firehose_joined", pack.Firehose, false, 10 * time.Second},
		{"firehose_joined_gzip", pack.Firehose, true, 10 * time.Second},
		{"firehose_joined_period1s", pack.Firehose, false, time.Second},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			limits, perRowExtra := sink.KinesisLimits(0), len(`,"log_type":"result"`)
			pc := pack.DefaultConfig(c.service)
			if c.service == pack.Firehose {
				limits, perRowExtra = sink.FirehoseLimits(), len(`,"log_type":"result"`)+1
			} else {
				pc.Aggregate = true
			}
			pc.HostIdentifier = "bench-host"
			if c.gzip {
				pc.Compression = "gzip"
			}
			var ours, base, records int64
			for b.Loop() {
				p, err := pack.New(pc)
				if err != nil {
					b.Fatal(err)
				}
				q := benchQueue(b, "t")
				s := &sizeSink{limits: limits}
				clk := newFakeClock()
				f := New(Config{Period: c.period, Clock: clk}, q, p, s, stats.NewRegistry().Source("t"), nil)
				h := runClocked(b, f, clk)
				for _, r := range rows {
					if err := f.Log(pack.Result, r); err != nil {
						b.Fatal(err)
					}
					h.settle()
					h.advance(5 * time.Millisecond)
				}
				h.advance(2 * c.period)
				s.mu.Lock()
				ours, records = 0, int64(len(s.sizes))
				for _, n := range s.sizes {
					ours += limits.Units(n)
				}
				s.mu.Unlock()
				h.stop()
				base = 0
				for _, r := range rows {
					base += limits.Units(len(r) + perRowExtra)
				}
			}
			b.ReportMetric(float64(records), "records/1000rows")
			b.ReportMetric(float64(ours), "units-ours/1000rows")
			b.ReportMetric(float64(base), "units-per-row/1000rows")
			b.ReportMetric(float64(base)/float64(ours), "fewer-units-x")
		})
	}
}
