//go:build unix

package syslog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/stats"
)

// newStream opens the syslog stream in a fresh store.
func newStream(t testing.TB) *eventstore.Stream {
	t.Helper()
	store, err := eventstore.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	st, err := store.Stream(Schema(), eventstore.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func allRows(t testing.TB, st *eventstore.Stream) []eventstore.Row {
	t.Helper()
	var rows []eventstore.Row
	if err := st.Query(context.Background(), nil, func(r eventstore.Row) error {
		rows = append(rows, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return rows
}

// runPipe starts Run on a FIFO in a temporary directory, and returns a
// writer opened O_WRONLY (as rsyslog's ompipe does, less O_NONBLOCK) and a
// function that stops Run and returns its error.
func runPipe(t *testing.T, cfg Config, st *eventstore.Stream, src *stats.Source) (*os.File, func() error) {
	t.Helper()
	cfg.PipePath = filepath.Join(t.TempDir(), "run", "syslog_pipe")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, st, src, quietLog()) }()
	w := openWriter(t, cfg.PipePath)
	var (
		once    sync.Once
		stopErr error
	)
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(10 * time.Second):
				stopErr = errors.New("Run did not return after cancel")
			}
			w.Close()
		})
		return stopErr
	}
	t.Cleanup(func() { stop() })
	return w, stop
}

// openWriter opens the FIFO write-only once a reader has it open (before
// that, a non-blocking open fails with ENXIO). Writes still block: Go's
// poller parks the goroutine while the pipe is full.
func openWriter(t testing.TB, path string) *os.File {
	t.Helper()
	var w *os.File
	waitFor(t, "a reader on the pipe", func() bool {
		var err error
		w, err = os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		return err == nil
	})
	return w
}

// ownGoroutines returns the stacks of this package's goroutines other than
// tests'.
func ownGoroutines() string {
	buf := make([]byte, 1<<20)
	var out []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "tables/syslog.") && !strings.Contains(g, "tables/syslog.Test") && !strings.Contains(g, "testing.tRunner") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

func TestRunFIFO(t *testing.T) {
	st := newStream(t)
	var src stats.Source
	w, stop := runPipe(t, Config{}, st, &src)

	malformed := []string{
		"garbage",
		`"2016-03-22T21:17:01+00:00","h","6","cron",`,
		`"a","b","c","d","e","f","g"`,
		`"unterminated,"quote`,
	}
	written := make(chan error, 1)
	go func() {
		bw := bufio.NewWriterSize(w, 64<<10)
		for i := range 10000 {
			bw.WriteString(csvLine("2016-03-22T21:17:01.701882+00:00", "host", "6", "cron", "CRON[1]:", fmt.Sprint("good ", i)))
			if i%10 == 9 {
				bw.WriteString(malformed[i/10%len(malformed)] + "\n")
			}
		}
		written <- bw.Flush()
	}()
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "10,000 rows and 1,000 parse errors", func() bool {
		return st.Count() == 10000 && src.ParseErrors.Load() == 1000
	})
	rows := allRows(t, st)
	for i, r := range rows {
		if r.Values[colMessage] != fmt.Sprint("good ", i) {
			t.Fatalf("row %d message %q", i, r.Values[colMessage])
		}
	}

	// Still reading: one more line arrives.
	w.WriteString(csvLine("2016-03-22T21:17:02+00:00", "host", "3", "auth", "sshd[2]:", "one more"))
	waitFor(t, "the line after the errors", func() bool { return st.Count() == 10001 })
	last := allRows(t, st)[10000]
	if last.Values[colMessage] != "one more" || last.Values[colSeverity] != int64(3) || last.Values[colTag] != "sshd[2]" {
		t.Errorf("last row %v", last.Values)
	}
	if got := src.LinesRead.Load(); got != 11001 {
		t.Errorf("LinesRead = %d, want 11001", got)
	}
	if got := src.RowsBuffered.Load(); got != 10001 {
		t.Errorf("RowsBuffered = %d, want 10001", got)
	}
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
	// Run's goroutines are gone (the test's own may take a moment).
	// None of this package's goroutines is left.
	waitFor(t, "Run's goroutines to end", func() bool { return ownGoroutines() == "" })
}

func TestRunLongLine(t *testing.T) {
	st := newStream(t)
	var src stats.Source
	w, stop := runPipe(t, Config{MaxLine: 64 << 10}, st, &src)
	head := `"2016-03-22T21:17:01+00:00","h","6","cron","t:","`
	long := head + strings.Repeat("x", 100<<10) + `"` + "\n"
	next := csvLine("2016-03-22T21:17:02+00:00", "h", "6", "cron", "t:", "next")
	if _, err := w.WriteString(long + next); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "2 rows", func() bool { return st.Count() == 2 })
	rows := allRows(t, st)
	if msg := rows[0].Values[colMessage]; msg != strings.Repeat("x", 64<<10-len(head)) || rows[0].Values[colTruncated] != int64(1) {
		t.Errorf("long line: message of %d bytes, truncated %v", len(msg.(string)), rows[0].Values[colTruncated])
	}
	if rows[1].Values[colMessage] != "next" || rows[1].Values[colTruncated] != int64(0) {
		t.Errorf("next line: %v", rows[1].Values)
	}
	if src.TruncatedLines.Load() != 1 || src.ParseErrors.Load() != 0 {
		t.Errorf("TruncatedLines %d ParseErrors %d, want 1 and 0", src.TruncatedLines.Load(), src.ParseErrors.Load())
	}
	if want := int64(len(long) + len(next)); src.BytesRead.Load() != want {
		t.Errorf("BytesRead %d, want %d", src.BytesRead.Load(), want)
	}
	if err := stop(); err != nil {
		t.Error(err)
	}
}

