package syslog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/stats"
)

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// memSink is an in-memory Sink that records its calls and can fail.
type memSink struct {
	mu        sync.Mutex
	events    []eventstore.Event
	appends   []int // size of each successful Append
	delay     time.Duration
	fail      int // fail this many Appends (-1: all)
	failErr   error
	expires   int
	expireN   int64 // rows each Expire reports
	appendExp int64 // rows each Append reports expired
}

func (m *memSink) Append(events []eventstore.Event) (int64, error) {
	time.Sleep(m.delay)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != 0 {
		if m.fail > 0 {
			m.fail--
		}
		if m.failErr != nil {
			return 0, m.failErr
		}
		return 0, errors.New("database is locked")
	}
	for _, ev := range events {
		ev.Values = append([]any(nil), ev.Values...) // the caller reuses nothing, but be sure
		m.events = append(m.events, ev)
	}
	m.appends = append(m.appends, len(events))
	return m.appendExp, nil
}

func (m *memSink) Expire(time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expires++
	return m.expireN, nil
}

func (m *memSink) Count() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(len(m.events))
}

func (m *memSink) snapshot() ([]eventstore.Event, []int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]eventstore.Event(nil), m.events...), append([]int(nil), m.appends...)
}

// waitFor polls cond for up to 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func csvLine(datetime, host, severity, facility, tag, msg string) string {
	return string(csvEncode(Message{datetime, host, severity, facility, strings.TrimSuffix(tag, ":"), msg})) + "\n"
}

