package aslfile

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// seedFiles are the fixture variants of the format notes: both header
// variants, empty, truncated, bogus last, looping next, odd kvcount, a string
// reference past the end, an inline length above 7, NULL values, unset ids
// and non-UTF-8 bytes.
func seedFiles(t testing.TB) [][]byte {
	msgs := sampleMessages()
	w, modern := build(t, Modern, msgs)
	_, legacy := build(t, Legacy, msgs)
	offs := w.Offsets()
	return [][]byte{
		modern,
		legacy,
		NewWriter(Modern, 1).Bytes(),
		modern[:len(modern)-7],
		withU64(modern, offLastNew, 1<<40),
		withU64(modern, offs[2]+recordCommon, uint64(offs[0])),
		withU32(modern, int(offs[1])+62, 11),
		withU64(modern, offs[1]+66, uint64(len(modern))+5),
		withU64(modern, offs[2]+74, 0x8F00000000000000),
	}
}

// FuzzReadFile feeds arbitrary bytes to the reader as a whole file: the
// header, the record walk, string resolution and key building must never
// panic, and the walk must end.
func FuzzReadFile(f *testing.F) {
	for _, b := range seedFiles(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		var rec Record
		var m Message
		var keys []Pair
		last := int64(0)
		for r.Next(&rec) {
			if rec.Offset <= last {
				t.Fatalf("record at %d after one at %d: the walk must move forward", rec.Offset, last)
			}
			last = rec.Offset
			if len(rec.KV)%2 != 0 {
				t.Fatalf("odd number of key/value references: %d", len(rec.KV))
			}
			if r.Decode(&rec, &m) == nil {
				keys = m.Keys(keys[:0])
				if len(keys) < 5 {
					t.Fatalf("keys %v: the five fixed keys are always present", keys)
				}
			}
		}
		if r.Records() > int64(len(b))/msgFixedLen {
			t.Fatalf("%d records in %d bytes", r.Records(), len(b))
		}
	})
}

// FuzzParseRecord fuzzes the message record parser on its own.
func FuzzParseRecord(f *testing.F) {
	w, b := build(f, Modern, sampleMessages())
	for _, off := range w.Offsets() {
		n := binary.BigEndian.Uint32(b[off+2:])
		f.Add(b[off : off+recordCommon+int64(n)])
	}
	f.Add(make([]byte, msgFixedLen))
	f.Fuzz(func(t *testing.T, b []byte) {
		var rec Record
		if err := ParseRecord(b, HeaderLen, &rec); err != nil {
			return
		}
		if uint64(msgFixedLen)+8*uint64(len(rec.KV)) > uint64(len(b)) {
			t.Fatalf("%d key/value references in a record of %d bytes", len(rec.KV), len(b))
		}
	})
}
