package aslfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
)

// Ref is a string reference as stored in a message record: 0 for NULL, an
// inline string of up to 7 bytes when the top bit is set, otherwise the file
// offset of a string record.
type Ref uint64

// Inline reports whether r holds its string in itself.
func (r Ref) Inline() bool { return r>>56&inlineFlag != 0 }

// Record is a message record as stored: fixed fields and string references.
// Resolve the references with Reader.Decode or Reader.String.
type Record struct {
	Offset  int64  // file offset of the record
	Next    uint64 // offset of the next record (0 = last)
	Prev    uint64 // offset of the previous record
	ID      uint64 // ASLMessageID
	Time    uint64 // unix seconds
	Nano    uint32
	Level   uint16
	Flags   uint16 // FlagReadUID, FlagReadGID
	PID     uint32
	UID     uint32
	GID     uint32
	ReadUID uint32
	ReadGID uint32
	RefPID  uint32
	KVCount uint32 // u64 slots of key/value references as stored (pairs use KVCount/2*2)

	Host, Sender, Facility, Message, RefProc, Session Ref
	KV                                                []Ref // key, value, key, value...; reused by Next
}

// Message flags.
const (
	FlagReadUID = 0x1
	FlagReadGID = 0x2
)

// Unset is the value of an unset uid, gid, read uid or read gid.
const Unset = 0xFFFFFFFF

// NullString is a string that may be NULL (absent).
type NullString struct {
	S     string
	Valid bool
}

// Str returns a present string.
func Str(s string) NullString { return NullString{S: s, Valid: true} }

// Pair is one extra key/value of a message; a NULL value is allowed.
type Pair struct {
	Key   string
	Value NullString
}

// Message is a record with its strings resolved.
type Message struct {
	ID      uint64
	Time    uint64
	Nano    uint32
	Level   uint16
	Flags   uint16
	PID     uint32
	UID     uint32
	GID     uint32
	ReadUID uint32
	ReadGID uint32
	RefPID  uint32

	Host, Sender, Facility, Text, RefProc, Session NullString
	Pairs                                          []Pair
}

// Reader walks the message records of one store file. String records are
// read on demand through the io.ReaderAt, so a file of any size is read with
// a bounded buffer.
type Reader struct {
	ra   io.ReaderAt
	size int64
	hdr  Header

	win    []byte // window over the file, mostly ahead of the walk
	winOff int64
	sbuf   []byte // string reads outside the window
	strs   map[Ref]string

	cur     uint64 // offset of the next record to read; 0 = end
	err     error  // damage that ended the walk
	records int64
	bytes   int64
}

const (
	windowSize   = 256 << 10
	windowBehind = 16 << 10 // strings of a record usually sit just before it
	maxCached    = 8192
)

// NewReader parses the header of the file ra of size bytes. If ra has a
// Stat method (an *os.File), the size is refreshed when the chain points past
// it, so a file still being appended to reads up to its current end.
func NewReader(ra io.ReaderAt, size int64) (*Reader, error) {
	r := &Reader{ra: ra, size: size, strs: map[Ref]string{}}
	hb := make([]byte, HeaderLen)
	n, err := ra.ReadAt(hb, 0)
	if n < HeaderLen && err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	hdr, err := ParseHeader(hb[:n], size, r.peekRecord)
	if err != nil {
		return nil, err
	}
	r.hdr = hdr
	r.cur = hdr.First
	r.bytes = int64(n)
	return r, nil
}

// Header returns the parsed header.
func (r *Reader) Header() Header { return r.hdr }

// Size is the file size the reader works with.
func (r *Reader) Size() int64 { return r.size }

// Err returns the damage that ended the walk early, nil after a clean end.
func (r *Reader) Err() error { return r.err }

// Records is the number of records Next returned.
func (r *Reader) Records() int64 { return r.records }

// BytesRead is the number of bytes read from the file.
func (r *Reader) BytesRead() int64 { return r.bytes }

