package eventstore

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// benchBatch returns n syslog-like events: a few hosts, every severity,
// a handful of facilities, ~60 tags and ~120-byte messages, all at time tm.
func benchBatch(n int, seed int, tm int64) []Event {
	events := make([]Event, n)
	for i := range events {
		k := seed + i
		events[i] = Event{Time: tm, Values: []any{
			"2024-05-01T10:00:00.123456+00:00",
			"host" + strconv.Itoa(k%4),
			int64(k % 8),
			facilities[k%len(facilities)],
			"tag" + strconv.Itoa(k%61),
			fmt.Sprintf("pam_unix(sshd:session): session opened for user u%05d by (uid=0) request %d from 10.1.%d.%d port 52311", k%977, k, k%256, k/256%256),
			tm - int64(k%3),
			int64(0),
		}}
	}
	return events
}

func BenchmarkAppend(b *testing.B) {
	cases := []struct {
		name   string
		limits Limits
		prefil int
		batch  int
	}{
		{"unbounded", Limits{}, 0, 1000},
		// Steady state of a full buffer: every batch also expires as
		// many rows as it adds.
		{"full_maxcount100k", Limits{MaxCount: 100_000, MaxAge: 24 * time.Hour}, 100_000, 1000},
		// Larger commits write fewer WAL pages per row.
		{"unbounded_batch10k", Limits{}, 0, 10_000},
	}
	for _, c := range cases {
		batch := c.batch
		b.Run(c.name, func(b *testing.B) {
			s := openStore(b, filepath.Join(b.TempDir(), "bench.db"))
			st := openStream(b, s, syslogSchema(), c.limits)
			now := time.Now().Unix()
			for i := 0; i < c.prefil; i += batch {
				if _, err := st.Append(benchBatch(batch, i, now)); err != nil {
					b.Fatal(err)
				}
			}
			// A few distinct batches, so that consecutive appends do
			// not insert identical rows.
			batches := make([][]Event, 8)
			for i := range batches {
				batches[i] = benchBatch(batch, i*batch, now)
			}
			var expired int64
			i := 0
			m := startMeter()
			for b.Loop() {
				n, err := st.Append(batches[i%len(batches)])
				if err != nil {
					b.Fatal(err)
				}
				expired += n
				i++
			}
			m.report(b, i*batch)
			b.ReportMetric(float64(expired)/float64(i), "expired/op")
		})
	}
}

// benchRows is the number of rows buffered for the query benchmarks;
// EVENTSTORE_BENCH_ROWS overrides it (e.g. 1000000).
func benchRows(b *testing.B) int {
	n := 100_000
	if v := os.Getenv("EVENTSTORE_BENCH_ROWS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("EVENTSTORE_BENCH_ROWS=%q: want an integer >= 1000", v)
		}
	}
	return n
}

// queryBenchStream fills a stream with n rows spread over n/100 seconds (100
// rows a second) and returns it with the first and last time.
func queryBenchStream(b *testing.B, n int) (*Stream, int64, int64) {
	s := openStore(b, filepath.Join(b.TempDir(), "bench.db"))
	st := openStream(b, s, syslogSchema(), Limits{})
	const perSec, batch = 100, 1000
	t0 := time.Now().Unix() - int64(n/perSec)
	for i := 0; i < n; i += batch {
		events := benchBatch(min(batch, n-i), i, 0)
		for j := range events {
			events[j].Time = t0 + int64((i+j)/perSec)
		}
		if _, err := st.Append(events); err != nil {
			b.Fatal(err)
		}
	}
	return st, t0, t0 + int64((n-1)/perSec)
}

func runQueryBench(b *testing.B, st *Stream, conds []Cond, wantMin int) {
	rows := 0
	m := startMeter()
	for b.Loop() {
		n := 0
		err := st.Query(b.Context(), conds, func(Row) error { n++; return nil })
		if err != nil {
			b.Fatal(err)
		}
		if n < wantMin {
			b.Fatalf("%d rows, want >= %d", n, wantMin)
		}
		rows += n
	}
	m.report(b, rows)
}

// meter measures wall and CPU time of a benchmark loop.
type meter struct {
	wall  time.Time
	cpu   time.Duration
	cpuOK bool
}

func startMeter() meter {
	cpu, ok := processCPU()
	return meter{wall: time.Now(), cpu: cpu, cpuOK: ok}
}

// report sets rows/s (wall clock) and, where available, cpu-us/row: the
// process CPU time (all threads, GC included) per row, which stays
// meaningful when other work competes for the CPUs.
func (m meter) report(b *testing.B, rows int) {
	b.ReportMetric(float64(rows)/time.Since(m.wall).Seconds(), "rows/s")
	if cpu, ok := processCPU(); ok && m.cpuOK && rows > 0 {
		b.ReportMetric(float64(cpu-m.cpu)/float64(time.Microsecond)/float64(rows), "cpu-us/row")
	}
}

// BenchmarkQueryWindow reads a 1% time window (in the middle of the buffer)
// through the time index, and the last 1% through a lower bound only.
func BenchmarkQueryWindow(b *testing.B) {
	n := benchRows(b)
	st, first, last := queryBenchStream(b, n)
	span := last - first + 1
	from := first + span/2
	b.Run(fmt.Sprintf("rows%d/window1pct", n), func(b *testing.B) {
		runQueryBench(b, st, []Cond{{"time", Ge, from}, {"time", Lt, from + span/100}}, n/100)
	})
	b.Run(fmt.Sprintf("rows%d/since1pct", n), func(b *testing.B) {
		runQueryBench(b, st, []Cond{{"time", Ge, last - span/100 + 1}}, n/100)
	})
	// The worst case of declaring lower bounds selective: one that keeps
	// every row is read through the time index and sorted.
	b.Run(fmt.Sprintf("rows%d/since_everything", n), func(b *testing.B) {
		runQueryBench(b, st, []Cond{{"time", Ge, first}}, n)
	})
	b.Run(fmt.Sprintf("rows%d/host_and_window", n), func(b *testing.B) {
		runQueryBench(b, st, []Cond{{"host", Eq, "host1"}, {"time", Ge, from}, {"time", Lt, from + span/100}}, n/400)
	})
}

// BenchmarkQueryFull reads every row.
func BenchmarkQueryFull(b *testing.B) {
	n := benchRows(b)
	st, _, _ := queryBenchStream(b, n)
	b.Run(fmt.Sprintf("rows%d", n), func(b *testing.B) {
		runQueryBench(b, st, nil, n)
	})
}
