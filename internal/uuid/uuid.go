// Package uuid makes random (version 4) UUIDs in their canonical text form,
// 8-4-4-4-12 lower-case hex digits (RFC 9562).
package uuid

import "crypto/rand"

// Len is the length of a UUID's text form.
const Len = 36

// AppendV4 appends n fresh random UUIDs' text forms to dst, back to back:
// one crypto/rand read for all of them.
func AppendV4(dst []byte, n int) []byte {
	raw := make([]byte, 16*n)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails on supported systems
	const hexd = "0123456789abcdef"
	for k := range n {
		u := raw[16*k : 16*k+16]
		u[6] = u[6]&0x0f | 0x40 // version 4
		u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
		for j, c := range u {
			if j == 4 || j == 6 || j == 8 || j == 10 {
				dst = append(dst, '-')
			}
			dst = append(dst, hexd[c>>4], hexd[c&15])
		}
	}
	return dst
}

// NewV4 returns a fresh random UUID's text form.
func NewV4() string { return string(AppendV4(make([]byte, 0, Len), 1)) }
