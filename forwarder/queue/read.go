package queue

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"sort"
)

// Read returns up to limit items with id > after, oldest first, stopping
// before maxBytes of lines (at least one item is returned if any exists).
// Acknowledged lines are skipped.
//
// It reads through the driver directly rather than database/sql's Rows:
// the driver already hands each line over in a fresh Go slice, which
// becomes Item.Line as it is, where Rows.Scan would copy it again and add
// locking and conversions per row (about a third of Read's CPU for lines
// of a few hundred bytes).
func (q *Queue) Read(ctx context.Context, after int64, limit, maxBytes int) ([]Item, error) {
	if q.closed.Load() {
		return nil, ErrClosed
	}
	q.dropMu.RLock()
	defer q.dropMu.RUnlock()
	plan := q.plan(after, int64(limit))
	if len(plan) == 0 {
		return nil, nil
	}
	conn, err := q.db.r.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var out []Item
	err = conn.Raw(func(dc any) error {
		qc, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("queue: driver connection %T cannot query", dc)
		}
		bytes := 0
		dest := make([]driver.Value, 3)
		for _, p := range plan {
			full, err := func() (bool, error) {
				rows, err := qc.QueryContext(ctx, `SELECT id, kind, line FROM `+p.table+` WHERE id BETWEEN ? AND ? ORDER BY id`,
					[]driver.NamedValue{{Ordinal: 1, Value: p.lo}, {Ordinal: 2, Value: p.hi}})
				if err != nil {
					return false, err
				}
				defer rows.Close()
				for {
					if err := rows.Next(dest); err == io.EOF {
						return false, nil
					} else if err != nil {
						return false, err
					}
					it := Item{ID: asInt64(dest[0]), Kind: uint8(asInt64(dest[1]))}
					switch v := dest[2].(type) {
					case []byte:
						it.Line = v[:len(v):len(v)]
					case string:
						it.Line = []byte(v)
					case nil:
						it.Line = []byte{}
					default:
						return false, fmt.Errorf("queue: line column holds %T", v)
					}
					if len(out) > 0 && bytes+len(it.Line) > maxBytes {
						return true, nil
					}
					bytes += len(it.Line)
					if out == nil {
						out = make([]Item, 0, min(limit, 1<<16))
					}
					out = append(out, it)
				}
			}()
			if err != nil || full {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readPiece is one range of unacknowledged ids of one segment.
type readPiece struct {
	table  string
	lo, hi int64
}

// plan lists the unacknowledged ids after after, up to limit of them, as
// ranges per segment.
func (q *Queue) plan(after, limit int64) []readPiece {
	q.mu.Lock()
	defer q.mu.Unlock()
	var plan []readPiece
	var scratch []span
	i := sort.Search(len(q.segs), func(i int) bool { return q.segs[i].end > after })
	for ; i < len(q.segs) && limit > 0; i++ {
		s := q.segs[i]
		if s.acked == s.size() {
			continue
		}
		scratch = q.acked.uncovered(scratch[:0], max(after+1, s.first), s.end)
		for _, u := range scratch {
			take := min(u.size(), limit)
			plan = append(plan, readPiece{s.table, u.lo, u.lo + take - 1})
			limit -= take
			if limit == 0 {
				break
			}
		}
	}
	return plan
}

// asInt64 converts an integer column value as the sqlite3 driver returns it.
func asInt64(v any) int64 {
	switch v := v.(type) {
	case int64:
		return v
	case nil:
		return 0
	}
	panic(fmt.Sprintf("queue: integer column holds %T", v))
}
