package forwarder

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/osquery-syslog/osquery-syslog/forwarder/pack"
	"github.com/osquery-syslog/osquery-syslog/forwarder/queue"
	"github.com/osquery-syslog/osquery-syslog/forwarder/sink"
	"github.com/osquery-syslog/osquery-syslog/stats"
)

// memSink is an in-memory sink with fault injection. It records every
// accepted record and every record it was sent.
type memSink struct {
	mu       sync.Mutex
	accepted [][]byte
	sent     map[string]int // data -> times sent
	throttle float64        // fraction of entries failed per request
	down     bool           // whole requests fail (retryable)
	terminal bool           // whole requests fail (terminal)
	rng      *rand.Rand
}

func newMemSink() *memSink {
	return &memSink{sent: map[string]int{}, rng: rand.New(rand.NewPCG(1, 2))}
}

func (m *memSink) Name() string { return "mem" }
func (m *memSink) Limits() sink.Limits {
	return sink.Limits{MaxRecords: 500, MaxBatchBytes: 5 << 20, MaxRecordBytes: 1 << 20, CountPartitionKey: true}
}

func (m *memSink) Put(ctx context.Context, recs []sink.Record) (sink.Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range recs {
		m.sent[string(r.Data)]++
	}
	if m.terminal {
		return sink.Result{}, &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "stream not found"}
	}
	if m.down {
		return sink.Result{}, &smithy.GenericAPIError{Code: "ServiceUnavailable", Message: "down"}
	}
	var res sink.Result
	for i, r := range recs {
		if m.rng.Float64() < m.throttle {
			res.Failed = append(res.Failed, i)
			res.Codes = append(res.Codes, "ProvisionedThroughputExceededException")
			continue
		}
		m.accepted = append(m.accepted, r.Data)
	}
	return res, nil
}

func (m *memSink) set(fn func(*memSink)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn(m)
}

type harness struct {
	db   *queue.DB
	q    *queue.Queue
	src  *stats.Source
	fwd  *Forwarder
	stop context.CancelFunc
	done chan struct{}
}

func start(t *testing.T, path string, s sink.Sink) *harness {
	t.Helper()
	db, err := queue.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	q, err := db.Queue("mem", 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pack.New(pack.Config{Service: pack.Kinesis, HostIdentifier: "host-1"})
	if err != nil {
		t.Fatal(err)
	}
	src := stats.NewRegistry().Source("kinesis")
	f := New(Config{Period: 20 * time.Millisecond, Backoff: sink.Backoff{Base: time.Millisecond, Cap: 10 * time.Millisecond}, Pause: 20 * time.Millisecond, ReadLines: 700}, q, p, s, src, nil)
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{db: db, q: q, src: src, fwd: f, stop: cancel, done: make(chan struct{})}
	go func() { defer close(h.done); f.Run(ctx) }()
	return h
}

func (h *harness) close() {
	h.stop()
	<-h.done
	h.q.Close()
	h.db.Close()
}

func line(i int) []byte {
	return fmt.Appendf(nil, `{"name":"q","hostIdentifier":"host-1","counter":%d,"columns":{"n":"%d"},"action":"added"}`, i, i)
}

func waitAccepted(t *testing.T, m *memSink, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		m.mu.Lock()
		got := len(m.accepted)
		m.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %d accepted records", n)
}

// counters returns, per counter value, how often it was accepted.
func counters(t *testing.T, m *memSink) map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int{}
	for _, d := range m.accepted {
		out[string(d)]++
	}
	return out
}

