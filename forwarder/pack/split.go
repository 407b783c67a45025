package pack

// Splitting oversize result lines by rows.
//
// A batch-format result line carries its rows in
// "diffResults":{"added":[...],"removed":[...]}, a snapshot line in
// "snapshot":[...]. When such a line is larger than a record may be, it is
// cut into parts that each keep the whole envelope — every other top-level
// member (name, hostIdentifier, calendarTime, unixTime, epoch, counter,
// numerics, decorations, action, ...) and every other member of
// diffResults, byte for byte and in order — and carry a contiguous run of
// the rows (added rows first, then removed rows). Every part keeps both the
// "added" and "removed" arrays that the line had, possibly empty, so each
// part is a complete JSON object of the same shape. Rows are re-joined with
// "," (whitespace between rows is dropped). Parts are filled greedily up to
// the line budget, so the number of parts is minimal for the row order.
//
// A row that does not fit even alone with the envelope is dropped
// (RowTooLarge) and the remaining rows ship; an envelope that alone exceeds
// the budget, or a line without row arrays (event format, status), is
// dropped whole (TooLarge).

// split handles a line whose framed size exceeds budget.
func (p *Packer) split(e *Entry, line []byte, info topInfo, logType, pk string, budget int) {
	var arrs [2]span
	k := 0
	snap, diff := none, none
	it := iterMembers(line, span{0, len(line)})
	for {
		m, ok := it.next()
		if !ok {
			break
		}
		switch key := string(line[m.key.s:m.key.e]); {
		case key == "snapshot" && !snap.ok() && line[m.val.s] == '[':
			snap = m.val
		case key == "diffResults" && !diff.ok() && line[m.val.s] == '{':
			diff = m.val
		}
	}
	if snap.ok() {
		arrs[0], k = snap, 1
	} else if diff.ok() {
		added, removed := false, false
		it := iterMembers(line, diff)
		for {
			m, ok := it.next()
			if !ok {
				break
			}
			switch key := string(line[m.key.s:m.key.e]); {
			case key == "added" && !added && line[m.val.s] == '[':
				added = true
				arrs[k], k = m.val, k+1
			case key == "removed" && !removed && line[m.val.s] == '[':
				removed = true
				arrs[k], k = m.val, k+1
			}
		}
	}
	framed := len(line) + p.frameExtra(info, logType)
	if k == 0 {
		p.solo(e, line, info, logType, pk, framed)
		return
	}

	// Segments between the row runs: segs[0] ends with the first '[',
	// segs[j] runs from array j-1's ']' through array j's '[', segs[k]
	// starts at the last ']'.
	var segs [3][]byte
	segs[0] = line[:arrs[0].s+1]
	for j := 1; j < k; j++ {
		segs[j] = line[arrs[j-1].e-1 : arrs[j].s+1]
	}
	segs[k] = line[arrs[k-1].e-1:]
	fixed := p.frameExtra(info, logType)
	for j := 0; j <= k; j++ {
		fixed += len(segs[j])
	}
	if fixed > budget {
		p.solo(e, line, info, logType, pk, framed)
		return
	}

	// Rows, with too-large rows removed. rowArr[i] is the array of rows[i].
	rows := p.rows[:0]
	var firstRow [3]int // rows[firstRow[j]:firstRow[j+1]] belong to array j
	lostRows, lostBytes := 0, 0
	var sample []byte
	for j := 0; j < k; j++ {
		firstRow[j] = len(rows)
		start := len(rows)
		rows = elements(rows, line, arrs[j])
		kept := rows[:start]
		for _, r := range rows[start:] {
			if fixed+(r.e-r.s) > budget {
				lostRows++
				lostBytes += r.e - r.s
				if sample == nil {
					sample = line[r.s:r.e]
				}
				continue
			}
			kept = append(kept, r)
		}
		rows = kept
	}
	firstRow[k] = len(rows)
	p.rows = rows
	if lostRows > 0 {
		p.drop(e, RowTooLarge, lostRows, lostBytes, sample)
	}
	if len(rows) == 0 {
		return
	}

	// Greedy parts: p.parts holds the first row index of each part.
	arrOf := func(i int) int {
		for j := 0; j < k; j++ {
			if i < firstRow[j+1] {
				return j
			}
		}
		return k - 1
	}
	parts := append(p.parts[:0], 0)
	size, lastArr := fixed, -1
	for i, r := range rows {
		a := arrOf(i)
		add := r.e - r.s
		if a == lastArr {
			add++ // comma
		}
		if i > parts[len(parts)-1] && size+add > budget {
			parts = append(parts, i)
			size, add = fixed, r.e-r.s
		}
		size += add
		lastArr = a
	}
	p.parts = parts
	n := len(parts)

	// Emit the parts.
	itemsBefore, tmpBefore := len(p.items), len(p.tmp)
	for pi := 0; pi < n; pi++ {
		from, to := parts[pi], len(rows)
		if pi+1 < n {
			to = parts[pi+1]
		}
		buf := append(p.part[:0], segs[0]...)
		for j := 0; j < k; j++ {
			if j > 0 {
				buf = append(buf, segs[j]...)
			}
			lo, hi := max(from, firstRow[j]), min(to, firstRow[j+1])
			for i := lo; i < hi; i++ {
				if i > lo {
					buf = append(buf, ',')
				}
				buf = append(buf, line[rows[i].s:rows[i].e]...)
			}
		}
		buf = append(buf, segs[k]...)
		p.part = buf
		pinfo, ok := scanTop(buf, "")
		off := len(p.tmp)
		if ok {
			p.tmp = p.frame(p.tmp, buf, pinfo, logType)
		}
		if !ok || len(p.tmp)-off > budget {
			// Cannot happen: the envelope is copied verbatim and sizes are
			// exact. Never ship a broken or oversize part.
			p.items, p.tmp = p.items[:itemsBefore], p.tmp[:tmpBefore]
			p.drop(e, TooLarge, 1, framed, e.Line)
			return
		}
		p.items = append(p.items, item{off: off, n: len(p.tmp) - off, pk: pk, ref: Ref{ID: e.ID, Part: pi, Parts: n}})
	}
	if n > 1 {
		p.stats.split.Add(1)
	}
}

// solo handles a line that is too large and cannot be split. With gzip on
// it may still fit once compressed: then it ships alone (packing never adds
// another line to a record that is already over the raw budget). Otherwise
// it is dropped as TooLarge.
func (p *Packer) solo(e *Entry, line []byte, info topInfo, logType, pk string, framed int) {
	if p.gz != nil {
		off := len(p.tmp)
		p.tmp = p.frame(p.tmp, line, info, logType)
		p.gzBuf.Reset()
		p.gz.Reset(&p.gzBuf)
		p.gz.Write(p.tmp[off:])
		p.gz.Close()
		if p.gzBuf.Len() <= p.recordBudget(p.keyLen(pk)) {
			p.items = append(p.items, item{off: off, n: len(p.tmp) - off, pk: pk, ref: Ref{ID: e.ID, Part: 0, Parts: 1}})
			return
		}
		p.tmp = p.tmp[:off]
	}
	p.drop(e, TooLarge, 1, framed, e.Line)
}
