package eventsrc

import (
	"time"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/stats"
)

// Sink is where a source's rows go; *eventstore.Stream is one. AppendState
// stores the rows and the state (the source's position) in one transaction.
type Sink interface {
	AppendState(events []eventstore.Event, state map[string]string) (expired int64, err error)
	Expire(now time.Time) (int64, error)
	Count() int64
}

// slabRows is how many rows' values a Slab allocates at once.
const slabRows = 256

// Slab hands out the value slices of rows, carved from allocations of 256
// rows: one allocation per 256 rows instead of one per row. A row is never
// handed out twice, so it may be kept for as long as needed.
type Slab struct {
	cols int
	free []any
}

// NewSlab returns a slab of rows of cols values.
func NewSlab(cols int) Slab { return Slab{cols: cols} }

// Row returns the values of a new row, all nil.
func (s *Slab) Row() []any {
	if len(s.free) < s.cols {
		s.free = make([]any, s.cols*slabRows)
	}
	v := s.free[:s.cols:s.cols]
	s.free = s.free[s.cols:]
	return v
}

// Batch collects rows for one transaction, for sources that commit
// synchronously (the logfile tailer): Commit stores them with the source's
// state and returns the store's error to the caller. It is not safe for
// concurrent use.
type Batch struct {
	Slab
	sink   Sink
	src    *stats.Source
	events []eventstore.Event
}

// NewBatch returns an empty batch of rows of cols values for sink; src gets
// the RowsExpired and RowsBuffered counters.
func NewBatch(sink Sink, cols int, src *stats.Source) *Batch {
	return &Batch{Slab: NewSlab(cols), sink: sink, src: src}
}

// Add queues a row: its ingestion time (unix seconds) and its values (from
// Row), in the schema's column order.
func (b *Batch) Add(t int64, values []any) {
	b.events = append(b.events, eventstore.Event{Time: t, Values: values})
}

// Len is the number of rows queued.
func (b *Batch) Len() int { return len(b.events) }

// Commit stores the queued rows and state in one transaction (nothing when
// both are empty) and updates the stats. The batch is empty afterwards,
// whether or not the store took it: after an error the source reads the
// rows again from its stored state.
func (b *Batch) Commit(state map[string]string) error {
	if len(b.events) == 0 && len(state) == 0 {
		return nil
	}
	expired, err := b.sink.AppendState(b.events, state)
	clear(b.events) // drop references to the values
	b.events = b.events[:0]
	if err != nil {
		return err
	}
	stored(b.sink, b.src, expired)
	return nil
}

// stored updates the stats after a write that expired n rows.
func stored(sink Sink, src *stats.Source, expired int64) {
	src.RowsExpired.Add(expired)
	src.RowsBuffered.Store(sink.Count())
}

// Expire applies the sink's age and count limits as of now, then updates
// src's RowsExpired and RowsBuffered. The caller reports the error.
func Expire(sink Sink, src *stats.Source, now time.Time) error {
	n, err := sink.Expire(now)
	if err != nil {
		return err
	}
	stored(sink, src, n)
	return nil
}