func TestThrottledEntriesResentOnlyAndExactlyOnce(t *testing.T) {
	m := newMemSink()
	m.throttle = 0.3
	h := start(t, filepath.Join(t.TempDir(), "q.db"), m)
	defer h.close()
	const n = 3000
	for i := range n {
		if err := h.fwd.Log(pack.Result, line(i)); err != nil {
			t.Fatal(err)
		}
	}
	waitAccepted(t, m, n)
	time.Sleep(50 * time.Millisecond)
	got := counters(t, m)
	if len(got) != n {
		t.Fatalf("%d distinct records accepted, want %d", len(got), n)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	resent := 0
	for d, c := range got {
		if c != 1 {
			t.Errorf("record accepted %d times: %s", c, d)
		}
		// A record is sent again only after it failed: sends = failures + 1.
		resent += m.sent[d] - 1
	}
	if resent == 0 || int64(resent) != h.src.Retried.Load() {
		t.Errorf("resent %d records, Retried counter %d", resent, h.src.Retried.Load())
	}
	if h.src.FailedByCode.Map()["ProvisionedThroughputExceededException"] != int64(resent) {
		t.Errorf("failed_by_code = %v, want %d throttles", h.src.FailedByCode.Map(), resent)
	}
	deadline := time.Now().Add(10 * time.Second)
	for h.q.Len() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if h.q.Len() != 0 || h.src.Shipped.Load() != n {
		t.Errorf("queue len %d, shipped %d", h.q.Len(), h.src.Shipped.Load())
	}
}

func TestOutageThenRecoveryLosesNothing(t *testing.T) {
	m := newMemSink()
	m.down = true
	h := start(t, filepath.Join(t.TempDir(), "q.db"), m)
	defer h.close()
	for i := range 500 {
		h.fwd.Log(pack.Result, line(i))
	}
	time.Sleep(200 * time.Millisecond)
	if len(counters(t, m)) != 0 {
		t.Fatal("records accepted while down")
	}
	m.set(func(m *memSink) { m.down = false })
	waitAccepted(t, m, 500)
	for d, c := range counters(t, m) {
		if c != 1 {
			t.Errorf("accepted %d times: %s", c, d)
		}
	}
}

func TestTerminalErrorPausesAndSays(t *testing.T) {
	m := newMemSink()
	m.terminal = true
	h := start(t, filepath.Join(t.TempDir(), "q.db"), m)
	defer h.close()
	h.fwd.Log(pack.Result, line(1))
	deadline := time.Now().Add(10 * time.Second)
	for h.src.State() == "ok" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if h.src.State() != "paused: ResourceNotFoundException" {
		t.Fatalf("state = %q", h.src.State())
	}
	m.set(func(m *memSink) { m.terminal = false })
	waitAccepted(t, m, 1)
	deadline = time.Now().Add(10 * time.Second)
	for h.src.State() != "ok" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if h.src.State() != "ok" {
		t.Errorf("state after recovery = %q", h.src.State())
	}
}

func TestRestartMidStreamLosesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	m := newMemSink()
	m.throttle = 0.5
	h := start(t, path, m)
	const n = 2000
	for i := range n {
		h.fwd.Log(pack.Result, line(i))
	}
	time.Sleep(30 * time.Millisecond)
	h.close() // abrupt: whatever is in flight is not acknowledged
	m.set(func(m *memSink) { m.throttle = 0 })
	h = start(t, path, m)
	defer h.close()
	waitAccepted(t, m, n)
	deadline := time.Now().Add(10 * time.Second)
	for h.q.Len() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := counters(t, m)
	if len(got) != n {
		t.Fatalf("%d distinct accepted, want %d", len(got), n)
	}
	if h.q.Len() != 0 {
		t.Errorf("queue not drained: %d", h.q.Len())
	}
}

func TestDisableStatus(t *testing.T) {
	m := newMemSink()
	db, _ := queue.Open(filepath.Join(t.TempDir(), "q.db"))
	defer db.Close()
	q, _ := db.Queue("mem", 0)
	p, _ := pack.New(pack.Config{Service: pack.Kinesis, HostIdentifier: "h"})
	f := New(Config{DisableStatus: true}, q, p, m, stats.NewRegistry().Source("k"), nil)
	if err := f.Log(pack.Status, []byte(`{"s":0,"f":"a.cpp","i":1,"m":"x","h":"h","c":"c","u":1}`)); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 0 {
		t.Error("status log queued although disabled")
	}
}
