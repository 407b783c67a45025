// Package forwarder ships osquery logs to Kinesis Data Streams or Firehose
// without losing them. A logger call only appends the line to a durable
// queue and returns; a background loop reads the queue, packs lines into
// records (split, aggregate, join, compress), sends request batches with a
// bounded number in flight, resends only the entries a response marks as
// failed, and acknowledges a queued line only once every record carrying
// it was accepted. A crash therefore loses nothing and re-sends at most the
// lines that were in flight.
package forwarder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/osquery-syslog/osquery-syslog/forwarder/pack"
	"github.com/osquery-syslog/osquery-syslog/forwarder/queue"
	"github.com/osquery-syslog/osquery-syslog/forwarder/sink"
	"github.com/osquery-syslog/osquery-syslog/internal/ctxtime"
	"github.com/osquery-syslog/osquery-syslog/stats"
)

// Config tunes a Forwarder.
type Config struct {
	// Period is the longest a line waits in the queue before it is sent
	// (aws_kinesis_period / aws_firehose_period, osquery's meaning). Lines
	// linger for up to Period so that the open aggregate or joined record
	// of their partition key fills: a trickle of rows then ships as a few
	// large records (billed per 25 KiB or 5 KiB record) instead of many
	// small ones. A flush starts earlier only once a record's worth of
	// lines is waiting (a request's worth when every line is its own
	// record), so a backlog still ships at full speed.
	Period time.Duration
	// InFlight is how many requests may be outstanding at once.
	InFlight int
	// Backoff paces retries of failed records and failed requests.
	Backoff sink.Backoff
	// Pause is how long a sink stays paused after a terminal error (stream
	// missing, access denied) before the same request is tried again.
	Pause time.Duration
	// ReadLines and ReadBytes bound one read from the queue.
	ReadLines, ReadBytes int
	// DisableStatus drops status logs (aws_kinesis_disable_log_status).
	DisableStatus bool
	// Clock is the time source of lingering; nil means the real clock.
	Clock Clock
}

func (c *Config) defaults() {
	if c.Period <= 0 {
		c.Period = 10 * time.Second
	}
	if c.InFlight <= 0 {
		c.InFlight = 4
	}
	if c.Backoff == (sink.Backoff{}) {
		c.Backoff = sink.DefaultBackoff
	}
	if c.Pause <= 0 {
		c.Pause = 60 * time.Second
	}
	if c.ReadLines <= 0 {
		c.ReadLines = 20000
	}
	if c.ReadBytes <= 0 {
		c.ReadBytes = 16 << 20
	}
	if c.Clock == nil {
		c.Clock = realClock{}
	}
}

// Forwarder is one logger plugin's shipping pipeline.
type Forwarder struct {
	cfg    Config
	q      *queue.Queue
	packer *pack.Packer
	sink   sink.Sink
	src    *stats.Source
	log    *slog.Logger

	wake   chan struct{} // a full record's (or request's) worth of lines is waiting
	arrive chan struct{} // a line arrived while none was waiting: start its clock
	slots  chan struct{} // one per request in flight

	// open is what waits for the next flush: lines logged since the last
	// flush started, and when the first of them arrived.
	openMu    sync.Mutex
	openSince time.Time
	openLines int64
	openBytes int64
	fullBytes int64 // openBytes at which a flush starts early
	fullLines int64 // openLines at which a flush starts early

	// Signals sent to and taken by Run (tests use them to know Run is idle).
	signals, taken atomic.Int64
	idle           func() // tests: called by Run just before it waits

	mu      sync.Mutex
	pending map[int64]int // queue id -> parts not yet shipped (split entries only)
}

// New returns a forwarder reading q, packing with packer and sending to s.
func New(cfg Config, q *queue.Queue, packer *pack.Packer, s sink.Sink, src *stats.Source, log *slog.Logger) *Forwarder {
	cfg.defaults()
	if log == nil {
		log = slog.Default()
	}
	f := &Forwarder{cfg: cfg, q: q, packer: packer, sink: s, src: src, log: log,
		wake: make(chan struct{}, 1), arrive: make(chan struct{}, 1), slots: make(chan struct{}, cfg.InFlight),
		pending: map[int64]int{}}
	// Early flushes: once a record is full when records carry many lines
	// (aggregation, joining), once a request is full otherwise; and always
	// once a read's worth is waiting.
	l := s.Limits()
	f.fullLines, f.fullBytes = int64(cfg.ReadLines), int64(min(l.MaxBatchBytes, cfg.ReadBytes))
	if packer.Combines() {
		f.fullBytes = int64(l.MaxRecordBytes)
	} else {
		f.fullLines = int64(min(l.MaxRecords, cfg.ReadLines))
	}
	src.QueueDepth.Store(q.Len())
	src.SetState("ok")
	return f
}

// Log queues one line of the given kind. It returns once the line is
// durably queued; nothing here waits on the network.
func (f *Forwarder) Log(kind pack.Kind, line []byte) error {
	if kind == pack.Status && f.cfg.DisableStatus {
		return nil
	}
	if err := f.q.Append(uint8(kind), line); err != nil {
		f.src.SetError(err)
		return err
	}
	f.src.Received.Add(1)
	f.src.QueueDepth.Store(f.q.Len())
	f.opened(len(line))
	return nil
}

