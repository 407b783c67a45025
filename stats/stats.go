// Package stats holds the extension's own counters: one Source per ingestion
// or shipping component, updated with atomics on the hot path and read by the
// osquery_syslog_stats table.
package stats

import (
	"encoding/json"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Source is the set of counters of one component (a pipe, a log file, a
// logger plugin). All fields are safe for concurrent use.
type Source struct {
	name string

	LinesRead      atomic.Int64 // complete lines taken from the input
	BytesRead      atomic.Int64 // bytes taken from the input, newlines included
	ParseErrors    atomic.Int64 // lines that could not be parsed and were skipped
	TruncatedLines atomic.Int64 // lines longer than the limit, stored truncated
	RowsBuffered   atomic.Int64 // gauge: rows currently in the event buffer
	RowsExpired    atomic.Int64 // rows removed by age or count expiry
	Rotations      atomic.Int64 // log files rotated, replaced or truncated under a follower
	Gaps           atomic.Int64 // the journal: stored positions found gone (entries lost to vacuuming)
	Errors         atomic.Int64 // I/O and store errors (each also recorded as the last error)

	// Shipping (logger plugins).
	Received       atomic.Int64 // log lines taken from osqueryd into the queue
	Shipped        atomic.Int64 // log lines whose records were all accepted by the sink
	RecordsShipped atomic.Int64 // records (aggregates, joined records) accepted by the sink
	Retried        atomic.Int64 // records sent again after a per-record or request failure
	QueueDepth     atomic.Int64 // gauge: lines waiting in the durable queue
	OldestQueued   atomic.Int64 // gauge: age in seconds of the oldest queued line
	BytesRaw       atomic.Int64 // bytes of shipped records before compression
	BytesShipped   atomic.Int64 // bytes of shipped records as sent
	BilledUnits    atomic.Int64 // billing units of accepted records (Kinesis 25 KiB, Firehose 5 KiB steps)
	FailedByCode   Tally        // failed record attempts by AWS error code
	DroppedBy      Tally        // lines dropped, by reason

	lastErr atomic.Pointer[errorInfo]
	state   atomic.Pointer[string]
}

// SetState records the source's state ("ok", "paused: ...").
func (s *Source) SetState(state string) { s.state.Store(&state) }

// State returns the state set last ("" if never set).
func (s *Source) State() string {
	if p := s.state.Load(); p != nil {
		return *p
	}
	return ""
}

// Tally counts events by a string key. It is for rare events (errors, drops),
// so a mutex is fine.
type Tally struct {
	mu sync.Mutex
	m  map[string]int64
}

// Add counts n more events under key.
func (t *Tally) Add(key string, n int64) {
	t.mu.Lock()
	if t.m == nil {
		t.m = map[string]int64{}
	}
	t.m[key] += n
	t.mu.Unlock()
}

// Total is the sum over all keys.
func (t *Tally) Total() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var n int64
	for _, v := range t.m {
		n += v
	}
	return n
}

// Map returns a copy of the counts.
func (t *Tally) Map() map[string]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]int64, len(t.m))
	for k, v := range t.m {
		out[k] = v
	}
	return out
}

type errorInfo struct {
	msg string
	at  time.Time
}

// Name is the source's name as shown in the stats table.
func (s *Source) Name() string { return s.name }

// SetError records err as the source's last error, stamped now.
func (s *Source) SetError(err error) {
	if err == nil {
		return
	}
	s.lastErr.Store(&errorInfo{msg: err.Error(), at: time.Now()})
}

// LastError returns the last recorded error message and its time (zero if none).
func (s *Source) LastError() (string, time.Time) {
	if e := s.lastErr.Load(); e != nil {
		return e.msg, e.at
	}
	return "", time.Time{}
}

