package eventsrc

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/stats"
)

// WriterConfig configures a Writer. Zero values mean the defaults.
type WriterConfig struct {
	Name           string        // the source, as errors name its rows: "appending <Name> events"
	Columns        int           // values per row (the schema's columns)
	BatchSize      int           // rows per transaction at most (DefaultBatchSize)
	FlushInterval  time.Duration // a partial batch is stored after at most this long (DefaultFlushInterval)
	ExpireInterval time.Duration // how often the sink's limits are applied (DefaultExpireInterval)
	// RetryFor is how long a batch the store refuses is retried before it
	// is dropped: long enough to ride out a locked database, short enough
	// that a broken one does not stop ingestion for good
	// (DefaultRetryFor; negative: never dropped while running).
	RetryFor time.Duration
	// AppendAt is how many pending rows wake the writer before the next
	// flush tick (DefaultAppendAt). The writer then takes everything
	// pending, up to BatchSize per transaction: while the store keeps up,
	// batches stay about this small; when it falls behind, the rows that
	// arrive during one transaction all go into the next, so each commit
	// carries more rows (a commit rewrites the index pages its batch
	// touched, shared by all its rows: group commit).
	AppendAt int
}

func (c WriterConfig) withDefaults() WriterConfig {
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.ExpireInterval <= 0 {
		c.ExpireInterval = DefaultExpireInterval
	}
	if c.RetryFor == 0 {
		c.RetryFor = DefaultRetryFor
	}
	if c.AppendAt <= 0 {
		c.AppendAt = DefaultAppendAt
	}
	return c
}

// pendingBatches bounds the rows waiting for the store, in batches: beyond
// it Add blocks, so the backlog waits in the source (a pipe, the journal)
// instead of in memory.
const pendingBatches = 2

// Writer stores a source's rows from its reading goroutine in a goroutine of
// its own, so that reading and the store's transactions overlap: rows are
// group-committed (see WriterConfig.AppendAt), a refused batch is retried,
// the sink's limits are applied every ExpireInterval (and once at the
// start), and the stats follow every write.
//
// Row, Add and AddState belong to the reading goroutine; Close ends the
// writer after storing everything added.
type Writer struct {
	cfg  WriterConfig
	sink Sink
	src  *stats.Source
	log  *slog.Logger

	slab Slab // reader-owned

	mu      sync.Mutex
	room    sync.Cond // signalled when pending shrinks or the sink fails
	pending []eventstore.Event
	marks   []mark // states set with the pending rows
	fatal   error

	kick chan struct{} // a full batch is pending
	quit chan struct{} // the reader is done: flush and return
	done chan struct{}

	// writer-owned
	spare      []eventstore.Event // the previous batch's slice, for reuse
	spareMarks []mark
	retry      []eventstore.Event // taken from pending, stored up to retryDone
	retryMarks []mark
	retryDone  int
	markDone   int
	retrySince time.Time
	state      map[string]string // reused for each transaction's state
}

// mark is a state key set after the first n rows of its batch.
type mark struct {
	n          int
	key, value string
}

