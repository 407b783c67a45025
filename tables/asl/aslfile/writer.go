package aslfile

import (
	"encoding/binary"
	"strings"
)

// Writer builds a store file in memory the way Apple's writer appends to
// one: every new string of 8 bytes or more becomes a string record written
// just before the first message that uses it (later messages share it),
// shorter strings are inlined into the reference, then the message record is
// appended, the previous record's next pointer (or the header's first) is
// patched, and the header's last pointer is updated at the variant's
// position. Tests use it to produce fixtures; it is not meant for writing a
// live store.
type Writer struct {
	buf     []byte
	variant Variant
	prev    int64
	strs    map[string]uint64
	offsets []int64
}

// NewWriter starts a file of the given variant (Modern or Legacy) created at
// dob (unix seconds).
func NewWriter(v Variant, dob uint64) *Writer {
	w := &Writer{buf: make([]byte, HeaderLen, 64<<10), variant: v, strs: map[string]uint64{}}
	copy(w.buf, cookie)
	binary.BigEndian.PutUint32(w.buf[offVersion:], version2)
	binary.BigEndian.PutUint64(w.buf[offDOB:], dob)
	binary.BigEndian.PutUint32(w.buf[offCacheSize:], 128)
	return w
}

// Grow makes room for n more bytes.
func (w *Writer) Grow(n int) {
	if cap(w.buf)-len(w.buf) < n {
		nb := make([]byte, len(w.buf), len(w.buf)+n)
		copy(nb, w.buf)
		w.buf = nb
	}
}

// Bytes returns the file so far (shared with the writer).
func (w *Writer) Bytes() []byte { return w.buf }

// Len is the file size so far.
func (w *Writer) Len() int { return len(w.buf) }

// Offsets returns the offsets of the message records written, in order.
func (w *Writer) Offsets() []int64 { return w.offsets }

// StringOffset returns the offset of the string record holding s, if one
// was written.
func (w *Writer) StringOffset(s string) (int64, bool) {
	off, ok := w.strs[s]
	return int64(off), ok
}

// EncodeInline returns the inline reference of s (at most 7 bytes).
func EncodeInline(s string) Ref {
	r := Ref(inlineFlag|len(s)) << 56
	for i := 0; i < len(s); i++ {
		r |= Ref(s[i]) << (48 - 8*i)
	}
	return r
}

func (w *Writer) ref(s NullString) Ref {
	if !s.Valid {
		return 0
	}
	if len(s.S) <= maxInline && !strings.Contains(s.S, "\x00") {
		return EncodeInline(s.S)
	}
	if off, ok := w.strs[s.S]; ok {
		return Ref(off)
	}
	off := uint64(len(w.buf))
	w.buf = binary.BigEndian.AppendUint16(w.buf, typeStr)
	w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(len(s.S)+1))
	w.buf = append(w.buf, s.S...)
	w.buf = append(w.buf, 0)
	w.strs[s.S] = off
	return Ref(off)
}

// Add appends m and returns the offset of its message record.
func (w *Writer) Add(m *Message) int64 {
	// Strings first, in Apple's order, so string records precede the message.
	refs := [...]Ref{w.ref(m.Host), w.ref(m.Sender), w.ref(m.Facility), w.ref(m.Text), w.ref(m.RefProc), w.ref(m.Session)}
	kv := make([]Ref, 0, 2*len(m.Pairs))
	for _, p := range m.Pairs {
		kv = append(kv, w.ref(Str(p.Key)), w.ref(p.Value))
	}
	off := int64(len(w.buf))
	be := binary.BigEndian
	b := w.buf
	b = be.AppendUint16(b, typeMsg)
	b = be.AppendUint32(b, uint32(msgFixedBody+8*len(kv)))
	b = be.AppendUint64(b, 0) // next, patched by the following Add
	b = be.AppendUint64(b, m.ID)
	b = be.AppendUint64(b, m.Time)
	b = be.AppendUint32(b, m.Nano)
	b = be.AppendUint16(b, m.Level)
	b = be.AppendUint16(b, m.Flags)
	for _, v := range [...]uint32{m.PID, m.UID, m.GID, m.ReadUID, m.ReadGID, m.RefPID, uint32(len(kv))} {
		b = be.AppendUint32(b, v)
	}
	for _, r := range refs {
		b = be.AppendUint64(b, uint64(r))
	}
	for _, r := range kv {
		b = be.AppendUint64(b, uint64(r))
	}
	b = be.AppendUint64(b, uint64(w.prev))
	w.buf = b
	if w.prev == 0 {
		be.PutUint64(w.buf[offFirst:], uint64(off))
	} else {
		be.PutUint64(w.buf[w.prev+recordCommon:], uint64(off))
	}
	w.SetLast(uint64(off))
	w.prev = off
	w.offsets = append(w.offsets, off)
	return off
}

// SetLast writes v as the header's last-record offset at the variant's
// position (tests use it to plant a bogus one).
func (w *Writer) SetLast(v uint64) {
	switch w.variant {
	case Legacy:
		binary.BigEndian.PutUint64(w.buf[offLastOld:], v)
	default:
		w.buf[offMask] = 0
		binary.BigEndian.PutUint64(w.buf[offLastNew:], v)
	}
}