// Snapshot is a point-in-time copy of a Source, serialisable so that another
// process (the query subcommand) can show a running daemon's counters.
type Snapshot struct {
	Source         string           `json:"source"`
	LinesRead      int64            `json:"lines_read"`
	BytesRead      int64            `json:"bytes_read"`
	ParseErrors    int64            `json:"parse_errors"`
	TruncatedLines int64            `json:"truncated_lines"`
	RowsBuffered   int64            `json:"rows_buffered"`
	RowsExpired    int64            `json:"rows_expired"`
	Rotations      int64            `json:"rotations"`
	Gaps           int64            `json:"gaps"`
	Errors         int64            `json:"errors"`
	Received       int64            `json:"received"`
	Shipped        int64            `json:"shipped"`
	RecordsShipped int64            `json:"records_shipped"`
	Retried        int64            `json:"retried"`
	Failed         int64            `json:"failed"`
	FailedByCode   map[string]int64 `json:"failed_by_code,omitempty"`
	Dropped        int64            `json:"dropped"`
	DroppedBy      map[string]int64 `json:"dropped_by_reason,omitempty"`
	QueueDepth     int64            `json:"queue_depth"`
	OldestQueued   int64            `json:"oldest_queued_age"`
	BytesRaw       int64            `json:"bytes_raw"`
	BytesShipped   int64            `json:"bytes_shipped"`
	BilledUnits    int64            `json:"billed_units"`
	State          string           `json:"state"`
	LastError      string           `json:"last_error"`
	LastErrorTime  int64            `json:"last_error_time"`
	UpdatedTime    int64            `json:"updated_time"`
}

// Snapshot copies the counters.
func (s *Source) Snapshot() Snapshot {
	msg, at := s.LastError()
	var atUnix int64
	if !at.IsZero() {
		atUnix = at.Unix()
	}
	return Snapshot{
		Source:         s.name,
		LinesRead:      s.LinesRead.Load(),
		BytesRead:      s.BytesRead.Load(),
		ParseErrors:    s.ParseErrors.Load(),
		TruncatedLines: s.TruncatedLines.Load(),
		RowsBuffered:   s.RowsBuffered.Load(),
		RowsExpired:    s.RowsExpired.Load(),
		Rotations:      s.Rotations.Load(),
		Gaps:           s.Gaps.Load(),
		Errors:         s.Errors.Load(),
		Received:       s.Received.Load(),
		Shipped:        s.Shipped.Load(),
		RecordsShipped: s.RecordsShipped.Load(),
		Retried:        s.Retried.Load(),
		Failed:         s.FailedByCode.Total(),
		FailedByCode:   s.FailedByCode.Map(),
		Dropped:        s.DroppedBy.Total(),
		DroppedBy:      s.DroppedBy.Map(),
		QueueDepth:     s.QueueDepth.Load(),
		OldestQueued:   s.OldestQueued.Load(),
		BytesRaw:       s.BytesRaw.Load(),
		BytesShipped:   s.BytesShipped.Load(),
		BilledUnits:    s.BilledUnits.Load(),
		State:          s.State(),
		LastError:      msg,
		LastErrorTime:  atUnix,
		UpdatedTime:    time.Now().Unix(),
	}
}

// MarshalJSON encodes the snapshot of the source.
func (s *Source) MarshalJSON() ([]byte, error) { return json.Marshal(s.Snapshot()) }

// Registry is the process's set of sources.
type Registry struct {
	mu      sync.Mutex
	sources map[string]*Source
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{sources: map[string]*Source{}} }

// Source returns the source named name, creating it on first use.
func (r *Registry) Source(name string) *Source {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.sources[name]; ok {
		return s
	}
	s := &Source{name: name}
	r.sources[name] = s
	return s
}

// Snapshots returns a snapshot of every source, sorted by name.
func (r *Registry) Snapshots() []Snapshot {
	r.mu.Lock()
	list := make([]*Source, 0, len(r.sources))
	for _, s := range r.sources {
		list = append(list, s)
	}
	r.mu.Unlock()
	out := make([]Snapshot, 0, len(list))
	for _, s := range list {
		out = append(out, s.Snapshot())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}
