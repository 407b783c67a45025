// Package pack turns queued osquery log lines into records ready for
// Kinesis Data Streams PutRecords or Amazon Data Firehose PutRecordBatch.
// It is pure logic: no AWS calls, no I/O.
//
// Pack validates each line (one JSON object, or it is Dropped), converts
// status elements into osquery's status-log JSON, appends "log_type" like
// osquery's aws loggers, splits oversize batch/snapshot results by rows, and
// packs the lines into records: one per line, KPL aggregates (one per
// partition key), or newline-joined records, optionally gzip-compressed.
// Every shipped record lists the queue entries (and split parts) it carries,
// so the caller acknowledges an entry only when all of its parts shipped.
//
// Value types are kept as they are. osquery's own aws loggers round-trip
// every line through a Boost property tree, which turns every number, bool
// and null into a JSON string, empty arrays/objects into "" and escapes "/"
// as "\/". We deliberately don't: the lines are shipped byte-for-byte as
// osquery produced them except for the appended log_type member (and
// whitespace trimmed at both ends). Consumers written against the native
// plugins' stringified output must accept real numbers and bools.
package pack

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/osquery-syslog/osquery-syslog/internal/jsonstr"
	"github.com/osquery-syslog/osquery-syslog/internal/uuid"
)

// Packer packs entries into records. It reuses internal buffers between
// calls and is not safe for concurrent use of Pack; Stats may be called
// concurrently. Returned records never alias those buffers.
type Packer struct {
	cfg       Config
	limit     int      // MaxRecordBytes
	host      string   // HostIdentifier cut to a valid partition key
	hostJSON  []byte   // HostIdentifier as a JSON string
	verJSON   []byte   // Version as a JSON string
	fieldPath []string // PartitionKeyField split on '.'
	usePK     bool     // Kinesis
	margin    int      // gzip worst-case expansion reserved per line
	slack     int      // tests only: plan beyond the limit to exercise re-splitting

	// reused between calls
	tmp     []byte // framed user records
	items   []item
	order   []int32
	counts  []int32
	plans   []plan
	rows    []span
	parts   []int
	status  []byte
	part    []byte
	raw     []byte
	groups  map[string]int32
	intern  map[string]string
	keys    string // pool of random partition keys, 36 bytes each
	gz      *gzip.Writer
	gzBuf   bytes.Buffer
	dropped []Dropped
	lost    map[int64][]int // split parts dropped while building, by entry

	stats struct {
		entries, lines, records, split, dropped         atomic.Int64
		inputBytes, rawBytes, framedBytes, shippedBytes atomic.Int64
	}
}

// item is one framed user record in p.tmp.
type item struct {
	off, n int
	pk     string
	ref    Ref
	group  int32
}

// plan is one output record: items p.order[from:to].
type plan struct {
	from, to int
	pk       string
	agg      bool
}

// New validates cfg and returns a Packer.
func New(cfg Config) (*Packer, error) {
	p := &Packer{cfg: cfg, usePK: cfg.Service == Kinesis}
	switch cfg.Service {
	case Kinesis:
		if cfg.MaxRecordBytes == 0 {
			p.limit = KinesisMaxRecordBytes
		} else if p.limit = cfg.MaxRecordBytes; p.limit < minRecordBytes || p.limit > KinesisMaxRecordBytesLarge {
			return nil, fmt.Errorf("pack: kinesis MaxRecordBytes %d outside [%d, %d]", p.limit, minRecordBytes, KinesisMaxRecordBytesLarge)
		}
	case Firehose:
		if cfg.Aggregate {
			return nil, errors.New("pack: KPL aggregation is Kinesis-only (Firehose Direct PUT does not de-aggregate); use Join")
		}
		if cfg.MaxRecordBytes == 0 {
			p.limit = FirehoseMaxRecordBytes
		} else if p.limit = cfg.MaxRecordBytes; p.limit < minRecordBytes || p.limit > FirehoseMaxRecordBytes {
			return nil, fmt.Errorf("pack: firehose MaxRecordBytes %d outside [%d, %d]", p.limit, minRecordBytes, FirehoseMaxRecordBytes)
		}
	default:
		return nil, fmt.Errorf("pack: unknown service %v", cfg.Service)
	}
	if cfg.Aggregate && cfg.Join {
		return nil, errors.New("pack: Aggregate and Join are exclusive")
	}
	if cfg.Join && !cfg.Newline {
		return nil, errors.New("pack: Join requires Newline (joined lines need a delimiter)")
	}
	switch cfg.Compression {
	case "":
	case "gzip":
		lvl := cfg.GzipLevel
		if lvl == 0 {
			lvl = gzip.BestSpeed
		}
		if lvl < gzip.BestSpeed || lvl > gzip.BestCompression {
			return nil, fmt.Errorf("pack: GzipLevel %d outside [1, 9]", cfg.GzipLevel)
		}
		p.gz, _ = gzip.NewWriterLevel(nil, lvl)
		p.margin = gzipMargin(p.limit)
	default:
		return nil, fmt.Errorf("pack: unknown compression %q (want \"\" or \"gzip\")", cfg.Compression)
	}
	if p.usePK {
		switch cfg.PartitionKey {
		case HostIdentifier, Random:
		case Field:
			if cfg.PartitionKeyField == "" {
				return nil, errors.New("pack: PartitionKey Field needs PartitionKeyField")
			}
			p.fieldPath = strings.Split(cfg.PartitionKeyField, ".")
			p.intern = make(map[string]string)
		default:
			return nil, fmt.Errorf("pack: unknown partition key mode %d", cfg.PartitionKey)
		}
		if cfg.PartitionKey != Random && cfg.HostIdentifier == "" {
			return nil, errors.New("pack: HostIdentifier is required for the Kinesis partition key")
		}
		p.host = truncRunes(cfg.HostIdentifier, MaxPartitionKeyChars)
	}
	if cfg.HostIdentifier != "" {
		p.hostJSON = jsonstr.Append(nil, cfg.HostIdentifier, jsonstr.Std)
	}
	if cfg.Version != "" {
		p.verJSON = jsonstr.Append(nil, cfg.Version, jsonstr.Std)
	}
	return p, nil
}

