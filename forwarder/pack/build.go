package pack

// build groups p.items by partition key, plans records within the size
// budget and encodes them.
func (p *Packer) build() []Record {
	n := len(p.items)
	if n == 0 {
		return nil
	}
	p.group()
	p.plan()

	recs := make([]Record, 0, len(p.plans))
	refs := make([]Ref, 0, n)
	var out []byte // arena for uncompressed records: exact total size
	if p.gz == nil {
		total := 0
		for _, pl := range p.plans {
			total += p.planSize(pl)
		}
		out = make([]byte, 0, total)
	}
	random := p.usePK && p.cfg.PartitionKey == Random
	var framed int64
	for i := 0; i < len(p.plans); i++ {
		pl := p.plans[i]
		pk := pl.pk
		if random {
			pk = p.randomKey(len(p.plans) - i)
		}
		var data []byte
		if p.gz == nil {
			start := len(out)
			out = p.encode(out, pl, pk)
			data = out[start:len(out):len(out)]
			framed += int64(len(data))
		} else {
			p.raw = p.encode(p.raw[:0], pl, pk)
			if cd, ok := p.compress(p.raw, p.recordBudget(len(pk))); ok {
				data = cd
				framed += int64(len(p.raw))
			} else if pl.to-pl.from > 1 {
				// Incompressible: re-split in halves and retry both.
				mid := pl.from + (pl.to-pl.from)/2
				a := plan{from: pl.from, to: mid, pk: pl.pk, agg: p.cfg.Aggregate && mid-pl.from > 1}
				b := plan{from: mid, to: pl.to, pk: pl.pk, agg: p.cfg.Aggregate && pl.to-mid > 1}
				p.plans = append(p.plans, plan{})
				copy(p.plans[i+2:], p.plans[i+1:])
				p.plans[i], p.plans[i+1] = a, b
				i-- // the drawn random key, if any, is simply not used
				continue
			} else {
				p.loseItem(&p.items[p.order[pl.from]], len(p.raw))
				continue
			}
		}
		start := len(refs)
		for _, ix := range p.order[pl.from:pl.to] {
			refs = append(refs, p.items[ix].ref)
		}
		recs = append(recs, Record{Data: data, PartitionKey: pk, Refs: refs[start:len(refs):len(refs)]})
	}
	if len(p.lost) > 0 {
		p.renumber(recs)
	}
	var raw int64
	for i := range p.items {
		raw += int64(p.items[i].n)
	}
	p.stats.rawBytes.Add(raw)
	p.stats.framedBytes.Add(framed)
	return recs
}

// group fills p.order with item indices, grouped by partition key in the
// order of each key's first appearance (queue order within a key). Only
// Kinesis Field mode has more than one key per call; with a single key the
// order is the queue order.
func (p *Packer) group() {
	n := len(p.items)
	order := p.order[:0]
	if !p.usePK || p.cfg.PartitionKey != Field || !(p.cfg.Aggregate || p.cfg.Join) {
		for i := 0; i < n; i++ {
			order = append(order, int32(i))
		}
		p.order = order
		return
	}
	if p.groups == nil {
		p.groups = make(map[string]int32)
	}
	clear(p.groups)
	counts := p.counts[:0]
	last, lastG := "", int32(-1)
	for i := range p.items {
		it := &p.items[i]
		if lastG < 0 || it.pk != last {
			g, ok := p.groups[it.pk]
			if !ok {
				g = int32(len(counts))
				p.groups[it.pk] = g
				counts = append(counts, 0)
			}
			last, lastG = it.pk, g
		}
		it.group = lastG
		counts[lastG]++
	}
	// Counting sort: counts become start positions.
	pos := int32(0)
	for g := range counts {
		c := counts[g]
		counts[g] = pos
		pos += c
	}
	order = append(order[:0], make([]int32, n)...)
	for i := range p.items {
		g := p.items[i].group
		order[counts[g]] = int32(i)
		counts[g]++
	}
	p.counts, p.order = counts, order
}