// NewWriter starts a writer into sink. src gets RowsExpired and
// RowsBuffered, and the store's errors; a nil log is slog.Default().
func NewWriter(cfg WriterConfig, sink Sink, src *stats.Source, log *slog.Logger) *Writer {
	cfg = cfg.withDefaults()
	if src == nil {
		src = new(stats.Source)
	}
	if log == nil {
		log = slog.Default()
	}
	w := &Writer{
		cfg: cfg, sink: sink, src: src, log: log,
		slab:    NewSlab(cfg.Columns),
		pending: make([]eventstore.Event, 0, cfg.BatchSize),
		kick:    make(chan struct{}, 1),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	w.room.L = &w.mu
	go w.run()
	return w
}

// Row returns the values of a new row (Columns of them, all nil), to fill
// in the schema's column order and pass to Add.
func (w *Writer) Row() []any { return w.slab.Row() }

// Add queues a row: its ingestion time (unix seconds) and its values. It
// waits while two batches already wait for the store, and returns an
// error wrapping eventstore.ErrClosed once the sink is closed for good.
func (w *Writer) Add(t int64, values []any) error {
	return w.add(eventstore.Event{Time: t, Values: values}, nil)
}

// AddState is Add that also sets the state key to value (eventstore
// state: a cursor, a position) in the transaction that stores this row:
// the state is stored exactly when the rows up to this one are. Of several
// values of a key in one transaction the last is stored.
func (w *Writer) AddState(t int64, values []any, key, value string) error {
	return w.add(eventstore.Event{Time: t, Values: values}, &mark{key: key, value: value})
}

func (w *Writer) add(ev eventstore.Event, m *mark) error {
	w.mu.Lock()
	for len(w.pending) >= pendingBatches*w.cfg.BatchSize && w.fatal == nil {
		w.room.Wait()
	}
	if w.fatal != nil {
		err := w.fatal
		w.mu.Unlock()
		return err
	}
	w.pending = append(w.pending, ev)
	if m != nil {
		m.n = len(w.pending)
		w.marks = append(w.marks, *m)
	}
	full := len(w.pending) == min(w.cfg.AppendAt, w.cfg.BatchSize)
	w.mu.Unlock()
	if full {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// Close stores everything added (each batch tried once more if the store
// refuses it), stops the writer and returns the sink's fatal error, if any.
// It must be called once, after the last Add.
func (w *Writer) Close() error {
	close(w.quit)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fatal
}

func (w *Writer) run() {
	defer close(w.done)
	flush := time.NewTicker(w.cfg.FlushInterval)
	defer flush.Stop()
	expire := time.NewTicker(w.cfg.ExpireInterval)
	defer expire.Stop()
	w.expire()
	for {
		select {
		case <-w.kick:
		case <-flush.C:
		case <-expire.C:
			w.expire()
			continue
		case <-w.quit:
			w.flush(true)
			return
		}
		if !w.flush(false) {
			return
		}
	}
}

// flush stores the pending rows in batches of at most BatchSize. A batch
// the sink refuses stays in retry (new rows wait in pending and, when that
// is full, in the source) and is tried again on the next tick. On the last
// flush the reader is done: everything is tried once. It returns false
// when the sink is closed for good.
func (w *Writer) flush(last bool) bool {
	for {
		if w.retry == nil {
			w.mu.Lock()
			w.retry, w.pending = w.pending, w.spare
			w.retryMarks, w.marks = w.marks, w.spareMarks
			w.room.Broadcast()
			w.mu.Unlock()
			w.spare, w.spareMarks = nil, nil
			w.retryDone, w.markDone = 0, 0
		}
		batch := w.retry
		for w.retryDone < len(batch) {
			end := w.retryDone + min(len(batch)-w.retryDone, w.cfg.BatchSize)
			if !w.append(batch[w.retryDone:end], w.stateUpTo(end), last) {
				return !w.isFatal()
			}
			w.retryDone = end
			for w.markDone < len(w.retryMarks) && w.retryMarks[w.markDone].n <= end {
				w.markDone++
			}
		}
		clear(batch) // let the values go before the slice is reused
		clear(w.retryMarks)
		w.spare, w.spareMarks = batch[:0], w.retryMarks[:0]
		w.retry, w.retryMarks = nil, nil
		if !last || len(batch) == 0 {
			return true
		}
	}
}

// stateUpTo is the state set with the retry rows from retryDone to end, or
// nil.
func (w *Writer) stateUpTo(end int) map[string]string {
	if w.markDone >= len(w.retryMarks) || w.retryMarks[w.markDone].n > end {
		return nil
	}
	if w.state == nil {
		w.state = map[string]string{}
	}
	clear(w.state)
	for _, m := range w.retryMarks[w.markDone:] {
		if m.n > end {
			break
		}
		w.state[m.key] = m.value
	}
	return w.state
}

// append stores one batch, updating the stats. A batch that keeps failing
// is dropped after RetryFor.
func (w *Writer) append(batch []eventstore.Event, state map[string]string, last bool) bool {
	expired, err := w.sink.AppendState(batch, state)
	if err == nil {
		stored(w.sink, w.src, expired)
		w.retrySince = time.Time{}
		return true
	}
	if errors.Is(err, eventstore.ErrClosed) {
		w.mu.Lock()
		w.fatal = fmt.Errorf("appending %s events: %w", w.cfg.Name, err)
		w.room.Broadcast()
		w.mu.Unlock()
		return false
	}
	now := time.Now()
	if w.retrySince.IsZero() {
		w.retrySince = now
		w.src.SetError(fmt.Errorf("appending %s events: %w", w.cfg.Name, err))
		if !last {
			w.log.Error("cannot append events; retrying", "source", w.cfg.Name, "events", len(batch), "retry_for", w.cfg.RetryFor.String(), "err", err)
		}
	}
	if !last && (w.cfg.RetryFor < 0 || now.Sub(w.retrySince) < w.cfg.RetryFor) {
		return false
	}
	w.src.SetError(fmt.Errorf("dropped %d %s events: the event store refused them: %w", len(batch), w.cfg.Name, err))
	w.log.Error("dropped events: the event store refused them", "source", w.cfg.Name, "events", len(batch), "at_shutdown", last, "err", err)
	w.retrySince = time.Time{}
	return true // dropped: move on
}

func (w *Writer) isFatal() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fatal != nil
}

func (w *Writer) expire() {
	if err := Expire(w.sink, w.src, time.Now()); err != nil {
		w.src.SetError(fmt.Errorf("expiring %s events: %w", w.cfg.Name, err))
		w.log.Error("cannot expire events", "source", w.cfg.Name, "err", err)
	}
}