// Combines reports whether records carry several lines (KPL aggregation or
// newline joining) rather than one line each.
func (p *Packer) Combines() bool { return p.cfg.Aggregate || p.cfg.Join }

// Stats returns the cumulative counters.
func (p *Packer) Stats() Stats {
	s := &p.stats
	return Stats{
		Entries: s.entries.Load(), Lines: s.lines.Load(), Records: s.records.Load(),
		Split: s.split.Load(), Dropped: s.dropped.Load(), InputBytes: s.inputBytes.Load(),
		RawBytes: s.rawBytes.Load(), FramedBytes: s.framedBytes.Load(), ShippedBytes: s.shippedBytes.Load(),
	}
}

// Size accounting (exact, in bytes):
//
//   - Kinesis: a record counts len(Data) + len(PartitionKey) against
//     MaxRecordBytes (the service counts the UTF-8 bytes of the key too).
//     Firehose: len(Data) only, against at most 1,024,000.
//   - len(Data) is the shipped size: after log_type, newline, KPL framing
//     and compression. A record of exactly MaxRecordBytes is allowed.
//   - A KPL aggregate is 4 (magic) + Σ partition_key_table entries
//     (1 + varint(len) + len) + Σ records entries (1 + varint(body) + body,
//     body = 1 + varint(index) + 1 + varint(len(data)) + len(data)) + 16
//     (MD5); see kpl.go. Its outer partition key is the aggregate's single
//     key and counts again. A one-record container is sent raw, so it
//     costs only its line + key.
//   - A joined record is the sum of its newline-terminated lines.
//   - With gzip, records are packed by their raw (uncompressed) size, which
//     is conservative for JSON. Single lines and split parts are sized to
//     fit the limit minus gzipMargin (gzip's worst-case expansion, with a
//     wide safety factor) so even incompressible data fits alone; a
//     multi-line record that grows past the limit under gzip is re-split
//     in halves and recompressed, never truncated.
//   - Batch limits (500 records; 5 MiB incl. partition keys for Kinesis,
//     4 MiB data for Firehose) are applied by Batches.

// recordBudget is the most bytes of Data a record with partition key
// length pkLen may have.
func (p *Packer) recordBudget(pkLen int) int { return p.limit - pkLen }

// lineBudget is the most bytes a single framed line (or split part) may
// have: it must fit alone, compressed if compression is on.
func (p *Packer) lineBudget(pkLen int) int { return p.limit - pkLen - p.margin + p.slack }

// planBudget is the raw size up to which lines are packed together.
func (p *Packer) planBudget(pkLen int) int { return p.limit - pkLen + p.slack }

// gzipMargin bounds gzip's expansion of n incompressible bytes: 18 bytes
// of header and trailer plus 5 bytes per stored deflate block (Go's
// compressor emits at most one per 16 KiB at levels 2–9 and per 64 KiB at
// level 1; measured worst case for 1 MiB is 343 bytes). We reserve 64 +
// n/1024 (1,088 bytes for 1 MiB), about three times the worst case.
func gzipMargin(n int) int { return 64 + n/1024 }

func (p *Packer) keyLen(pk string) int {
	switch {
	case !p.usePK:
		return 0
	case p.cfg.PartitionKey == Random:
		return randomKeyLen
	}
	return len(pk)
}