// plan cuts p.order into records. Records never mix partition keys.
func (p *Packer) plan() {
	plans := p.plans[:0]
	order := p.order
	for from := 0; from < len(order); {
		first := &p.items[order[from]]
		pk := first.pk
		budget := p.planBudget(p.keyLen(pk))
		to := from + 1
		switch {
		case p.cfg.Aggregate:
			fixed := kplOverhead + kplKeyLen(p.planKey(pk))
			body := kplRecordLen(first.n, 0)
			for ; to < len(order); to++ {
				it := &p.items[order[to]]
				if it.pk != pk {
					break
				}
				nb := body + kplRecordLen(it.n, 0)
				if fixed+nb > budget {
					break
				}
				body = nb
			}
		case p.cfg.Join:
			size := first.n
			for ; to < len(order); to++ {
				it := &p.items[order[to]]
				if it.pk != pk || size+it.n > budget {
					break
				}
				size += it.n
			}
		}
		plans = append(plans, plan{from: from, to: to, pk: pk, agg: p.cfg.Aggregate && to-from > 1})
		from = to
	}
	p.plans = plans
}

// planKey is the key whose length the KPL table will hold: random keys are
// not drawn yet but always have randomKeyLen bytes.
func (p *Packer) planKey(pk string) string {
	if p.usePK && p.cfg.PartitionKey == Random {
		return "00000000-0000-0000-0000-000000000000"
	}
	return pk
}

// planSize is the exact uncompressed Data size of pl.
func (p *Packer) planSize(pl plan) int {
	n := 0
	if pl.agg {
		n = kplOverhead + kplKeyLen(p.planKey(pl.pk))
		for _, ix := range p.order[pl.from:pl.to] {
			n += kplRecordLen(p.items[ix].n, 0)
		}
		return n
	}
	for _, ix := range p.order[pl.from:pl.to] {
		n += p.items[ix].n
	}
	return n
}

// encode appends pl's uncompressed Data: a KPL aggregate with a one-entry
// key table, or the concatenation of its lines (a single line when not
// joining).
func (p *Packer) encode(dst []byte, pl plan, pk string) []byte {
	if !pl.agg {
		for _, ix := range p.order[pl.from:pl.to] {
			it := &p.items[ix]
			dst = append(dst, p.tmp[it.off:it.off+it.n]...)
		}
		return dst
	}
	dst = append(dst, kplMagic[:]...)
	start := len(dst)
	dst = kplAppendKey(dst, pk)
	for _, ix := range p.order[pl.from:pl.to] {
		it := &p.items[ix]
		dst = kplAppendRecord(dst, 0, p.tmp[it.off:it.off+it.n])
	}
	return kplAppendMD5(dst, start)
}

// compress gzips raw into a new slice; ok is false if the result exceeds
// budget.
func (p *Packer) compress(raw []byte, budget int) ([]byte, bool) {
	p.gzBuf.Reset()
	p.gz.Reset(&p.gzBuf)
	p.gz.Write(raw) // writes to a bytes.Buffer cannot fail
	p.gz.Close()
	if p.gzBuf.Len() > budget {
		return nil, false
	}
	return append([]byte(nil), p.gzBuf.Bytes()...), true
}

// loseItem reports a single line or part that did not fit after
// compression.
func (p *Packer) loseItem(it *item, n int) {
	sample := p.tmp[it.off : it.off+min(it.n, sampleLen)]
	p.dropped = append(p.dropped, Dropped{ID: it.ref.ID, Reason: Incompressible, Rows: 1, Bytes: n,
		Sample: append([]byte(nil), sample...)})
	if it.ref.Parts > 1 {
		if p.lost == nil {
			p.lost = make(map[int64][]int)
		}
		p.lost[it.ref.ID] = append(p.lost[it.ref.ID], it.ref.Part)
	}
}

// renumber closes the gaps left by lost split parts so that an entry's
// surviving parts are numbered 0..Parts-1 and the entry can complete.
func (p *Packer) renumber(recs []Record) {
	for i := range recs {
		for j := range recs[i].Refs {
			r := &recs[i].Refs[j]
			lost, ok := p.lost[r.ID]
			if !ok {
				continue
			}
			below := 0
			for _, l := range lost {
				if l < r.Part {
					below++
				}
			}
			r.Part -= below
			r.Parts -= len(lost)
		}
	}
}
