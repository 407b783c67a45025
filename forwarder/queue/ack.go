package queue

import (
	"fmt"
	"slices"
	"sort"
)

// Ack records the items with the given ids as shipped: their id ranges
// are persisted (one small insert per run of consecutive ids, usually one
// per call), reads skip them, and a segment acknowledged whole is dropped.
// Unknown and already acknowledged ids are ignored.
func (q *Queue) Ack(ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if q.closed.Load() {
		return ErrClosed
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	q.db.mu.Lock()
	if q.closed.Load() {
		q.db.mu.Unlock()
		return ErrClosed
	}
	q.mu.Lock()
	var pieces []span
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && sorted[j] <= sorted[j-1]+1 {
			j++
		}
		pieces = q.markLocked(pieces, sorted[i], sorted[j-1])
		i = j
	}
	drop := q.droppableLocked()
	q.mu.Unlock()
	err := q.persistAcks(pieces)
	q.db.mu.Unlock()
	if err != nil {
		return fmt.Errorf("recording acknowledged lines: %w", err)
	}
	if drop {
		return q.dropSegments()
	}
	return nil
}

// markLocked marks the not yet acknowledged ids of [lo, hi] that lie in a
// segment as acknowledged, updating the counts, and appends them to dst as
// ranges that never cross a segment boundary. Called under db.mu and mu.
func (q *Queue) markLocked(dst []span, lo, hi int64) []span {
	i := sort.Search(len(q.segs), func(i int) bool { return q.segs[i].end >= lo })
	for ; i < len(q.segs) && q.segs[i].first <= hi; i++ {
		s := q.segs[i]
		a, b := max(lo, s.first), min(hi, s.end)
		if a > b {
			continue
		}
		n := len(dst)
		dst = q.acked.uncovered(dst, a, b)
		for _, u := range dst[n:] {
			q.acked.add(u.lo, u.hi)
			s.acked += u.size()
			q.count.Add(-u.size())
		}
	}
	return dst
}

// persistAcks stores acknowledged ranges; under db.mu. Acks arriving one
// line at a time (a quiet host) add a row each although they merge in
// memory, so once the table holds many more rows than there are merged
// spans it is rewritten from memory, which keeps it as small as the set.
func (q *Queue) persistAcks(pieces []span) error {
	if len(pieces) == 0 {
		return nil
	}
	if err := q.insertAcks(pieces); err != nil {
		return err
	}
	q.ackRows += len(pieces)
	q.db.wrote(4096 * len(pieces))
	// len(q.acked.s) may be read under db.mu alone: changes hold both.
	if q.ackRows > 2*len(q.acked.s)+compactRows {
		return q.rewriteAcks(q.compactSpans())
	}
	return nil
}

// compactRows is how many ack table rows beyond twice the merged spans
// trigger a rewrite.
const compactRows = 256

func (q *Queue) insertAcks(pieces []span) error {
	if len(pieces) == 1 {
		_, err := q.ackIns.Exec(pieces[0].lo, pieces[0].hi)
		return err
	}
	tx, err := q.db.w.Begin()
	if err != nil {
		return err
	}
	st := tx.Stmt(q.ackIns)
	for _, p := range pieces {
		if _, err := st.Exec(p.lo, p.hi); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// rewriteAcks replaces the persisted ranges by spans (one transaction).
func (q *Queue) rewriteAcks(spans []span) error {
	tx, err := q.db.w.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`DELETE FROM ` + q.ackTable); err != nil {
		return fmt.Errorf("compacting acknowledged ranges: %w", err)
	}
	for _, sp := range spans {
		if _, err := tx.Exec(`INSERT INTO `+q.ackTable+` (lo, hi) VALUES (?, ?)`, sp.lo, sp.hi); err != nil {
			return fmt.Errorf("compacting acknowledged ranges: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("compacting acknowledged ranges: %w", err)
	}
	q.ackRows = len(spans)
	return nil
}

// compactSpans lists the acknowledged ranges as they are persisted: the
// merged in-memory spans, cut at segment boundaries. Under db.mu.
func (q *Queue) compactSpans() []span {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []span
	for _, s := range q.segs {
		out = q.acked.within(out, s.first, s.end)
	}
	return out
}
