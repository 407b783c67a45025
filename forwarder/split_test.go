package forwarder

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osquery-syslog/osquery-syslog/forwarder/pack"
	"github.com/osquery-syslog/osquery-syslog/forwarder/queue"
	"github.com/osquery-syslog/osquery-syslog/forwarder/sink"
	"github.com/osquery-syslog/osquery-syslog/stats"
)

// snapshotLine is a snapshot result of rows rows; row big (if >= 0) is
// larger than a 1 KiB record can ever carry.
func snapshotLine(i, rows, big int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"name":"snap","hostIdentifier":"host-1","counter":%d,"snapshot":[`, i)
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		v := fmt.Sprintf("entry %d row %d %s", i, r, strings.Repeat("x", 60))
		if r == big {
			v = strings.Repeat("y", 2000)
		}
		fmt.Fprintf(&b, `{"row":"%s"}`, v)
	}
	b.WriteString(`],"action":"snapshot"}`)
	return []byte(b.String())
}

// Entries split into several records (and one that also loses a row too
// large to ship) are acknowledged only once every shipped part was
// accepted, each part exactly once, while the sink throttles at random.
func TestSplitEntriesAckedWhenAllPartsShipped(t *testing.T) {
	m := newMemSink()
	m.throttle = 0.4
	db, err := queue.Open(filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q, err := db.Queue("mem", 0)
	if err != nil {
		t.Fatal(err)
	}
	cfg := pack.Config{Service: pack.Kinesis, HostIdentifier: "host-1", MaxRecordBytes: 1024}
	p, err := pack.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	var entries []pack.Entry
	for i := range n {
		big := -1
		if i == 7 {
			big = 3
		}
		l := snapshotLine(i, 30, big)
		entries = append(entries, pack.Entry{ID: int64(i + 1), Kind: pack.Snapshot, Line: l})
	}
	// The parts the forwarder must ship, from an identical packer.
	ref, _ := pack.New(cfg)
	want, dropped := ref.Pack(entries)
	if len(want) < 2*n || len(dropped) != 1 {
		t.Fatalf("test lines split into %d records, %d dropped; want several per line and one dropped row", len(want), len(dropped))
	}

	src := stats.NewRegistry().Source("kinesis")
	f := New(Config{Period: 20 * time.Millisecond, Backoff: sink.Backoff{Base: time.Millisecond, Cap: 5 * time.Millisecond}, ReadLines: 7}, q, p, m, src, nil)
	for _, e := range entries {
		if err := f.Log(pack.Snapshot, e.Line); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for q.Len() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	// The queue is empty: every part must already have been accepted.
	accepted := len(counters(t, m))
	cancel()
	<-done
	if q.Len() != 0 {
		t.Fatalf("%d lines still queued", q.Len())
	}
	if accepted != len(want) {
		t.Errorf("queue drained with %d of %d parts accepted", accepted, len(want))
	}
	got := counters(t, m)
	for _, r := range want {
		if got[string(r.Data)] != 1 {
			t.Errorf("part accepted %d times: %.80s", got[string(r.Data)], r.Data)
		}
	}
	if src.Shipped.Load() != n {
		t.Errorf("shipped counter %d, want %d", src.Shipped.Load(), n)
	}
	if len(f.pending) != 0 {
		t.Errorf("%d entries left pending", len(f.pending))
	}
}
