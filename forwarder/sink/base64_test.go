package sink

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

func TestAppendBase64MatchesStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for n := range 5000 {
		if n > 200 {
			n = r.IntN(70000)
		}
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(r.IntN(256))
		}
		prefix := []byte(`{"Data":"`)
		want := append(bytes.Clone(prefix), base64.StdEncoding.EncodeToString(src)...)
		for _, dst := range [][]byte{bytes.Clone(prefix), append(make([]byte, 0, 1<<17), prefix...)} {
			if got := appendBase64(dst, src); !bytes.Equal(got, want) {
				t.Fatalf("len %d: got %.80q..., want %.80q...", n, got, want)
			}
		}
	}
}

func BenchmarkAppendBase64(b *testing.B) {
	src := bytes.Repeat([]byte(`{"name":"pack_syslog","columns":{"message":"x"}}`), 1<<14)
	dst := make([]byte, 0, base64.StdEncoding.EncodedLen(len(src)))
	b.Run("appendBase64", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			appendBase64(dst[:0], src)
		}
	})
	b.Run("stdlib", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			base64.StdEncoding.Encode(dst[:cap(dst)], src)
		}
	})
}
