package sink

import (
	"encoding/base64"
	"encoding/binary"
)

// b64Pairs maps a 12-bit value to its two standard-alphabet base64
// characters, first character in the low byte.
var b64Pairs = func() (t [4096]uint16) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for v := range t {
		t[v] = uint16(alphabet[v>>6]) | uint16(alphabet[v&63])<<8
	}
	return t
}()

// appendBase64 appends the standard (padded) base64 encoding of src to dst,
// exactly as base64.StdEncoding does, about twice as fast: six input bytes
// become eight output bytes per step through one table of character pairs
// and one 8-byte store. Request bodies are mostly base64 (records are sent
// as JSON blobs), so this is on the path of every shipped byte.
func appendBase64(dst, src []byte) []byte {
	n := len(dst)
	size := base64.StdEncoding.EncodedLen(len(src))
	if cap(dst)-n < size {
		grown := make([]byte, n, n+size)
		copy(grown, dst)
		dst = grown
	}
	dst = dst[:n+size]
	out := dst[n:]
	i, j := 0, 0
	// The 8-byte load reads two bytes past the six it encodes.
	for ; i+8 <= len(src); i, j = i+6, j+8 {
		v := binary.BigEndian.Uint64(src[i:])
		binary.LittleEndian.PutUint64(out[j:], uint64(b64Pairs[v>>52&0xfff])|
			uint64(b64Pairs[v>>40&0xfff])<<16|
			uint64(b64Pairs[v>>28&0xfff])<<32|
			uint64(b64Pairs[v>>16&0xfff])<<48)
	}
	// i is a multiple of 3, so the rest encodes on its own exactly as it
	// would within the whole (including the padding).
	base64.StdEncoding.Encode(out[j:], src[i:])
	return dst
}