// ResumeAt makes the walk continue at the record at off, which must be the
// offset of a record of the chain (as recorded in Record.Offset earlier).
func (r *Reader) ResumeAt(off int64) {
	r.cur = uint64(off)
	r.err = nil
}

func (r *Reader) peekRecord(off uint64) (uint16, uint32, bool) {
	b, err := r.at(int64(off), recordCommon)
	if err != nil {
		return 0, 0, false
	}
	return binary.BigEndian.Uint16(b), binary.BigEndian.Uint32(b[2:]), true
}

// at returns n bytes at off, valid until the next call. off and n must be
// within the file.
func (r *Reader) at(off int64, n int) ([]byte, error) {
	if off >= r.winOff && off+int64(n) <= r.winOff+int64(len(r.win)) {
		return r.win[off-r.winOff : off-r.winOff+int64(n)], nil
	}
	start := max(off-windowBehind, 0)
	want := max(windowSize, int(off-start)+n)
	want = int(min(int64(want), r.size-start))
	if cap(r.win) < want {
		r.win = make([]byte, want)
	}
	r.win = r.win[:want]
	got, err := r.ra.ReadAt(r.win, start)
	r.bytes += int64(got)
	r.win, r.winOff = r.win[:got], start
	if off+int64(n) > start+int64(got) {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return r.win[off-start : off-start+int64(n)], nil
}

// fits reports whether n bytes at off lie within the file, refreshing the
// size once from Stat if they do not.
func (r *Reader) fits(off uint64, n uint64) bool {
	if off <= uint64(r.size) && n <= uint64(r.size)-off {
		return true
	}
	st, ok := r.ra.(interface{ Stat() (fs.FileInfo, error) })
	if !ok {
		return false
	}
	fi, err := st.Stat()
	if err != nil || fi.Size() <= r.size {
		return false
	}
	r.size = fi.Size()
	return off <= uint64(r.size) && n <= uint64(r.size)-off
}

// Next reads the next message record of the chain into rec. It returns false
// at the end of the chain or at damage that breaks it (see Err). A record
// whose next pointer is bad is still returned; the walk ends after it.
func (r *Reader) Next(rec *Record) bool {
	if r.cur == 0 || r.err != nil {
		return false
	}
	off := r.cur
	r.cur = 0
	if off < HeaderLen {
		r.err = damage(int64(off), ErrBadPointer, "record offset inside the header")
		return false
	}
	if !r.fits(off, msgFixedLen) {
		r.err = damage(int64(off), ErrTruncated, "message record past the end of the file (%d bytes)", r.size)
		return false
	}
	head, err := r.at(int64(off), recordCommon)
	if err != nil {
		r.err = &DamageError{Offset: int64(off), What: "reading record", Err: errors.Join(ErrReadFailure, err)}
		return false
	}
	typ, n := binary.BigEndian.Uint16(head), binary.BigEndian.Uint32(head[2:])
	if typ != typeMsg {
		r.err = damage(int64(off), ErrBadRecord, "record type %d where a message record belongs", typ)
		return false
	}
	if n < msgFixedBody {
		r.err = damage(int64(off), ErrBadRecord, "message record length %d below %d", n, msgFixedBody)
		return false
	}
	if !r.fits(off+recordCommon, uint64(n)) {
		r.err = damage(int64(off), ErrTruncated, "message record of %d bytes cut by the end of the file (%d bytes)", n, r.size)
		return false
	}
	b, err := r.at(int64(off), recordCommon+int(n))
	if err != nil {
		r.err = &DamageError{Offset: int64(off), What: "reading record", Err: errors.Join(ErrReadFailure, err)}
		return false
	}
	if err := parseMsg(b, int64(off), rec); err != nil {
		r.err = err
		return false
	}
	r.records++
	if rec.Next == 0 {
		rec.Next = r.recheckNext(off)
	}
	switch {
	case rec.Next == 0:
	case rec.Next <= off:
		// A loop or a pointer backwards: the chain is corrupt here. Apple's
		// reader stops quietly; the record itself is fine.
		r.err = damage(int64(off), ErrBadPointer, "next record offset %d does not move forward", rec.Next)
	default:
		r.cur = rec.Next
	}
	return true
}

// recheckNext re-reads the next pointer of the record at off from a file
// that can grow: the window may hold it from before the writer appended a
// record and patched it.
func (r *Reader) recheckNext(off uint64) uint64 {
	if _, ok := r.ra.(interface{ Stat() (fs.FileInfo, error) }); !ok {
		return 0
	}
	var b [8]byte
	if n, _ := r.ra.ReadAt(b[:], int64(off)+recordCommon); n != len(b) {
		return 0
	}
	r.bytes += int64(len(b))
	return binary.BigEndian.Uint64(b[:])
}

// ParseRecord parses one message record, b holding its bytes from the type
// field to the end of the record (6 + length bytes). off is where it starts
// in the file. rec.KV is reused.
func ParseRecord(b []byte, off int64, rec *Record) error {
	if len(b) < msgFixedLen {
		return damage(off, ErrTruncated, "message record of %d bytes", len(b))
	}
	if typ := binary.BigEndian.Uint16(b); typ != typeMsg {
		return damage(off, ErrBadRecord, "record type %d where a message record belongs", typ)
	}
	if n := binary.BigEndian.Uint32(b[2:]); uint64(n) != uint64(len(b)-recordCommon) {
		return damage(off, ErrBadRecord, "record length %d, %d bytes given", n, len(b)-recordCommon)
	}
	return parseMsg(b, off, rec)
}

func parseMsg(b []byte, off int64, rec *Record) error {
	be := binary.BigEndian
	n := uint64(len(b) - recordCommon)
	kv := be.Uint32(b[62:])
	if uint64(msgFixedBody)+8*uint64(kv) > n {
		return damage(off, ErrBadRecord, "%d key/value slots do not fit a record of %d bytes", kv, n)
	}
	*rec = Record{
		Offset:   off,
		Next:     be.Uint64(b[6:]),
		ID:       be.Uint64(b[14:]),
		Time:     be.Uint64(b[22:]),
		Nano:     be.Uint32(b[30:]),
		Level:    be.Uint16(b[34:]),
		Flags:    be.Uint16(b[36:]),
		PID:      be.Uint32(b[38:]),
		UID:      be.Uint32(b[42:]),
		GID:      be.Uint32(b[46:]),
		ReadUID:  be.Uint32(b[50:]),
		ReadGID:  be.Uint32(b[54:]),
		RefPID:   be.Uint32(b[58:]),
		KVCount:  kv,
		Host:     Ref(be.Uint64(b[66:])),
		Sender:   Ref(be.Uint64(b[74:])),
		Facility: Ref(be.Uint64(b[82:])),
		Message:  Ref(be.Uint64(b[90:])),
		RefProc:  Ref(be.Uint64(b[98:])),
		Session:  Ref(be.Uint64(b[106:])),
		KV:       rec.KV[:0],
	}
	// Apple uses kvcount/2 pairs; an odd last slot is ignored, and "prev"
	// is read right after the pairs.
	p := 114
	for range kv / 2 * 2 {
		rec.KV = append(rec.KV, Ref(be.Uint64(b[p:])))
		p += 8
	}
	rec.Prev = be.Uint64(b[p:])
	return nil
}

// String resolves a string reference. ok is false for a NULL reference. A
// reference that does not lead to a string (past the end of the file, not a
// string record, an inline length above 7) is an error; the record holding
// it is damaged, not the chain.
func (r *Reader) String(ref Ref) (s string, ok bool, err error) {
	if ref == 0 {
		return "", false, nil
	}
	if s, hit := r.strs[ref]; hit {
		return s, true, nil
	}
	if ref.Inline() {
		n := int(ref >> 56 & 0x0F)
		if n > maxInline {
			return "", false, damage(0, ErrBadInline, "inline reference %#016x", uint64(ref))
		}
		var buf [maxInline]byte
		for i := range n {
			buf[i] = byte(ref >> (48 - 8*i))
		}
		s = string(cutNUL(buf[:n]))
	} else {
		off := uint64(ref)
		if off < HeaderLen || !r.fits(off, recordCommon) {
			return "", false, damage(int64(off), ErrBadString, "string reference outside the file (%d bytes)", r.size)
		}
		b, err := r.strAt(int64(off), recordCommon)
		if err != nil {
			return "", false, &DamageError{Offset: int64(off), What: "reading string", Err: errors.Join(ErrReadFailure, err)}
		}
		typ, n := binary.BigEndian.Uint16(b), binary.BigEndian.Uint32(b[2:])
		if typ != typeStr {
			return "", false, damage(int64(off), ErrBadString, "record type %d where a string record belongs", typ)
		}
		if !r.fits(off+recordCommon, uint64(n)) {
			return "", false, damage(int64(off), ErrBadString, "string record of %d bytes cut by the end of the file", n)
		}
		b, err = r.strAt(int64(off)+recordCommon, int(n))
		if err != nil {
			return "", false, &DamageError{Offset: int64(off), What: "reading string", Err: errors.Join(ErrReadFailure, err)}
		}
		// The stored length includes the terminating NUL; like Apple's
		// reader, the string ends at the first NUL.
		s = string(cutNUL(b))
	}
	if len(r.strs) >= maxCached {
		clear(r.strs)
	}
	r.strs[ref] = s
	return s, true, nil
}

// strAt reads n bytes at off for a string: from the window when it holds
// them, else through a separate buffer so the window stays on the walk.
func (r *Reader) strAt(off int64, n int) ([]byte, error) {
	if off >= r.winOff && off+int64(n) <= r.winOff+int64(len(r.win)) {
		return r.win[off-r.winOff : off-r.winOff+int64(n)], nil
	}
	if cap(r.sbuf) < n {
		r.sbuf = make([]byte, max(n, 4096))
	}
	b := r.sbuf[:n]
	got, err := r.ra.ReadAt(b, off)
	r.bytes += int64(got)
	if got < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b, nil
}

func cutNUL(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// Decode resolves every string of rec. A NULL key or a bad reference is an
// error (*DamageError): Apple's reader drops such a record.
func (r *Reader) Decode(rec *Record, m *Message) error {
	*m = Message{
		ID: rec.ID, Time: rec.Time, Nano: rec.Nano, Level: rec.Level, Flags: rec.Flags,
		PID: rec.PID, UID: rec.UID, GID: rec.GID, ReadUID: rec.ReadUID, ReadGID: rec.ReadGID, RefPID: rec.RefPID,
		Pairs: m.Pairs[:0],
	}
	fields := [...]struct {
		ref Ref
		dst *NullString
	}{
		{rec.Host, &m.Host}, {rec.Sender, &m.Sender}, {rec.Facility, &m.Facility},
		{rec.Message, &m.Text}, {rec.RefProc, &m.RefProc}, {rec.Session, &m.Session},
	}
	for _, f := range fields {
		s, ok, err := r.String(f.ref)
		if err != nil {
			return r.locate(err, rec)
		}
		*f.dst = NullString{S: s, Valid: ok}
	}
	for i := 0; i+1 < len(rec.KV); i += 2 {
		if rec.KV[i] == 0 {
			return damage(rec.Offset, ErrBadString, "NULL key in key/value pair %d", i/2)
		}
		k, _, err := r.String(rec.KV[i])
		if err != nil {
			return r.locate(err, rec)
		}
		v, ok, err := r.String(rec.KV[i+1])
		if err != nil {
			return r.locate(err, rec)
		}
		m.Pairs = append(m.Pairs, Pair{Key: k, Value: NullString{S: v, Valid: ok}})
	}
	return nil
}

// locate attributes a string error to the record that holds the reference.
func (r *Reader) locate(err error, rec *Record) error {
	var d *DamageError
	if errors.As(err, &d) {
		return &DamageError{Offset: rec.Offset, What: "message record: " + d.What, Err: d.Err}
	}
	return err
}
