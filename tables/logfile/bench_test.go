package logfile

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
)

// discardSink stores nothing: it isolates the tailer's own cost.
type discardSink struct{ n int64 }

func (d *discardSink) AppendState(ev []eventstore.Event, _ map[string]string) (int64, error) {
	d.n += int64(len(ev))
	return 0, nil
}
func (d *discardSink) Expire(time.Time) (int64, error) { return 0, nil }
func (d *discardSink) Count() int64                    { return d.n }

// BenchmarkTailFastFile: lines/s tailing one file that grows by 10,000
// lines (about 120 bytes each) between two steps, into the real event store
// ("store") and into a sink that drops them ("tailer", the tailer alone).
func BenchmarkTailFastFile(b *testing.B) {
	const perStep = 10000
	var chunk strings.Builder
	for i := range perStep {
		fmt.Fprintf(&chunk, "2026-11-30T20:00:00Z host app[%d]: request served status=200 bytes=%d path=/api/v1/items/%d\n", i%1000, i*7, i)
	}
	data := []byte(chunk.String())
	for _, mode := range []string{"store", "tailer"} {
		b.Run(mode, func(b *testing.B) {
			dir := b.TempDir()
			p := filepath.Join(dir, "fast.log")
			var sink Sink
			var states StateReader
			if mode == "store" {
				store, err := eventstore.Open(filepath.Join(b.TempDir(), "e.db"))
				if err != nil {
					b.Fatal(err)
				}
				defer store.Close()
				st, err := store.Stream(Schema(), eventstore.Limits{MaxCount: 1_000_000})
				if err != nil {
					b.Fatal(err)
				}
				sink, states = st, store
			} else {
				sink = &discardSink{}
			}
			tl, err := New(Config{Paths: []string{p}}, sink, states, nil, slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			defer tl.Close()
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			for range b.N {
				if _, err := f.Write(data); err != nil {
					b.Fatal(err)
				}
				if err := tl.Step(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if got := tl.src.LinesRead.Load(); got != int64(b.N*perStep) {
				b.Fatalf("read %d lines, want %d", got, b.N*perStep)
			}
			b.ReportMetric(float64(b.N*perStep)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}

func idleFiles(b *testing.B, n int) string {
	dir := b.TempDir()
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%04d.log", i)), []byte("a line\nanother line\n"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// BenchmarkScanIdle: one full poll of 1,000 idle files (glob, stat each,
// nothing to read). Polling every second costs this much CPU per second.
func BenchmarkScanIdle(b *testing.B) {
	dir := idleFiles(b, 1000)
	tl, err := New(Config{Paths: []string{filepath.Join(dir, "*.log")}}, &discardSink{}, nil, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer tl.Close()
	if err := tl.Step(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := tl.Step(); err != nil {
			b.Fatal(err)
		}
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIdleFilesCPU: process CPU per second of wall time while Run
// watches 1,000 idle files with the default 1 s poll interval, with inotify
// and polling only. Each iteration watches for 3 s.
func BenchmarkIdleFilesCPU(b *testing.B) {
	for _, mode := range []string{"inotify", "poll"} {
		b.Run(mode, func(b *testing.B) {
			dir := idleFiles(b, 1000)
			cfg := Config{Paths: []string{filepath.Join(dir, "*.log")}, NoInotify: mode == "poll"}
			tl, err := New(cfg, &discardSink{}, nil, nil, slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			defer tl.Close()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- tl.Run(ctx) }()
			time.Sleep(500 * time.Millisecond) // initial read of every file
			b.ReportAllocs()
			b.ResetTimer()
			cpu0, t0 := processCPU(), time.Now()
			for range b.N {
				time.Sleep(3 * time.Second)
			}
			cpu, wall := processCPU()-cpu0, time.Since(t0)
			b.StopTimer()
			cancel()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(cpu.Microseconds())/1000/wall.Seconds(), "cpu-ms/s")
		})
	}
}
