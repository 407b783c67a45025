package pack

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// needsAttention must agree with strPlain on every byte value in every
// position, alone and mixed with other bytes.
func TestNeedsAttentionMatchesStrPlain(t *testing.T) {
	check := func(w [8]byte) {
		want := false
		for _, c := range w {
			want = want || !strPlain[c]
		}
		if got := needsAttention(binary.LittleEndian.Uint64(w[:])); got != want {
			t.Fatalf("needsAttention(% x) = %v, want %v", w, got, want)
		}
	}
	for c := range 256 {
		for pos := range 8 {
			for _, fill := range []byte{'a', 0x80, 0xff, '!', '#', '[', ']', 0x7f} {
				var w [8]byte
				for i := range w {
					w[i] = fill
				}
				w[pos] = byte(c)
				check(w)
			}
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 200000 {
		var w [8]byte
		for i := range w {
			w[i] = byte(r.IntN(256))
		}
		check(w)
	}
}