// opened counts a queued line as waiting for the next flush: the first
// one starts the period's clock, a full record's or request's worth asks
// for a flush now.
func (f *Forwarder) opened(n int) {
	f.openMu.Lock()
	first := f.openLines == 0
	if first {
		f.openSince = f.cfg.Clock.Now()
	}
	f.openLines++
	f.openBytes += int64(n)
	full := f.openLines >= f.fullLines || f.openBytes >= f.fullBytes
	f.openMu.Unlock()
	if full {
		f.signal(f.wake)
	} else if first {
		f.signal(f.arrive)
	}
}

func (f *Forwarder) signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
		f.signals.Add(1)
	default:
	}
}

// due returns how long until the oldest waiting line has waited Period,
// and false when no line waits.
func (f *Forwarder) due() (time.Duration, bool) {
	f.openMu.Lock()
	defer f.openMu.Unlock()
	if f.openLines == 0 {
		return 0, false
	}
	return max(f.openSince.Add(f.cfg.Period).Sub(f.cfg.Clock.Now()), 0), true
}

// take starts a flush: every line queued so far will be read by it. A line
// whose count comes in after take was read by this flush or a later one,
// so its clock starts again at worst (a flush with nothing new to read).
func (f *Forwarder) take() {
	f.openMu.Lock()
	f.openLines, f.openBytes, f.openSince = 0, 0, time.Time{}
	f.openMu.Unlock()
}

// Run ships until ctx ends. Lines still queued or in flight then stay in the
// queue for the next run.
//
// A flush reads every line queued so far and sends it. It starts when the
// oldest waiting line has waited Period, or at once when a full record's
// (or request's) worth waits; between flushes Run sleeps.
func (f *Forwarder) Run(ctx context.Context) error {
	slots := f.slots
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := f.cfg.Clock.NewTimer(0) // first flush at once: ship what a previous run left
	defer timer.Stop()
	armed := true
	var cursor int64 // ids <= cursor are in flight or done
	for {
		if f.idle != nil {
			f.idle()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C():
			armed = false
		case <-f.wake:
		case <-f.arrive:
			f.taken.Add(1)
			if d, ok := f.due(); ok && !armed {
				timer.Reset(d)
				armed = true
			}
			continue
		}
		f.taken.Add(1)
		f.take()
		for {
			items, err := f.q.Read(ctx, cursor, f.cfg.ReadLines, f.cfg.ReadBytes)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				f.src.SetError(fmt.Errorf("reading queue: %w", err))
				break
			}
			f.updateGauges(ctx)
			if len(items) == 0 {
				break
			}
			cursor = items[len(items)-1].ID
			for _, batch := range f.prepare(items) {
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return nil
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { <-slots }()
					f.send(ctx, batch)
				}()
			}
			if len(items) < f.cfg.ReadLines {
				break
			}
		}
		// Lines that came in too late for this flush keep their clock.
		if d, ok := f.due(); ok {
			timer.Reset(d)
			armed = true
		} else if armed {
			timer.Stop()
			armed = false
		}
	}
}

// prepare packs items into request batches, registering every entry as
// pending and acknowledging at once the entries that can never ship.
func (f *Forwarder) prepare(items []queue.Item) [][]pack.Record {
	entries := make([]pack.Entry, len(items))
	for i, it := range items {
		entries[i] = pack.Entry{ID: it.ID, Kind: pack.Kind(it.Kind), Line: it.Line}
	}
	before := f.packer.Stats()
	records, dropped := f.packer.Pack(entries)
	after := f.packer.Stats()
	f.src.BytesRaw.Add(after.FramedBytes - before.FramedBytes)

	// Only entries split into several parts are tracked in f.pending: an
	// entry carried whole by one record is done when that record is
	// (complete), which saves three map operations per line.
	parts := map[int64]int{}
	for _, r := range records {
		for _, ref := range r.Refs {
			if ref.Parts > 1 {
				parts[ref.ID] = ref.Parts
			}
		}
	}
	var done []int64
	if len(dropped) > 0 {
		shipping := map[int64]bool{}
		for _, r := range records {
			for _, ref := range r.Refs {
				shipping[ref.ID] = true
			}
		}
		for _, d := range dropped {
			f.src.DroppedBy.Add(d.Reason.String(), 1)
			f.log.Error("dropping a log line that can never ship", "sink", f.sink.Name(), "reason", d.Reason.String(), "bytes", d.Bytes, "start", string(d.Sample))
			if !shipping[d.ID] {
				done = append(done, d.ID)
			}
		}
	}
	if len(parts) > 0 {
		f.mu.Lock()
		for id, n := range parts {
			f.pending[id] = n
		}
		f.mu.Unlock()
	}
	f.ack(done, 0)
	l := f.sink.Limits()
	return pack.Batches(records, l.MaxRecords, l.MaxBatchBytes, l.CountPartitionKey)
}

