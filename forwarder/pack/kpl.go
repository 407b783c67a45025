package pack

import (
	"crypto/md5"
	"encoding/binary"
)

// KPL aggregated record format (amazon-kinesis-producer aggregation-format.md),
// encoded by hand:
//
//	magic F3 89 9A C2
//	AggregatedRecord (proto2):
//	  1: repeated string partition_key_table      tag 0x0A
//	  2: repeated string explicit_hash_key_table  tag 0x12 (never written)
//	  3: repeated Record records                  tag 0x1A
//	Record:
//	  1: required uint64 partition_key_index      tag 0x08
//	  2: optional uint64 explicit_hash_key_index  (never written)
//	  3: required bytes  data                     tag 0x1A
//	MD5 (16 bytes) of the AggregatedRecord bytes
//
// Every length-delimited field costs tag (1 byte) + varint(len) + len bytes;
// the size functions below use exactly that arithmetic so an aggregate's size
// is known before it is encoded. partition_key_index is required in proto2,
// so it is written even when it is 0 (the awslabs deaggregator dereferences
// it unconditionally).

var kplMagic = [4]byte{0xF3, 0x89, 0x9A, 0xC2}

const (
	kplTagPKTable = 1<<3 | 2 // field 1, length-delimited
	kplTagRecord  = 3<<3 | 2 // field 3, length-delimited
	kplTagPKIndex = 1<<3 | 0 // field 1, varint
	kplTagData    = 3<<3 | 2 // field 3, length-delimited

	// kplOverhead is magic + MD5 digest.
	kplOverhead = len(kplMagic) + md5.Size
)

// uvarintLen is the number of bytes binary.AppendUvarint writes for v.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// delimLen is the encoded size of a length-delimited field with a one-byte
// tag and an n-byte payload.
func delimLen(n int) int { return 1 + uvarintLen(uint64(n)) + n }

// kplKeyLen is the size of one partition_key_table entry.
func kplKeyLen(key string) int { return delimLen(len(key)) }

// kplRecordBody is the size of a Record message (without its outer tag and
// length) carrying n bytes of data and partition-key index idx.
func kplRecordBody(n int, idx uint64) int { return 1 + uvarintLen(idx) + delimLen(n) }

// kplRecordLen is the size of one records entry in AggregatedRecord.
func kplRecordLen(n int, idx uint64) int { return delimLen(kplRecordBody(n, idx)) }

// kplSub is one user record inside an aggregate.
type kplSub struct {
	key  uint64 // index into the partition-key table
	data []byte
}

// kplSize is the exact size of the aggregate (magic + protobuf + MD5) that
// appendKPL produces for keys and subs.
func kplSize(keys []string, subs []kplSub) int {
	n := kplOverhead
	for _, k := range keys {
		n += kplKeyLen(k)
	}
	for _, s := range subs {
		n += kplRecordLen(len(s.data), s.key)
	}
	return n
}

// appendKPL appends the KPL aggregate of subs to dst. Table order is the
// order of keys, records keep the order of subs.
func appendKPL(dst []byte, keys []string, subs []kplSub) []byte {
	dst = append(dst, kplMagic[:]...)
	start := len(dst)
	for _, k := range keys {
		dst = kplAppendKey(dst, k)
	}
	for _, s := range subs {
		dst = kplAppendRecord(dst, s.key, s.data)
	}
	return kplAppendMD5(dst, start)
}

// kplAppendMD5 appends the MD5 of dst[start:] (the protobuf message).
func kplAppendMD5(dst []byte, start int) []byte {
	sum := md5.Sum(dst[start:])
	return append(dst, sum[:]...)
}

func kplAppendKey(dst []byte, key string) []byte {
	dst = append(dst, kplTagPKTable)
	dst = binary.AppendUvarint(dst, uint64(len(key)))
	return append(dst, key...)
}

func kplAppendRecord(dst []byte, key uint64, data []byte) []byte {
	dst = append(dst, kplTagRecord)
	dst = binary.AppendUvarint(dst, uint64(kplRecordBody(len(data), key)))
	dst = append(dst, kplTagPKIndex)
	dst = binary.AppendUvarint(dst, key)
	dst = append(dst, kplTagData)
	dst = binary.AppendUvarint(dst, uint64(len(data)))
	return append(dst, data...)
}
