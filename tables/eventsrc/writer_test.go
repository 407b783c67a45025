package eventsrc

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/stats"
)

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// The tests write state keys "test/..." (eventstore requires a registered namespace).
var _ = eventstore.NewNamespace("test")

var testSchema = eventstore.Schema{Name: "test", Columns: []eventstore.Column{{Name: "message", Type: eventstore.Text}}}

// openStream opens a real event store with the test stream.
func openStream(t *testing.T, limits eventstore.Limits) (*eventstore.Store, *eventstore.Stream) {
	t.Helper()
	store, err := eventstore.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	st, err := store.Stream(testSchema, limits)
	if err != nil {
		t.Fatal(err)
	}
	return store, st
}

func TestWriterStoresRowsAndState(t *testing.T) {
	store, st := openStream(t, eventstore.Limits{MaxCount: 5})
	var src stats.Source
	w := NewWriter(WriterConfig{Name: "test", Columns: 1, BatchSize: 3}, st, &src, quietLog())
	for i := range 8 {
		v := w.Row()
		v[0] = fmt.Sprint("m", i)
		var err error
		if i%2 == 1 {
			err = w.AddState(time.Now().Unix(), v, "test/cursor", fmt.Sprint("c", i))
		} else {
			err = w.Add(time.Now().Unix(), v)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if m, err := store.States("test/"); err != nil || m["test/cursor"] != "c7" {
		t.Errorf("state %v, %v; want test/cursor=c7", m, err)
	}
	if st.Count() != 5 || src.RowsBuffered.Load() != 5 || src.RowsExpired.Load() != 3 {
		t.Errorf("count %d, RowsBuffered %d, RowsExpired %d; want 5, 5, 3", st.Count(), src.RowsBuffered.Load(), src.RowsExpired.Load())
	}
}

// recordSink records every AppendState and can fail the first ones.
type recordSink struct {
	mu      sync.Mutex
	fail    int
	rows    []string
	appends []recorded
}

type recorded struct {
	rows  []string
	state map[string]string
}

func (r *recordSink) AppendState(events []eventstore.Event, state map[string]string) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != 0 {
		r.fail--
		return 0, errors.New("database is locked")
	}
	var a recorded
	for _, ev := range events {
		a.rows = append(a.rows, ev.Values[0].(string))
	}
	if state != nil {
		a.state = map[string]string{}
		for k, v := range state {
			a.state[k] = v
		}
	}
	r.rows = append(r.rows, a.rows...)
	r.appends = append(r.appends, a)
	return 0, nil
}

func (r *recordSink) Expire(time.Time) (int64, error) { return 0, nil }

func (r *recordSink) Count() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int64(len(r.rows))
}

// TestWriterStateWithItsRows: however the rows are cut into transactions,
// each carries the state set with its own rows, the last value per key.
func TestWriterStateWithItsRows(t *testing.T) {
	for _, batch := range []int{1, 2, 3, 7, 100} {
		t.Run(fmt.Sprint("batch ", batch), func(t *testing.T) {
			sink := &recordSink{fail: 2}
			w := NewWriter(WriterConfig{Name: "test", Columns: 1, BatchSize: batch, FlushInterval: time.Millisecond, RetryFor: -1}, sink, nil, quietLog())
			cursor := map[string]string{} // row -> the state set with it
			for i := range 50 {
				v := w.Row()
				v[0] = fmt.Sprint(i)
				if i%3 == 0 {
					cursor[v[0].(string)] = fmt.Sprint("c", i)
					w.AddState(int64(i), v, "k", fmt.Sprint("c", i))
				} else {
					w.Add(int64(i), v)
				}
			}
			// Close tries a refused batch only once more: let the retries
			// happen first.
			deadline := time.Now().Add(10 * time.Second)
			for sink.Count() < 50 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if len(sink.rows) != 50 {
				t.Fatalf("%d rows stored, want 50", len(sink.rows))
			}
			for _, a := range sink.appends {
				want := ""
				for _, r := range a.rows {
					if c, ok := cursor[r]; ok {
						want = c
					}
				}
				if len(a.rows) > batch {
					t.Errorf("%d rows in one transaction, BatchSize %d", len(a.rows), batch)
				}
				if got := a.state["k"]; got != want || (want == "") != (a.state == nil) {
					t.Errorf("rows %v stored with state %v, want k=%q", a.rows, a.state, want)
				}
			}
		})
	}
}