// send delivers one batch, resending only what failed, until every record
// is accepted or ctx ends.
func (f *Forwarder) send(ctx context.Context, batch []pack.Record) {
	todo := batch
	attempt := 0
	for len(todo) > 0 {
		recs := make([]sink.Record, len(todo))
		for i, r := range todo {
			recs[i] = sink.Record{Data: r.Data, PartitionKey: r.PartitionKey}
		}
		res, err := f.sink.Put(ctx, recs)
		if ctx.Err() != nil {
			return // not acknowledged: shipped again next run
		}
		if err != nil {
			c := sink.Classify(err)
			f.src.FailedByCode.Add(c.Code, int64(len(todo)))
			f.src.SetError(err)
			switch c.Kind {
			case sink.Terminal:
				// Resending soon is pointless; keep the records, say why,
				// and probe again after the pause.
				f.src.SetState("paused: " + c.Code)
				f.log.Error("sink refuses requests; pausing", "sink", f.sink.Name(), "code", c.Code, "err", err, "pause", f.cfg.Pause.String())
				if ctxtime.Sleep(ctx, f.cfg.Pause) != nil {
					return
				}
			case sink.Rejected:
				if len(todo) > 1 {
					// Halve the request until the record the service
					// refuses is alone.
					mid := len(todo) / 2
					f.send(ctx, todo[:mid])
					todo = todo[mid:]
					continue
				}
				f.src.DroppedBy.Add("rejected:"+c.Code, int64(len(todo[0].Refs)))
				f.log.Error("sink rejects a record on its own; dropping it", "sink", f.sink.Name(), "code", c.Code, "err", err, "bytes", len(todo[0].Data))
				f.complete(todo)
				return
			default:
				if f.cfg.Backoff.Sleep(ctx, attempt) != nil {
					return
				}
				attempt++
			}
			f.src.Retried.Add(int64(len(todo)))
			continue
		}
		if len(res.SDKRetried) > 0 {
			// The SDK resent the whole request after an error; if the
			// service had acted on an earlier attempt, its records arrive
			// twice. Nothing here can tell, so say it.
			f.src.FailedByCode.Add("sdk_retried", int64(len(todo)*len(res.SDKRetried)))
			f.log.Warn("the SDK resent a whole request; its records may arrive twice", "sink", f.sink.Name(), "records", len(todo), "errors", res.SDKRetried)
		}
		if f.src.State() != "ok" {
			f.src.SetState("ok")
			f.log.Info("sink accepts requests again", "sink", f.sink.Name())
		}
		failed := make([]pack.Record, 0, len(res.Failed))
		isFailed := make(map[int]bool, len(res.Failed))
		for i, idx := range res.Failed {
			isFailed[idx] = true
			failed = append(failed, todo[idx])
			f.src.FailedByCode.Add(res.Codes[i], 1)
		}
		ok := make([]pack.Record, 0, len(todo)-len(failed))
		for i, r := range todo {
			if !isFailed[i] {
				ok = append(ok, r)
			}
		}
		f.complete(ok)
		if len(failed) == 0 {
			return
		}
		todo = failed
		f.src.Retried.Add(int64(len(failed)))
		if f.cfg.Backoff.Sleep(ctx, attempt) != nil {
			return
		}
		attempt++
	}
}

// complete records that recs were accepted and acknowledges every entry
// whose parts have now all shipped.
func (f *Forwarder) complete(recs []pack.Record) {
	refs := 0
	for _, r := range recs {
		refs += len(r.Refs)
	}
	done := make([]int64, 0, refs)
	bytes, units := int64(0), int64(0)
	l := f.sink.Limits()
	f.mu.Lock()
	for _, r := range recs {
		bytes += int64(len(r.Data))
		units += l.Units(len(r.Data))
		for _, ref := range r.Refs {
			if ref.Parts <= 1 {
				done = append(done, ref.ID)
				continue
			}
			n, ok := f.pending[ref.ID]
			if !ok {
				continue
			}
			if n <= 1 {
				delete(f.pending, ref.ID)
				done = append(done, ref.ID)
			} else {
				f.pending[ref.ID] = n - 1
			}
		}
	}
	f.mu.Unlock()
	f.src.RecordsShipped.Add(int64(len(recs)))
	f.src.BytesShipped.Add(bytes)
	f.src.BilledUnits.Add(units)
	f.ack(done, len(done))
}

func (f *Forwarder) ack(ids []int64, shipped int) {
	if len(ids) == 0 {
		return
	}
	if err := f.q.Ack(ids); err != nil && !errors.Is(err, queue.ErrClosed) {
		// The lines stay queued and ship again on restart: a duplicate,
		// never a loss.
		f.src.SetError(fmt.Errorf("acknowledging shipped lines: %w", err))
	}
	f.src.Shipped.Add(int64(shipped))
	f.src.QueueDepth.Store(f.q.Len())
}

func (f *Forwarder) updateGauges(ctx context.Context) {
	f.src.QueueDepth.Store(f.q.Len())
	if t, err := f.q.Oldest(ctx); err == nil && !t.IsZero() {
		f.src.OldestQueued.Store(int64(time.Since(t) / time.Second))
	} else if err == nil {
		f.src.OldestQueued.Store(0)
	}
}