// TestRunPartialWrite: rsyslog's ompipe ignores a short write, so a
// message's head glues onto the next message. Whatever that line becomes,
// the line after it is intact.
func TestRunPartialWrite(t *testing.T) {
	full := csvLine("2016-03-22T21:17:02+00:00", "h", "6", "cron", "t:", "glued")
	tests := []struct {
		name       string
		fragment   string
		wantRows   int // rows before the good line
		wantErrors int64
	}{
		{"cut in the message", `"2016-03-22T21:17:01+00:00","h","6","cron","t:","partial mes`, 1, 0},
		{"cut in the first field", `"2016-03-2`, 0, 1},
		{"cut after a field", `"2016-03-22T21:17:01+00:00","h",`, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStream(t)
			var src stats.Source
			w, stop := runPipe(t, Config{}, st, &src)
			w.WriteString(tt.fragment) // the short write
			w.WriteString(full)        // the next message
			w.WriteString(csvLine("2016-03-22T21:17:03+00:00", "h", "6", "cron", "t:", "good"))
			waitFor(t, "the good line", func() bool { return st.Count() == int64(tt.wantRows+1) })
			rows := allRows(t, st)
			if got := rows[len(rows)-1].Values[colMessage]; got != "good" {
				t.Errorf("last row message %q, want good", got)
			}
			if got := src.ParseErrors.Load(); got != tt.wantErrors {
				t.Errorf("ParseErrors %d, want %d", got, tt.wantErrors)
			}
			if err := stop(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestRunSetupError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	os.WriteFile(path, nil, 0o600)
	start := time.Now()
	err := Run(t.Context(), Config{PipePath: path}, newStream(t), nil, quietLog())
	want := "syslog pipe " + path + " is a regular file, not a FIFO; refusing to use or replace it " +
		"(remove it to let a FIFO be created there, or use another pipe path)"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	if time.Since(start) > time.Second {
		t.Error("the setup error took long")
	}
}

// BenchmarkIngestPipe measures end to end: a writer goroutine → FIFO →
// OpenPipe → Ingest → the real event store.
func BenchmarkIngestPipe(b *testing.B) {
	benchPipe(b, func(b *testing.B) Sink { return newStream(b) })
}

// BenchmarkIngestPipeNoStore is BenchmarkIngestPipe with an in-memory sink:
// the cost of this package alone.
func BenchmarkIngestPipeNoStore(b *testing.B) {
	benchPipe(b, func(*testing.B) Sink { return &countSink{} })
}

type countSink struct{ n atomic.Int64 }

func (c *countSink) Append(ev []eventstore.Event) (int64, error) {
	c.n.Add(int64(len(ev)))
	return 0, nil
}
func (c *countSink) Expire(time.Time) (int64, error) { return 0, nil }
func (c *countSink) Count() int64                    { return c.n.Load() }

func benchPipe(b *testing.B, newSink func(*testing.B) Sink) {
	sink := newSink(b)
	var src stats.Source
	path := filepath.Join(b.TempDir(), "syslog_pipe")
	f, err := OpenPipe(path, quietLog())
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithCancel(b.Context())
	done := make(chan error, 1)
	go func() { done <- Ingest(ctx, f, Config{}, sink, &src, quietLog()) }()
	w := openWriter(b, path)
	defer w.Close()

	// Realistic lines of ~200 bytes, varied so that nothing is cached.
	lines := make([]string, 64)
	for i := range lines {
		lines[i] = csvLine("2026-11-22T05:28:40.123456+00:00", fmt.Sprint("web-", i%7), fmt.Sprint(i%8), "authpriv",
			fmt.Sprintf("sshd[%d]:", 1000+i), fmt.Sprintf("Accepted publickey for deploy from 10.0.%d.%d port %d ssh2: ED25519 SHA256:abcdefghijklmnopqrstuvwxyz0123456789", i, i*3, 40000+i))
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	var bytes int64
	bw := bufio.NewWriterSize(w, 64<<10)
	for i := range b.N {
		n, _ := bw.WriteString(lines[i%len(lines)])
		bytes += int64(n)
	}
	bw.Flush()
	for sink.Count() < int64(b.N) {
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	// CPU time per line (the writer's included) is what to compare on a
	// busy machine, where wall-clock rates vary with the other load.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/line")
	b.SetBytes(bytes / int64(b.N))
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	if src.ParseErrors.Load() != 0 {
		b.Fatalf("%d parse errors", src.ParseErrors.Load())
	}
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
