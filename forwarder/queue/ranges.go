package queue

import "sort"

// span is the inclusive id range [lo, hi].
type span struct{ lo, hi int64 }

func (s span) size() int64 { return s.hi - s.lo + 1 }

// spanSet is a set of ids kept as sorted, disjoint, non-adjacent spans:
// the acknowledged ids of a queue. Acks of consecutive runs merge into one
// span, so the set stays small however many lines were acknowledged.
type spanSet struct{ s []span }

// index returns the position of the first span whose hi >= id.
func (ss *spanSet) index(id int64) int {
	return sort.Search(len(ss.s), func(i int) bool { return ss.s[i].hi >= id })
}

// contains reports whether id is in the set.
func (ss *spanSet) contains(id int64) bool {
	i := ss.index(id)
	return i < len(ss.s) && ss.s[i].lo <= id
}

// uncovered appends to dst the parts of [lo, hi] not in the set, in order.
func (ss *spanSet) uncovered(dst []span, lo, hi int64) []span {
	for i := ss.index(lo); lo <= hi; i++ {
		if i >= len(ss.s) || ss.s[i].lo > hi {
			return append(dst, span{lo, hi})
		}
		if ss.s[i].lo > lo {
			dst = append(dst, span{lo, ss.s[i].lo - 1})
		}
		lo = ss.s[i].hi + 1
	}
	return dst
}

// add inserts [lo, hi], merging it with overlapping and adjacent spans.
func (ss *spanSet) add(lo, hi int64) {
	if lo > hi {
		return
	}
	// First span that touches or follows lo: hi >= lo-1.
	i := ss.index(lo - 1)
	j := i
	for j < len(ss.s) && ss.s[j].lo <= hi+1 {
		lo = min(lo, ss.s[j].lo)
		hi = max(hi, ss.s[j].hi)
		j++
	}
	if i == j {
		ss.s = append(ss.s, span{})
		copy(ss.s[i+1:], ss.s[i:])
		ss.s[i] = span{lo, hi}
		return
	}
	ss.s[i] = span{lo, hi}
	ss.s = append(ss.s[:i+1], ss.s[j:]...)
}

// remove takes [lo, hi] out of the set.
func (ss *spanSet) remove(lo, hi int64) {
	if lo > hi {
		return
	}
	i := ss.index(lo)
	var keep []span
	j := i
	for j < len(ss.s) && ss.s[j].lo <= hi {
		if ss.s[j].lo < lo {
			keep = append(keep, span{ss.s[j].lo, lo - 1})
		}
		if ss.s[j].hi > hi {
			keep = append(keep, span{hi + 1, ss.s[j].hi})
		}
		j++
	}
	tail := append(keep, ss.s[j:]...)
	ss.s = append(ss.s[:i], tail...)
}

// overlap is the number of ids of [lo, hi] in the set.
func (ss *spanSet) overlap(lo, hi int64) int64 {
	var n int64
	for i := ss.index(lo); i < len(ss.s) && ss.s[i].lo <= hi; i++ {
		n += min(hi, ss.s[i].hi) - max(lo, ss.s[i].lo) + 1
	}
	return n
}

// within appends to dst the parts of the set inside [lo, hi].
func (ss *spanSet) within(dst []span, lo, hi int64) []span {
	for i := ss.index(lo); i < len(ss.s) && ss.s[i].lo <= hi; i++ {
		dst = append(dst, span{max(lo, ss.s[i].lo), min(hi, ss.s[i].hi)})
	}
	return dst
}

// firstUncovered returns the first id of [lo, hi] not in the set.
func (ss *spanSet) firstUncovered(lo, hi int64) (int64, bool) {
	if i := ss.index(lo); i < len(ss.s) && ss.s[i].lo <= lo {
		lo = ss.s[i].hi + 1
	}
	return lo, lo <= hi
}
