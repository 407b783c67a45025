package syslog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/internal/ctxtime"
	"github.com/osquery-syslog/osquery-syslog/stats"
)

// Config configures ingestion. Zero values mean the defaults below.
type Config struct {
	PipePath       string        // the FIFO rsyslog writes to (Run only)
	MaxLine        int           // longest line kept whole, in bytes; longer ones are truncated and flagged (DefaultMaxLine)
	LinesPerSecond int           // lines taken per second at most; excess waits in the pipe (0 = unlimited)
	BatchSize      int           // events per Append (one transaction) at most (DefaultBatchSize)
	FlushInterval  time.Duration // a partial batch is appended after at most this long (DefaultFlushInterval)
	ExpireInterval time.Duration // how often the store's age and count limits are applied (DefaultExpireInterval)
}

// Defaults of Config.
const (
	DefaultBatchSize      = 5000
	DefaultFlushInterval  = 100 * time.Millisecond
	DefaultExpireInterval = 60 * time.Second
)

// retryFor is how long a batch the store refuses is retried before it is
// dropped: long enough to ride out a locked database, short enough that a
// broken one does not stop ingestion for good. A variable for tests.
var retryFor = 30 * time.Second

// Tuning of the batcher.
const (
	// pendingBatches bounds the events waiting for the store, in batches:
	// beyond it the reader stops reading, and the backlog waits in the
	// pipe (then in rsyslog's queue) instead of in memory.
	pendingBatches = 2
	// appendAt is how many pending events wake the writer before the next
	// flush tick. The writer then takes everything pending, up to
	// BatchSize per Append: while the store keeps up, batches stay about
	// this small; when it falls behind, the events that arrive during one
	// Append all go into the next, so each commit carries more rows (a
	// commit rewrites the index pages its batch touched, shared by all its
	// rows: group commit).
	appendAt = 1000
	// errorLogEvery bounds how often malformed lines are logged; every one
	// is counted, and the last is kept in the stats table.
	errorLogEvery = 10 * time.Second
	// errorLinePrefix is how much of a malformed line errors show.
	errorLinePrefix = 256
)

