package uuid

import (
	"regexp"
	"testing"
)

var v4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNewV4(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		u := NewV4()
		if !v4.MatchString(u) {
			t.Fatalf("%q is not a version 4 UUID", u)
		}
		if seen[u] {
			t.Fatalf("%q drawn twice", u)
		}
		seen[u] = true
	}
}

func TestAppendV4(t *testing.T) {
	b := AppendV4([]byte("x"), 3)
	if len(b) != 1+3*Len || b[0] != 'x' {
		t.Fatalf("got %d bytes %q", len(b), b)
	}
	for k := range 3 {
		if u := string(b[1+k*Len : 1+(k+1)*Len]); !v4.MatchString(u) {
			t.Fatalf("UUID %d: %q", k, u)
		}
	}
}

func BenchmarkAppendV4(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 64*Len)
	for b.Loop() {
		buf = AppendV4(buf[:0], 64)
	}
}