func TestWriterDropsAfterRetryFor(t *testing.T) {
	sink := &recordSink{fail: 1 << 30}
	var src stats.Source
	w := NewWriter(WriterConfig{Name: "test", Columns: 1, FlushInterval: time.Millisecond, RetryFor: 20 * time.Millisecond}, sink, &src, quietLog())
	v := w.Row()
	v[0] = "lost"
	w.Add(1, v)
	deadline := time.Now().Add(10 * time.Second)
	for msg, _ := src.LastError(); msg != "dropped 1 test events: the event store refused them: database is locked"; msg, _ = src.LastError() {
		if time.Now().After(deadline) {
			t.Fatalf("last error %q", msg)
		}
		time.Sleep(time.Millisecond)
	}
	w.Close()
}

func TestWriterStoreClosed(t *testing.T) {
	store, st := openStream(t, eventstore.Limits{})
	store.Close()
	w := NewWriter(WriterConfig{Name: "test", Columns: 1, BatchSize: 1, AppendAt: 1}, st, nil, quietLog())
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		v := w.Row()
		v[0] = "x"
		err = w.Add(1, v)
		time.Sleep(time.Millisecond)
	}
	if cerr := w.Close(); !errors.Is(cerr, eventstore.ErrClosed) || (err != nil && !errors.Is(err, eventstore.ErrClosed)) {
		t.Errorf("Add %v, Close %v; want ErrClosed", err, cerr)
	}
}

func TestBatchCommit(t *testing.T) {
	store, st := openStream(t, eventstore.Limits{MaxCount: 2})
	var src stats.Source
	b := NewBatch(st, 1, &src)
	for _, m := range []string{"a", "b", "c"} {
		v := b.Row()
		v[0] = m
		b.Add(1, v)
	}
	if err := b.Commit(map[string]string{"test/pos": "3"}); err != nil {
		t.Fatal(err)
	}
	if b.Len() != 0 || st.Count() != 2 || src.RowsBuffered.Load() != 2 || src.RowsExpired.Load() != 1 {
		t.Errorf("len %d count %d buffered %d expired %d", b.Len(), st.Count(), src.RowsBuffered.Load(), src.RowsExpired.Load())
	}
	if m, _ := store.States("test/"); m["test/pos"] != "3" {
		t.Errorf("state %v", m)
	}
	if err := b.Commit(nil); err != nil {
		t.Errorf("empty commit: %v", err)
	}
	// A refused commit empties the batch too: the source reads again.
	fail := &recordSink{fail: 1}
	b = NewBatch(fail, 1, &src)
	v := b.Row()
	v[0] = "x"
	b.Add(1, v)
	if err := b.Commit(nil); err == nil || b.Len() != 0 {
		t.Errorf("commit to a failing sink: %v, %d rows left", err, b.Len())
	}
}

func TestExpire(t *testing.T) {
	store, st := openStream(t, eventstore.Limits{})
	var src stats.Source
	b := NewBatch(st, 1, &src)
	for _, ts := range []int64{1, 2, time.Now().Unix()} {
		v := b.Row()
		v[0] = "m"
		b.Add(ts, v)
	}
	if err := b.Commit(nil); err != nil {
		t.Fatal(err)
	}
	hour, err := store.Stream(testSchema, eventstore.Limits{MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := Expire(hour, &src, time.Now()); err != nil {
		t.Fatal(err)
	}
	if st.Count() != 1 || src.RowsBuffered.Load() != 1 || src.RowsExpired.Load() != 2 {
		t.Errorf("count %d, RowsBuffered %d, RowsExpired %d; want 1, 1, 2", st.Count(), src.RowsBuffered.Load(), src.RowsExpired.Load())
	}
}