// Pack turns entries into records, in queue order within each partition
// key. Lines that can never ship are reported in Dropped, never silently
// lost. The returned slices are owned by the caller; uncompressed records
// of one call share one backing array, so a retained record keeps that
// call's output alive. Pack holds a framed copy of all entries plus the
// output, so callers should pass bounded batches (a few MiB of lines).
func (p *Packer) Pack(entries []Entry) ([]Record, []Dropped) {
	p.tmp = p.tmp[:0]
	p.items = p.items[:0]
	p.dropped = nil
	clear(p.lost)
	var in int64
	for i := range entries {
		in += int64(len(entries[i].Line))
	}
	// One allocation for the framed copies (lines plus log_type and
	// newline) instead of growing through a burst's worth of doublings.
	if need := int(in) + len(entries)*32; cap(p.tmp) < need {
		p.tmp = make([]byte, 0, need)
	}
	if cap(p.items) < len(entries) {
		p.items = make([]item, 0, len(entries))
	}
	for i := range entries {
		p.add(&entries[i])
	}
	recs := p.build()
	dropped := p.dropped
	p.dropped = nil
	if cap(p.tmp) > 64<<20 { // don't pin a huge buffer after a burst
		p.tmp = nil
	}

	s := &p.stats
	s.entries.Add(int64(len(entries)))
	s.inputBytes.Add(in)
	s.records.Add(int64(len(recs)))
	s.dropped.Add(int64(len(dropped)))
	var lines, shipped int64
	for i := range recs {
		lines += int64(len(recs[i].Refs))
		shipped += int64(len(recs[i].Data))
	}
	s.lines.Add(lines)
	s.shippedBytes.Add(shipped)
	return recs, dropped
}

func (p *Packer) drop(e *Entry, r Reason, rows, n int, sample []byte) {
	if len(sample) > sampleLen {
		sample = sample[:sampleLen:sampleLen]
	}
	p.dropped = append(p.dropped, Dropped{ID: e.ID, Reason: r, Rows: rows, Bytes: n, Sample: sample})
}

// add validates, converts and frames one entry into p.tmp/p.items.
func (p *Packer) add(e *Entry) {
	line := trimWS(e.Line)
	logType := `"result"`
	if e.Kind == Status {
		logType = `"status"`
		line = p.convertStatus(line)
	}
	var fieldTop string
	if p.fieldPath != nil {
		fieldTop = p.fieldPath[0]
	}
	info, ok := scanTop(line, fieldTop)
	if !ok {
		p.drop(e, NotJSON, 1, len(e.Line), e.Line)
		return
	}
	pk := p.partitionKey(line, info)
	budget := p.lineBudget(p.keyLen(pk))
	off := len(p.tmp)
	p.tmp = p.frame(p.tmp, line, info, logType)
	if n := len(p.tmp) - off; n <= budget {
		p.items = append(p.items, item{off: off, n: n, pk: pk, ref: Ref{ID: e.ID, Part: 0, Parts: 1}})
		return
	}
	p.tmp = p.tmp[:off]
	p.split(e, line, info, logType, pk, budget)
}

// frame appends line with log_type and newline applied.
func (p *Packer) frame(dst, line []byte, info topInfo, logType string) []byte {
	if p.cfg.AddLogType {
		switch {
		case info.logType.ok():
			dst = append(dst, line[:info.logType.s]...)
			dst = append(dst, logType...)
			dst = append(dst, line[info.logType.e:]...)
		case info.members == 0:
			dst = append(dst, `{"log_type":`...)
			dst = append(dst, logType...)
			dst = append(dst, '}')
		default:
			dst = append(dst, line[:len(line)-1]...)
			dst = append(dst, `,"log_type":`...)
			dst = append(dst, logType...)
			dst = append(dst, '}')
		}
	} else {
		dst = append(dst, line...)
	}
	if p.cfg.Newline {
		dst = append(dst, '\n')
	}
	return dst
}

// frameExtra is len(frame(line)) - len(line) for a non-empty object.
func (p *Packer) frameExtra(info topInfo, logType string) int {
	n := 0
	if p.cfg.AddLogType {
		if info.logType.ok() {
			n += len(logType) - (info.logType.e - info.logType.s)
		} else {
			n += len(`,"log_type":`) + len(logType)
		}
	}
	if p.cfg.Newline {
		n++
	}
	return n
}

// partitionKey returns the line's partition key; "" for Firehose and for
// Random (assigned per record when built).
func (p *Packer) partitionKey(line []byte, info topInfo) string {
	if !p.usePK {
		return ""
	}
	switch p.cfg.PartitionKey {
	case Random:
		return ""
	case Field:
		v := info.field
		for _, k := range p.fieldPath[1:] {
			if !v.ok() || line[v.s] != '{' {
				v = none
				break
			}
			v = lookup(line, v, k)
		}
		text, _ := scalarText(line, v)
		if len(text) == 0 {
			return p.host
		}
		if s, ok := p.intern[string(text)]; ok {
			return s
		}
		if len(p.intern) >= 4096 {
			clear(p.intern)
		}
		s := truncRunes(string(text), MaxPartitionKeyChars)
		p.intern[string(text)] = s
		return s
	}
	return p.host
}

// randomKey returns a fresh UUIDv4 string. Keys are generated in bulk from
// crypto/rand into one string and handed out as substrings.
func (p *Packer) randomKey(want int) string {
	if len(p.keys) < randomKeyLen {
		n := max(want, 64)
		p.keys = string(uuid.AppendV4(make([]byte, 0, randomKeyLen*n), n))
	}
	k := p.keys[:randomKeyLen]
	p.keys = p.keys[randomKeyLen:]
	return k
}
