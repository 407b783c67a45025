//go:build linux && cgo

package journal

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/stats"
	"github.com/osquery-syslog/osquery-syslog/test/journaltest"
)

// benchEntries is how many generated entries BenchmarkJournalIngest reads
// without JOURNAL_BENCH_DIR.
const benchEntries = 20000

// BenchmarkJournalIngest reads a journal directory from its head into a new
// event buffer, through the source's whole path: sd_journal, the row
// mapping and fields JSON, and the SQLite appends with the cursor. It
// reports entries/s (wall clock) and cpu-ns/entry (user+system CPU of the
// process per entry). JOURNAL_BENCH_DIR names the directory to read
// (scripts/bench.sh times journalctl -o json on the same files); without
// it, benchEntries generated entries.
func BenchmarkJournalIngest(b *testing.B) {
	if err := journaltest.Available(); err != nil {
		b.Skip(err)
	}
	if err := load(); err != nil {
		b.Skip(err)
	}
	dir := os.Getenv("JOURNAL_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(b.TempDir(), "journal")
		if err := journaltest.WriteJournal(filepath.Join(dir, "system.journal"), journaltest.Generate(benchEntries, 1)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	var entries int64
	var cpu, wall time.Duration
	for b.Loop() {
		b.StopTimer()
		db := filepath.Join(b.TempDir(), "buffer.db")
		store, err := eventstore.Open(db)
		if err != nil {
			b.Fatal(err)
		}
		st, err := store.Stream(Schema(), eventstore.Limits{MaxAge: 30 * 24 * time.Hour, MaxCount: 1 << 30})
		if err != nil {
			b.Fatal(err)
		}
		c0, t0 := processCPU(), time.Now()
		b.StartTimer()
		n, err := ingestAll(dir, st)
		b.StopTimer()
		wall += time.Since(t0)
		cpu += processCPU() - c0
		if err != nil {
			b.Fatal(err)
		}
		entries += n
		store.Close()
		b.StartTimer()
	}
	if entries == 0 {
		b.Fatal("no entries read")
	}
	b.ReportMetric(float64(entries)/wall.Seconds(), "entries/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(entries), "cpu-ns/entry")
}

// ingestAll stores every entry of dir into st and returns how many.
func ingestAll(dir string, st *eventstore.Stream) (int64, error) {
	src := stats.NewRegistry().Source("journal")
	cfg := Config{Path: dir}.withDefaults()
	s := &source{cfg: cfg, sink: st, src: src, log: slog.New(slog.NewTextHandler(io.Discard, nil)), key: stateKey(dir), m: mapper{maxLine: cfg.MaxLine}}
	r, err := openReader(dir)
	if err != nil {
		return 0, err
	}
	defer r.close()
	if err := r.seekHead(); err != nil {
		return 0, err
	}
	if err := s.run(context.Background(), r, false); err != nil {
		return 0, err
	}
	return src.LinesRead.Load(), nil
}

// processCPU is the user and system CPU time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
