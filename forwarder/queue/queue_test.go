package queue

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"
)

func openQueue(t testing.TB, path string, max int64) (*DB, *Queue) {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	q, err := db.Queue("kinesis", max)
	if err != nil {
		t.Fatal(err)
	}
	return db, q
}

func TestAppendReadAckSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	db, q := openQueue(t, path, 0)
	for i := range 10 {
		if err := q.Append(uint8(i%2), fmt.Appendf(nil, `{"n":%d}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	items, err := q.Read(t.Context(), 0, 4, 1<<20)
	if err != nil || len(items) != 4 {
		t.Fatalf("read %d items, err %v", len(items), err)
	}
	if string(items[3].Line) != `{"n":3}` || items[3].Kind != 1 {
		t.Errorf("item 3 = %+v", items[3])
	}
	if err := q.Ack([]int64{items[0].ID, items[2].ID}); err != nil {
		t.Fatal(err)
	}
	q.Close()
	db.Close()

	db, q = openQueue(t, path, 0)
	defer db.Close()
	if q.Len() != 8 {
		t.Fatalf("len after restart = %d, want 8", q.Len())
	}
	items, err = q.Read(t.Context(), 0, 100, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, string(it.Line))
	}
	want := []string{`{"n":1}`, `{"n":3}`, `{"n":4}`, `{"n":5}`, `{"n":6}`, `{"n":7}`, `{"n":8}`, `{"n":9}`}
	if !slices.Equal(got, want) {
		t.Errorf("after restart got %v, want %v", got, want)
	}
	// ids keep growing after everything was acked.
	var ids []int64
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	if err := q.Ack(ids); err != nil {
		t.Fatal(err)
	}
	if err := q.Append(0, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	next, _ := q.Read(t.Context(), 0, 10, 1<<20)
	if len(next) != 1 || next[0].ID <= ids[len(ids)-1] {
		t.Errorf("new id %v not above %d", next, ids[len(ids)-1])
	}
}

func TestBufferedLogMaxDropsOldest(t *testing.T) {
	db, q := openQueue(t, filepath.Join(t.TempDir(), "q.db"), 3)
	defer db.Close()
	for i := range 5 {
		if err := q.Append(0, fmt.Appendf(nil, "%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.AppendMany(1, [][]byte{[]byte("s1"), []byte("s2")}); err != nil {
		t.Fatal(err)
	}
	items, _ := q.Read(t.Context(), 0, 10, 1<<20)
	var got []string
	for _, it := range items {
		got = append(got, string(it.Line))
	}
	if !slices.Equal(got, []string{"4", "s1", "s2"}) || q.Len() != 3 || q.Dropped() != 4 {
		t.Errorf("got %v len %d dropped %d", got, q.Len(), q.Dropped())
	}
}

func TestReadByteBound(t *testing.T) {
	db, q := openQueue(t, filepath.Join(t.TempDir(), "q.db"), 0)
	defer db.Close()
	for range 5 {
		q.Append(0, make([]byte, 100))
	}
	items, _ := q.Read(t.Context(), 0, 10, 250)
	if len(items) != 2 {
		t.Errorf("read %d items within 250 bytes, want 2", len(items))
	}
	items, _ = q.Read(t.Context(), 0, 10, 10)
	if len(items) != 1 {
		t.Errorf("an item larger than maxBytes must still be returned alone, got %d", len(items))
	}
}

func TestConcurrentAppendAndAck(t *testing.T) {
	db, q := openQueue(t, filepath.Join(t.TempDir(), "q.db"), 0)
	defer db.Close()
	const writers, per = 4, 250
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				if err := q.Append(0, fmt.Appendf(nil, "%d-%d", w, i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	seen := map[string]bool{}
	var cursor int64
	deadline := time.Now().Add(30 * time.Second)
	for len(seen) < writers*per && time.Now().Before(deadline) {
		items, err := q.Read(t.Context(), cursor, 100, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, it := range items {
			if seen[string(it.Line)] {
				t.Fatalf("duplicate %s", it.Line)
			}
			seen[string(it.Line)] = true
			ids = append(ids, it.ID)
			cursor = it.ID
		}
		if err := q.Ack(ids); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if len(seen) != writers*per || q.Len() != 0 {
		t.Errorf("seen %d, len %d", len(seen), q.Len())
	}
}

// BenchmarkAppendLatency measures the logger-call path (one Append per
// call) while a sender reads and acks in the background, and reports p50/p99.
func BenchmarkAppendLatency(b *testing.B) {
	db, q := openQueue(b, filepath.Join(b.TempDir(), "q.db"), 0)
	defer db.Close()
	line := []byte(`{"name":"pack_syslog_sudo","hostIdentifier":"web-01","calendarTime":"Sun Nov 22 05:00:00 2026 UTC","unixTime":1795237200,"epoch":0,"counter":12,"numerics":false,"columns":{"host":"web-01","message":"pam_unix(sudo:session): session opened for user root","tag":"sudo"},"action":"added"}`)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // the busy sender
		defer close(done)
		var cursor int64
		for {
			select {
			case <-stop:
				return
			default:
			}
			items, _ := q.Read(b.Context(), cursor, 500, 5<<20)
			ids := make([]int64, 0, len(items))
			for _, it := range items {
				ids = append(ids, it.ID)
				cursor = it.ID
			}
			q.Ack(ids)
			if len(items) == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if err := q.Append(0, line); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	close(stop)
	<-done
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
