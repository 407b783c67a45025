package tablekit

import (
	"context"
	"sync"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
)

// Cursor gives one reader (a scheduled query) a window over every evented
// table: rows with From < eid <= To, where From is where the reader's last
// successful run stopped and To is the stream's last eid when the run first
// touches it. Evented tables built on StreamGenerate honour it when it is in
// the generate context (WithCursor), so a scheduled query sees each event
// once; queries without a cursor (osqueryd, the query subcommand) see
// everything. The eid column need not be selected or constrained.
type Cursor struct {
	mu   sync.Mutex
	from map[string]int64 // stream -> last eid already seen
	to   map[string]int64 // stream -> upper bound fixed for this run
}

// NewCursor returns a cursor starting after the given positions (stream name
// -> last eid seen; a missing stream starts at the beginning of the buffer).
func NewCursor(from map[string]int64) *Cursor {
	c := &Cursor{from: map[string]int64{}, to: map[string]int64{}}
	for k, v := range from {
		c.from[k] = v
	}
	return c
}

// Used reports whether a query run with the cursor read any evented table.
func (c *Cursor) Used() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.to) > 0
}

// Next returns the positions to start the next run from: this run's upper
// bounds for the streams it read, the old positions for the others.
func (c *Cursor) Next() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.from)+len(c.to))
	for k, v := range c.from {
		out[k] = v
	}
	for k, v := range c.to {
		out[k] = v
	}
	return out
}

// window returns the eid bounds of stream st for this run, fixing the upper
// bound on first use so that every scan of the stream in one query (a
// self-join, a subquery) sees the same rows.
func (c *Cursor) window(st *eventstore.Stream, name string) (from, to int64, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	from = c.from[name]
	if t, ok := c.to[name]; ok {
		return from, t, nil
	}
	last, err := st.LastEID()
	if err != nil {
		return 0, 0, err
	}
	// Never move backwards (a buffer deleted and recreated starts again at 1).
	to = max(last, from)
	if last < from {
		from = 0
		to = last
	}
	c.to[name] = to
	return from, to, nil
}

type cursorKey struct{}

// WithCursor returns ctx carrying c for the generate functions of evented
// tables.
func WithCursor(ctx context.Context, c *Cursor) context.Context {
	return context.WithValue(ctx, cursorKey{}, c)
}

func cursorFrom(ctx context.Context) *Cursor {
	c, _ := ctx.Value(cursorKey{}).(*Cursor)
	return c
}

// cursorConds returns the eid conditions of the cursor in ctx for stream st,
// or nil without one.
func cursorConds(ctx context.Context, st *eventstore.Stream, name string) ([]eventstore.Cond, error) {
	c := cursorFrom(ctx)
	if c == nil {
		return nil, nil
	}
	from, to, err := c.window(st, name)
	if err != nil {
		return nil, err
	}
	return []eventstore.Cond{
		{Column: "eid", Op: eventstore.Gt, Value: from},
		{Column: "eid", Op: eventstore.Le, Value: to},
	}, nil
}
