package syslog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/internal/ctxtime"
	"github.com/osquery-syslog/osquery-syslog/stats"
	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc"
)

// Config configures ingestion. Zero values mean the defaults of eventsrc.
type Config struct {
	PipePath       string        // the FIFO rsyslog writes to (Run only)
	MaxLine        int           // longest line kept whole, in bytes; longer ones are truncated and flagged (eventsrc.DefaultMaxLine)
	LinesPerSecond int           // lines taken per second at most; excess waits in the pipe (0 = unlimited)
	BatchSize      int           // events per Append (one transaction) at most (eventsrc.DefaultBatchSize)
	FlushInterval  time.Duration // a partial batch is appended after at most this long (eventsrc.DefaultFlushInterval)
	ExpireInterval time.Duration // how often the store's age and count limits are applied (eventsrc.DefaultExpireInterval)
}

// retryFor is how long a batch the store refuses is retried before it is
// dropped (eventsrc.WriterConfig.RetryFor). A variable for tests.
var retryFor = eventsrc.DefaultRetryFor

// Reporting of malformed lines.
const (
	// errorLogEvery bounds how often malformed lines are logged; every one
	// is counted, and the last is kept in the stats table.
	errorLogEvery = 10 * time.Second
	// errorLinePrefix is how much of a malformed line errors show.
	errorLinePrefix = 256
)

func (c Config) withDefaults() Config {
	if c.MaxLine <= 0 {
		c.MaxLine = eventsrc.DefaultMaxLine
	}
	if c.LinesPerSecond < 0 {
		c.LinesPerSecond = 0
	}
	return c
}

// writer is the eventsrc writer of cfg into sink.
func (c Config) writer(sink eventsrc.Sink, src *stats.Source, log *slog.Logger) *eventsrc.Writer {
	return eventsrc.NewWriter(eventsrc.WriterConfig{
		Name:           "syslog",
		Columns:        numColumns,
		BatchSize:      c.BatchSize,
		FlushInterval:  c.FlushInterval,
		ExpireInterval: c.ExpireInterval,
		RetryFor:       retryFor,
	}, sink, src, log)
}

// Run opens the pipe at cfg.PipePath (OpenPipe) and ingests it into st until
// ctx is done, then flushes what it has read and returns nil. A pipe that
// cannot be set up is reported at once.
func Run(ctx context.Context, cfg Config, st *eventstore.Stream, src *stats.Source, log *slog.Logger) error {
	ingest, err := Open(cfg, st, src, log)
	if err != nil {
		return err
	}
	return ingest(ctx)
}

// Open sets up the pipe at cfg.PipePath: its errors (permissions, another
// reader holding the lock) come back here at once. The returned function
// ingests the pipe into sink until ctx is done, as Ingest, and closes it.
func Open(cfg Config, sink eventsrc.Sink, src *stats.Source, log *slog.Logger) (func(context.Context) error, error) {
	if log == nil {
		log = slog.Default()
	}
	f, err := OpenPipe(cfg.PipePath, log)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		defer f.Close()
		log.Info("reading syslog pipe", "path", cfg.PipePath)
		return Ingest(ctx, f, cfg, sink, src, log)
	}, nil
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
func Ingest(ctx context.Context, r io.Reader, cfg Config, sink eventsrc.Sink, src *stats.Source, log *slog.Logger) error {
	cfg = cfg.withDefaults()
	if src == nil {
		src = new(stats.Source)
	}
	if log == nil {
		log = slog.Default()
	}
	w := cfg.writer(sink, src, log)

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

	rerr := readLines(ctx, r, cfg, w, src, log, &stopping)
	werr := w.Close()
	if rerr != nil {
		return rerr
	}
	return werr
}

// errStopped ends the read loop once ctx is done and the buffer is drained.
var errStopped = errors.New("stopped")

func readLines(ctx context.Context, r io.Reader, cfg Config, w *eventsrc.Writer, src *stats.Source, log *slog.Logger, stopping *atomic.Bool) error {
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
		if err := w.Add(now.Unix(), values(w.Row(), now, msg, line.Truncated)); err != nil {
			return err
		}
	}
}

// lineError is osquery's "<error> in line: <line>", with the line quoted and
// cut short.
func lineError(err error, line Line) error {
	data, more := line.Data, ""
	if len(data) > errorLinePrefix {
		data, _ = eventsrc.Truncate(data, errorLinePrefix)
		more = "..."
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

// values fills v, a row from the writer, with msg in Schema() column order.
func values(v []any, now time.Time, msg Message, truncated bool) []any {
	v[colDatetime] = msg.Datetime
	v[colHost] = msg.Host
	v[colSeverity] = severityValue(msg.Severity)
	v[colFacility] = msg.Facility
	v[colTag] = msg.Tag
	v[colMessage] = msg.Message
	v[colEventTime] = EventTime(msg.Datetime, now)
	v[colTruncated] = boolInt(truncated)
	return v
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