func (c Config) withDefaults() Config {
	if c.MaxLine <= 0 {
		c.MaxLine = DefaultMaxLine
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.ExpireInterval <= 0 {
		c.ExpireInterval = DefaultExpireInterval
	}
	if c.LinesPerSecond < 0 {
		c.LinesPerSecond = 0
	}
	return c
}

// Sink is where Ingest puts events; *eventstore.Stream is one.
type Sink interface {
	Append(events []eventstore.Event) (expired int64, err error)
	Expire(now time.Time) (int64, error)
	Count() int64
}

// Run opens the pipe at cfg.PipePath (OpenPipe) and ingests it into st until
// ctx is done, then flushes what it has read and returns nil. A pipe that
// cannot be set up is reported at once.
func Run(ctx context.Context, cfg Config, st *eventstore.Stream, src *stats.Source, log *slog.Logger) error {
	return run(ctx, cfg, st, src, log)
}

func run(ctx context.Context, cfg Config, sink Sink, src *stats.Source, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	f, err := OpenPipe(cfg.PipePath, log)
	if err != nil {
		return err
	}
	defer f.Close()
	log.Info("reading syslog pipe", "path", cfg.PipePath)
	return Ingest(ctx, f, cfg, sink, src, log)
}

// Ingest reads rsyslog CSV lines from r into sink until ctx is done or r
// ends, appending them in batches (one Append per batch: as soon as 1,000
// events wait, or after cfg.FlushInterval; up to cfg.BatchSize when the
// sink falls behind), and applying the sink's limits every
// cfg.ExpireInterval. Malformed lines are counted and skipped; nothing in
// the input stops ingestion. It returns nil when ctx is done or r reaches
// io.EOF (a trailing partial line is dropped), after appending every line
// it has taken from r; otherwise the read error, or the sink's
// eventstore.ErrClosed.
//
// When ctx is done, a blocked read is interrupted if r has a
// SetReadDeadline method (an *os.File on a pipe does); otherwise the caller
// must close r.
func Ingest(ctx context.Context, r io.Reader, cfg Config, sink Sink, src *stats.Source, log *slog.Logger) error {
	cfg = cfg.withDefaults()
	if src == nil {
		src = new(stats.Source)
	}
	if log == nil {
		log = slog.Default()
	}
	b := newBatcher(cfg, sink, src, log)
	go b.run()

	var stopping atomic.Bool
	stop := context.AfterFunc(ctx, func() {
		stopping.Store(true)
		if d, ok := r.(interface{ SetReadDeadline(time.Time) error }); ok {
			d.SetReadDeadline(time.Now())
		}
	})
	defer stop()
	if ctx.Err() != nil {
		stopping.Store(true) // AfterFunc runs in its own goroutine: maybe not yet
	}

	rerr := readLines(ctx, r, cfg, b, src, log, &stopping)
	werr := b.close()
	if rerr != nil {
		return rerr
	}
	return werr
}

// errStopped ends the read loop once ctx is done and the buffer is drained.
var errStopped = errors.New("stopped")

func readLines(ctx context.Context, r io.Reader, cfg Config, b *batcher, src *stats.Source, log *slog.Logger, stopping *atomic.Bool) error {
	lr := NewLineReader(r, cfg.MaxLine)
	lim := newLimiter(cfg.LinesPerSecond)
	elog := errorLog{log: log}
	var counted int64
	for {
		if stopping.Load() {
			lr.stopReading(errStopped) // take what is buffered, read nothing more
		}
		line, err := lr.Next()
		if n := lr.BytesRead(); n != counted {
			src.BytesRead.Add(n - counted)
			counted = n
		}
		if err != nil {
			switch {
			case errors.Is(err, errStopped), errors.Is(err, io.EOF):
				return nil
			case stopping.Load() && !isSticky(err):
				return nil // the deadline set when ctx ended
			}
			return fmt.Errorf("reading syslog input: %w", err)
		}
		src.LinesRead.Add(1)
		if lim != nil {
			lim.wait(ctx)
		}
		if line.Truncated {
			src.TruncatedLines.Add(1)
		}
		now := time.Now()
		msg, err := ParseLine(line.Data)
		if err != nil {
			src.ParseErrors.Add(1)
			err = lineError(err, line)
			src.SetError(err)
			elog.report(now, err)
			continue
		}
		if err := b.add(b.event(now, msg, line.Truncated)); err != nil {
			return err
		}
	}
}

// lineError is osquery's "<error> in line: <line>", with the line quoted and
// cut short.
func lineError(err error, line Line) error {
	data, more := line.Data, ""
	if len(data) > errorLinePrefix {
		data, more = cut(data, errorLinePrefix), "..."
	}
	if line.Truncated {
		more += fmt.Sprintf(" (line truncated at %d bytes)", len(line.Data))
	}
	return fmt.Errorf("%w in line: %s%s", err, strconv.Quote(string(data)), more)
}

// errorLog logs the first malformed line, then at most one every
// errorLogEvery with the number left unlogged.
type errorLog struct {
	log        *slog.Logger
	last       time.Time
	suppressed int
}

func (e *errorLog) report(now time.Time, err error) {
	if !e.last.IsZero() && now.Sub(e.last) < errorLogEvery {
		e.suppressed++
		return
	}
	e.log.Warn("skipped malformed syslog line", "err", err, "not_logged_since_last", e.suppressed)
	e.last, e.suppressed = now, 0
}

// batcher hands events from the reading goroutine to the one appending
// them, so that parsing and the store's transactions overlap.
type batcher struct {
	cfg  Config
	sink Sink
	src  *stats.Source
	log  *slog.Logger

	mu      sync.Mutex
	room    sync.Cond // signalled when pending shrinks or the sink fails
	pending []eventstore.Event
	fatal   error

	kick chan struct{} // a full batch is pending
	quit chan struct{} // the reader is done: flush and return
	done chan struct{}

	vals []any // reader-owned: values of the next events, carved in chunks

	// writer-owned
	spare      []eventstore.Event // the previous batch's slice, for reuse
	retry      []eventstore.Event // taken from pending, not yet appended
	retrySince time.Time
}

func newBatcher(cfg Config, sink Sink, src *stats.Source, log *slog.Logger) *batcher {
	b := &batcher{
		cfg: cfg, sink: sink, src: src, log: log,
		pending: make([]eventstore.Event, 0, cfg.BatchSize),
		kick:    make(chan struct{}, 1),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	b.room.L = &b.mu
	return b
}

// event makes the store event of msg, in Schema() column order.
func (b *batcher) event(now time.Time, msg Message, truncated bool) eventstore.Event {
	if len(b.vals) < numColumns {
		b.vals = make([]any, numColumns*256)
	}
	v := b.vals[:numColumns:numColumns]
	b.vals = b.vals[numColumns:]
	v[colDatetime] = msg.Datetime
	v[colHost] = msg.Host
	v[colSeverity] = severityValue(msg.Severity)
	v[colFacility] = msg.Facility
	v[colTag] = msg.Tag
	v[colMessage] = msg.Message
	v[colEventTime] = EventTime(msg.Datetime, now)
	v[colTruncated] = boolInt(truncated)
	return eventstore.Event{Time: now.Unix(), Values: v}
}

// severityValue is the severity as an integer, or nil (NULL) when it is not
// a decimal integer: osquery does not validate it, so neither do we drop it.
func severityValue(s string) any {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// add queues ev, waiting while pendingBatches batches already wait.
func (b *batcher) add(ev eventstore.Event) error {
	b.mu.Lock()
	for len(b.pending) >= pendingBatches*b.cfg.BatchSize && b.fatal == nil {
		b.room.Wait()
	}
	if b.fatal != nil {
		err := b.fatal
		b.mu.Unlock()
		return err
	}
	b.pending = append(b.pending, ev)
	full := len(b.pending) == min(appendAt, b.cfg.BatchSize)
	b.mu.Unlock()
	if full {
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// close flushes everything and stops the writer.
func (b *batcher) close() error {
	close(b.quit)
	<-b.done
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.fatal
}

func (b *batcher) run() {
	defer close(b.done)
	flush := time.NewTicker(b.cfg.FlushInterval)
	defer flush.Stop()
	expire := time.NewTicker(b.cfg.ExpireInterval)
	defer expire.Stop()
	b.expire()
	for {
		select {
		case <-b.kick:
		case <-flush.C:
		case <-expire.C:
			b.expire()
			continue
		case <-b.quit:
			b.flush(true)
			return
		}
		if !b.flush(false) {
			return
		}
	}
}

// flush appends the pending events in batches of at most BatchSize. A
// batch the sink refuses stays in retry (new events wait in pending and,
// when that is full, in the pipe) and is tried again on the next tick. On
// the last flush the reader is done: everything is tried once. It returns
// false when the sink is closed for good.
func (b *batcher) flush(last bool) bool {
	for {
		if b.retry == nil {
			b.mu.Lock()
			b.retry, b.pending = b.pending, b.spare
			b.room.Broadcast()
			b.mu.Unlock()
			b.spare = nil
		}
		batch := b.retry
		for len(b.retry) > 0 {
			n := min(len(b.retry), b.cfg.BatchSize)
			if !b.append(b.retry[:n], last) {
				return !b.isFatal()
			}
			b.retry = b.retry[n:]
		}
		clear(batch) // let the strings go before the slice is reused
		b.spare, b.retry = batch[:0], nil
		if !last || len(batch) == 0 {
			return true
		}
	}
}

// append stores one batch, updating the stats. A batch that keeps failing
// is dropped after retryFor.
func (b *batcher) append(batch []eventstore.Event, last bool) bool {
	expired, err := b.sink.Append(batch)
	if err == nil {
		b.src.RowsExpired.Add(expired)
		b.src.RowsBuffered.Store(b.sink.Count())
		b.retrySince = time.Time{}
		return true
	}
	if errors.Is(err, eventstore.ErrClosed) {
		b.mu.Lock()
		b.fatal = fmt.Errorf("appending syslog events: %w", err)
		b.room.Broadcast()
		b.mu.Unlock()
		return false
	}
	now := time.Now()
	if b.retrySince.IsZero() {
		b.retrySince = now
		b.src.SetError(fmt.Errorf("appending syslog events: %w", err))
		if !last {
			b.log.Error("cannot append syslog events; retrying", "events", len(batch), "retry_for", retryFor.String(), "err", err)
		}
	}
	if !last && now.Sub(b.retrySince) < retryFor {
		return false
	}
	b.src.SetError(fmt.Errorf("dropped %d syslog events: the event store refused them: %w", len(batch), err))
	b.log.Error("dropped syslog events: the event store refused them", "events", len(batch), "at_shutdown", last, "err", err)
	b.retrySince = time.Time{}
	return true // dropped: move on
}

func (b *batcher) isFatal() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.fatal != nil
}

func (b *batcher) expire() {
	n, err := b.sink.Expire(time.Now())
	if err != nil {
		b.src.SetError(fmt.Errorf("expiring syslog events: %w", err))
		b.log.Error("cannot expire syslog events", "err", err)
		return
	}
	b.src.RowsExpired.Add(n)
	b.src.RowsBuffered.Store(b.sink.Count())
}

// limiter is a token bucket allowing rate lines per second in bursts of up
// to one second's worth.
type limiter struct {
	rate, tokens float64
	last         time.Time
	now          func() time.Time
	sleep        func(context.Context, time.Duration)
}

func newLimiter(rate int) *limiter {
	if rate <= 0 {
		return nil
	}
	return &limiter{rate: float64(rate), tokens: float64(rate), now: time.Now, sleep: func(ctx context.Context, d time.Duration) { _ = ctxtime.Sleep(ctx, d) }}
}

// wait takes one token, sleeping until there is one. Once ctx is done it
// no longer waits, so that what is buffered is taken before returning.
func (l *limiter) wait(ctx context.Context) {
	for {
		now := l.now()
		if !l.last.IsZero() {
			l.tokens = min(l.rate, l.tokens+now.Sub(l.last).Seconds()*l.rate)
		}
		l.last = now
		if l.tokens >= 1 || ctx.Err() != nil {
			l.tokens--
			return
		}
		l.sleep(ctx, time.Duration((1-l.tokens)/l.rate*float64(time.Second))+1)
	}
}
