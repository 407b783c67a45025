// Package aslfile reads and writes the files of an Apple System Log (ASL)
// store, the version 2 "ASL DB" format macOS wrote under /var/log/asl
// (asl_file.c). It is pure Go with no cgo, so it builds for every platform:
// a store copied off a Mac reads on Linux the same as on the Mac.
//
// The format, in short (all integers big-endian, offsets absolute):
//
//   - an 80-byte header: cookie "ASL DB", version 2, the offset of the first
//     message record, the file's creation time, the writer's string cache size
//     and the offset of the last message record;
//   - then string records (type 1) and message records (type 0) in append
//     order. Message records form a singly linked list through their "next"
//     field; strings of 8 bytes or more live in string records that message
//     records point to, shorter ones are packed inline into the 8-byte
//     reference itself.
//
// The header's "last" offset sits at byte 36 in older files and at byte 37 in
// newer ones (byte 36 became a level filter mask). Nothing here trusts it:
// records are always found by walking the chain from "first", and "last" is
// only reported as a validated hint.
package aslfile

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Sizes and offsets of the format.
const (
	HeaderLen      = 80  // DB_HEADER_LEN
	recordCommon   = 6   // type u16 + len u32
	msgFixedLen    = 122 // MSG_RECORD_FIXED_LENGTH: common part, fixed fields, prev
	msgFixedBody   = msgFixedLen - recordCommon
	typeMsg        = 0
	typeStr        = 1
	version2       = 2
	versionLegacy1 = 1

	offVersion   = 12
	offFirst     = 16
	offDOB       = 24
	offCacheSize = 32
	offMask      = 36 // modern files only
	offLastOld   = 36 // legacy variant
	offLastNew   = 37 // modern variant

	inlineFlag = 0x80
	maxInline  = 7
)

// cookie is the start of every store file; Apple compares these 6 bytes.
var cookie = []byte("ASL DB")

// Variant says where a file's header keeps the last-record offset.
type Variant int

const (
	// VariantUnknown: neither candidate offset points at a valid record
	// (an empty file, or a stale or damaged header).
	VariantUnknown Variant = iota
	// Modern files (those of recent macOS releases, e.g. 2019 stores) keep
	// a filter mask at byte 36 and the last-record offset at byte 37.
	Modern
	// Legacy files keep the last-record offset at byte 36.
	Legacy
)

func (v Variant) String() string {
	switch v {
	case Modern:
		return "modern"
	case Legacy:
		return "legacy"
	}
	return "unknown"
}

// Header is a parsed file header.
type Header struct {
	Version   uint32
	First     uint64 // offset of the first message record; 0 = no records
	DOB       uint64 // creation time, unix seconds
	CacheSize uint32 // the writer's string cache size (informational)
	// Last is the offset of the last message record if one of the two
	// candidate positions holds a plausible one (Variant says which), else 0.
	// It is a hint: readers walk the chain from First.
	Last       uint64
	Variant    Variant
	FilterMask uint8 // byte 36 of modern files; 0 otherwise
}

// Errors. A damaged file yields a *DamageError wrapping one of the Err*
// kinds below, with the offset where the damage was found.
var (
	ErrNotASL      = errors.New("not an ASL store file")
	ErrLegacyDB    = errors.New("legacy asl.db format (version 1) is not supported")
	ErrVersion     = errors.New("unsupported ASL file version")
	ErrTruncated   = errors.New("truncated")
	ErrBadRecord   = errors.New("malformed record")
	ErrBadPointer  = errors.New("record pointer out of order")
	ErrBadString   = errors.New("bad string reference")
	ErrBadInline   = errors.New("inline string longer than 7 bytes")
	ErrReadFailure = errors.New("read failed")
)

// DamageError locates damage in a file.
type DamageError struct {
	Offset int64  // file offset of the record or reference found bad
	What   string // detail
	Err    error  // one of the Err* kinds
}

func (e *DamageError) Error() string {
	return fmt.Sprintf("at offset %d: %s: %v", e.Offset, e.What, e.Err)
}

func (e *DamageError) Unwrap() error { return e.Err }

func damage(off int64, kind error, format string, args ...any) error {
	return &DamageError{Offset: off, What: fmt.Sprintf(format, args...), Err: kind}
}

// ParseHeader parses the first HeaderLen bytes of a file of size bytes. It
// validates the cookie and version and picks the plausible last-record
// offset; it does not read records. lastRecordLen, if not nil, returns the
// length field of the record at a candidate offset (or false if it cannot be
// read); with nil, candidates are only bounds-checked.
func ParseHeader(b []byte, size int64, lastRecordLen func(off uint64) (typ uint16, n uint32, ok bool)) (Header, error) {
	if len(b) < HeaderLen || size < HeaderLen {
		if len(b) >= len(cookie) && string(b[:len(cookie)]) != string(cookie) {
			return Header{}, ErrNotASL
		}
		return Header{}, damage(0, ErrTruncated, "header of %d bytes", min(int64(len(b)), size))
	}
	if string(b[:len(cookie)]) != string(cookie) {
		return Header{}, ErrNotASL
	}
	h := Header{
		Version:   binary.BigEndian.Uint32(b[offVersion:]),
		First:     binary.BigEndian.Uint64(b[offFirst:]),
		DOB:       binary.BigEndian.Uint64(b[offDOB:]),
		CacheSize: binary.BigEndian.Uint32(b[offCacheSize:]),
	}
	switch h.Version {
	case version2:
	case versionLegacy1:
		return h, ErrLegacyDB
	default:
		return h, fmt.Errorf("%w %d", ErrVersion, h.Version)
	}
	plausible := func(off uint64) bool {
		if off < HeaderLen || off > uint64(size) || uint64(size)-off < msgFixedLen {
			return false
		}
		if lastRecordLen == nil {
			return true
		}
		typ, n, ok := lastRecordLen(off)
		return ok && typ == typeMsg && n >= msgFixedBody && (n-msgFixedBody)%8 == 0 && uint64(n) <= uint64(size)-off-recordCommon
	}
	// The modern position first: in a legacy file, the 8 bytes at 37 are
	// the real offset shifted left by a byte, far past the end of the file;
	// in a modern one the bytes at 36 are the offset shifted right by a
	// byte behind the mask, which can land on a record start by chance.
	if last := binary.BigEndian.Uint64(b[offLastNew:]); last != 0 && plausible(last) {
		h.Last, h.Variant, h.FilterMask = last, Modern, b[offMask]
	} else if last := binary.BigEndian.Uint64(b[offLastOld:]); last != 0 && plausible(last) {
		h.Last, h.Variant = last, Legacy
	}
	return h, nil
}