func TestIngestRows(t *testing.T) {
	long := strings.Repeat("m", 300)
	input := osqueryGoodLine + "\n" +
		"garbage\n" +
		"\n" +
		csvLine("2016-03-22T23:17:01+02:00", "web1", "x", "auth", "sshd[1]:", "bad severity") +
		csvLine("not a time", "web2", "3", "kern", "kernel:", long) +
		"\"a\",\"b\",\"1\",\"c\",\"d\",\"crlf\"\r\n" +
		`a,b,c,d,e,f,g` + "\n" +
		"partial line never finished"
	sink := &memSink{}
	var src stats.Source
	before := time.Now().Unix()
	err := Ingest(t.Context(), strings.NewReader(input), Config{MaxLine: 200}, sink, &src, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now().Unix()
	events, _ := sink.snapshot()
	cutMsg := strings.TrimSuffix(csvLine("not a time", "web2", "3", "kern", "kernel:", long), "\n")[:200]
	cutMsg = cutMsg[strings.LastIndex(cutMsg, `"`)+1:]
	want := [][]any{
		{"2016-03-22T21:17:01.701882+00:00", "vagrant-ubuntu-trusty-64", int64(6), "cron", "CRON[16538]",
			"(root) CMD (   cd / && run-parts --report /etc/cron.hourly)", int64(1458681421), int64(0)},
		{"2016-03-22T23:17:01+02:00", "web1", nil, "auth", "sshd[1]", "bad severity", int64(1458681421), int64(0)},
		{"not a time", "web2", int64(3), "kern", "kernel", cutMsg, int64(-1) /* ingestion time */, int64(1)},
		{"a", "b", int64(1), "c", "d", "crlf", int64(-1), int64(0)},
	}
	if len(events) != len(want) {
		t.Fatalf("%d events, want %d: %v", len(events), len(want), events)
	}
	for i, ev := range events {
		if ev.Time < before || ev.Time > after {
			t.Errorf("event %d time %d, want ingestion time in [%d, %d]", i, ev.Time, before, after)
		}
		w := append([]any(nil), want[i]...)
		if w[colEventTime] == int64(-1) {
			if et := ev.Values[colEventTime].(int64); et < before || et > after {
				t.Errorf("event %d event_time %d, want the ingestion time", i, et)
			}
			w[colEventTime] = ev.Values[colEventTime]
		}
		if !reflect.DeepEqual(ev.Values, w) {
			t.Errorf("event %d values\n%#v\nwant\n%#v", i, ev.Values, w)
		}
	}
	counters := []struct {
		name      string
		got, want int64
	}{
		{"LinesRead", src.LinesRead.Load(), 6}, // the empty line and the unfinished one are not lines
		{"BytesRead", src.BytesRead.Load(), int64(len(input))},
		{"ParseErrors", src.ParseErrors.Load(), 2},
		{"TruncatedLines", src.TruncatedLines.Load(), 1},
		{"RowsBuffered", src.RowsBuffered.Load(), 4},
	}
	for _, c := range counters {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if msg, _ := src.LastError(); msg != `Received more fields than expected in line: "a,b,c,d,e,f,g"` {
		t.Errorf("last error %q", msg)
	}
}

func TestLineError(t *testing.T) {
	tests := []struct {
		line Line
		want string
	}{
		{Line{Data: []byte("garbage")}, `Received fewer fields than expected in line: "garbage"`},
		{Line{Data: []byte("tab\there \"q\"")}, `Received fewer fields than expected in line: "tab\there \"q\""`},
		{Line{Data: []byte(strings.Repeat("x", 300))}, `Received fewer fields than expected in line: "` + strings.Repeat("x", 256) + `"...`},
		{Line{Data: []byte("cut"), Truncated: true}, `Received fewer fields than expected in line: "cut" (line truncated at 3 bytes)`},
	}
	for _, tt := range tests {
		err := lineError(ErrFewerFields, tt.line)
		if err.Error() != tt.want || !errors.Is(err, ErrFewerFields) {
			t.Errorf("lineError = %q, want %q", err, tt.want)
		}
	}
}

func TestIngestBatches(t *testing.T) {
	var b strings.Builder
	for i := range 2500 {
		b.WriteString(csvLine("2016-03-22T21:17:01+00:00", "h", "6", "cron", "t:", fmt.Sprint("line ", i)))
	}
	sink := &memSink{}
	if err := Ingest(t.Context(), strings.NewReader(b.String()), Config{BatchSize: 1000}, sink, nil, quietLog()); err != nil {
		t.Fatal(err)
	}
	events, appends := sink.snapshot()
	if len(events) != 2500 {
		t.Fatalf("%d events, want 2500", len(events))
	}
	for i, ev := range events {
		if ev.Values[colMessage] != fmt.Sprint("line ", i) {
			t.Fatalf("event %d is %q: order lost", i, ev.Values[colMessage])
		}
	}
	for _, n := range appends {
		if n > 1000 {
			t.Errorf("an Append of %d events, more than BatchSize", n)
		}
	}
	if len(appends) < 3 || len(appends) > 25 {
		t.Errorf("%d Appends for 2500 lines in batches of 1000: %v", len(appends), appends)
	}
}

// TestIngestGroupCommit: while the sink is slow, what arrives during one
// Append goes into the next, up to BatchSize.
func TestIngestGroupCommit(t *testing.T) {
	var b strings.Builder
	for range 30000 {
		b.WriteString(csvLine("d", "h", "6", "cron", "t:", "m"))
	}
	sink := &memSink{delay: 20 * time.Millisecond}
	if err := Ingest(t.Context(), strings.NewReader(b.String()), Config{}, sink, nil, quietLog()); err != nil {
		t.Fatal(err)
	}
	events, appends := sink.snapshot()
	if len(events) != 30000 {
		t.Fatalf("%d events", len(events))
	}
	big := 0
	for _, n := range appends {
		if n > DefaultBatchSize {
			t.Errorf("an Append of %d events, more than BatchSize", n)
		}
		if n > appendAt {
			big++
		}
	}
	if big == 0 || len(appends) > 30000/appendAt {
		t.Errorf("Appends %v: batches did not grow while the sink was slow", appends)
	}
}

// TestIngestFlushAndCancel: lines trickling in are appended within the
// flush interval; cancelling ctx interrupts the blocked read and returns nil.
func TestIngestFlushAndCancel(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	sink := &memSink{}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Ingest(ctx, r, Config{FlushInterval: 20 * time.Millisecond}, sink, nil, quietLog()) }()
	for i := range 3 {
		w.WriteString(csvLine("d", "h", "6", "cron", "t:", fmt.Sprint(i)))
	}
	waitFor(t, "3 events", func() bool { return sink.Count() == 3 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Ingest after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Ingest did not return after cancel")
	}
}

// TestIngestDrainsOnCancel: lines already read when ctx ends are appended.
func TestIngestDrainsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var b strings.Builder
	for range 5000 {
		b.WriteString(csvLine("d", "h", "6", "cron", "t:", "m"))
	}
	cancel() // before the first read: the buffer is empty, nothing is taken
	sink := &memSink{}
	if err := Ingest(ctx, strings.NewReader(b.String()), Config{}, sink, nil, quietLog()); err != nil {
		t.Fatal(err)
	}
	if n := sink.Count(); n != 0 {
		t.Errorf("%d events read after cancel, want 0", n)
	}
}

func TestIngestRetriesStore(t *testing.T) {
	sink := &memSink{fail: 3}
	var src stats.Source
	input := csvLine("d", "h", "6", "cron", "t:", "a") + csvLine("d", "h", "6", "cron", "t:", "b")
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Ingest(ctx, r, Config{FlushInterval: 10 * time.Millisecond}, sink, &src, quietLog()) }()
	w.WriteString(input)
	waitFor(t, "the events after 3 failed appends", func() bool { return sink.Count() == 2 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if msg, _ := src.LastError(); msg != "appending syslog events: database is locked" {
		t.Errorf("last error %q", msg)
	}
}

func TestIngestDropsAfterRetryFor(t *testing.T) {
	defer func(d time.Duration) { retryFor = d }(retryFor)
	retryFor = 50 * time.Millisecond
	sink := &memSink{fail: -1}
	var src stats.Source
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Ingest(ctx, r, Config{FlushInterval: 10 * time.Millisecond}, sink, &src, quietLog()) }()
	w.WriteString(csvLine("d", "h", "6", "cron", "t:", "lost"))
	waitFor(t, "the drop", func() bool { msg, _ := src.LastError(); return strings.HasPrefix(msg, "dropped") })
	if msg, _ := src.LastError(); msg != "dropped 1 syslog events: the event store refused them: database is locked" {
		t.Errorf("last error %q", msg)
	}
	// Ingestion goes on once the store recovers.
	sink.mu.Lock()
	sink.fail = 0
	sink.mu.Unlock()
	w.WriteString(csvLine("d", "h", "6", "cron", "t:", "kept"))
	waitFor(t, "the next event", func() bool { return sink.Count() == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestIngestStoreClosed(t *testing.T) {
	var b strings.Builder
	for range 20000 {
		b.WriteString(csvLine("d", "h", "6", "cron", "t:", "m"))
	}
	sink := &memSink{fail: -1, failErr: fmt.Errorf("append: %w", eventstore.ErrClosed)}
	err := Ingest(t.Context(), strings.NewReader(b.String()), Config{BatchSize: 10}, sink, nil, quietLog())
	if !errors.Is(err, eventstore.ErrClosed) {
		t.Errorf("err = %v, want ErrClosed", err)
	}
}

func TestIngestExpires(t *testing.T) {
	sink := &memSink{expireN: 5, appendExp: 2}
	var src stats.Source
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- Ingest(ctx, r, Config{ExpireInterval: 10 * time.Millisecond, FlushInterval: 10 * time.Millisecond}, sink, &src, quietLog())
	}()
	w.WriteString(csvLine("d", "h", "6", "cron", "t:", "m"))
	waitFor(t, "three expiries and an append", func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return sink.expires >= 3 && len(sink.events) == 1
	})
	cancel()
	<-done
	sink.mu.Lock()
	want := int64(5*sink.expires + 2)
	sink.mu.Unlock()
	if got := src.RowsExpired.Load(); got != want {
		t.Errorf("RowsExpired = %d, want %d", got, want)
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	var slept []time.Duration
	l := newLimiter(10)
	l.now = func() time.Time { return now }
	l.sleep = func(_ context.Context, d time.Duration) { slept = append(slept, d); now = now.Add(d) }
	for range 10 { // a second's worth at once
		l.wait(t.Context())
	}
	if len(slept) != 0 {
		t.Fatalf("slept %v within the burst", slept)
	}
	start := now
	for range 20 {
		l.wait(t.Context())
	}
	if el := now.Sub(start); el < 1900*time.Millisecond || el > 2100*time.Millisecond {
		t.Errorf("20 lines past the burst took %v, want ~2s at 10/s", el)
	}
	if newLimiter(0) != nil {
		t.Error("rate 0 is unlimited")
	}

	// A cancelled context stops the waiting.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	slept = nil
	for range 5 {
		l.wait(ctx)
	}
	if len(slept) != 0 {
		t.Errorf("slept %v after cancel", slept)
	}
}

func TestIngestRateLimited(t *testing.T) {
	var b strings.Builder
	for range 30 {
		b.WriteString(csvLine("d", "h", "6", "cron", "t:", "m"))
	}
	sink := &memSink{}
	start := time.Now()
	if err := Ingest(t.Context(), strings.NewReader(b.String()), Config{LinesPerSecond: 50}, sink, nil, quietLog()); err != nil {
		t.Fatal(err)
	}
	// 50 at once, so no wait for 30; then 30 more at 50/s take 0.6 s.
	if el := time.Since(start); el > 400*time.Millisecond {
		t.Errorf("30 lines within the burst took %v", el)
	}
	start = time.Now()
	var b2 strings.Builder
	for range 80 {
		b2.WriteString(csvLine("d", "h", "6", "cron", "t:", "m"))
	}
	if err := Ingest(t.Context(), strings.NewReader(b2.String()), Config{LinesPerSecond: 50}, sink, nil, quietLog()); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 500*time.Millisecond {
		t.Errorf("80 lines at 50/s took %v, want >= 0.6 s", el)
	}
	if n := sink.Count(); n != 110 {
		t.Errorf("%d events, want 110: rate limiting must delay, not drop", n)
	}
}

var _ io.Reader = (*chunkReader)(nil)
