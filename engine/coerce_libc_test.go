//go:build sqlite_vtable

package engine

import (
	"math"
	"testing"

	"github.com/osquery-syslog/osquery-syslog/engine/internal/libc"
)

// The Go parsers must agree with the C library osqueryd uses. Run longer
// with: go test -tags sqlite_vtable -fuzz FuzzParseCInt ./engine/
func FuzzParseCInt(f *testing.F) {
	for _, s := range []string{"0", "42", " -0x1A", "017", "08", "0x", "12abc", "9223372036854775808", "-9223372036854775808", "", "+", "\v7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseCInt(s)
		want, wantOK := libc.Stoll(s)
		if ok != wantOK || (ok && got != want) {
			t.Errorf("parseCInt(%q) = %d, %v; strtoll: %d, %v", s, got, ok, want, wantOK)
		}
	})
}

// Run longer with: go test -tags sqlite_vtable -fuzz FuzzParseCDouble ./engine/
func FuzzParseCDouble(f *testing.F) {
	for _, s := range []string{"1.5", " 3e2", ".5", "5.", "0x10", "0x1.8p1", "inf", "-nan", "1e999", "1e-400", "4.9e-324", "1.5 ", "1e", "0x", "abc", "1\x002"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseCDouble(s)
		want, wantOK := libc.StrtodAll(s)
		// SQLite stores NaN as NULL, the same as a failed cast.
		if ok && math.IsNaN(got) {
			ok = false
		}
		if wantOK && math.IsNaN(want) {
			wantOK = false
		}
		if ok != wantOK || (ok && got != want) {
			t.Errorf("parseCDouble(%q) = %v, %v; strtod: %v, %v", s, got, ok, want, wantOK)
		}
	})
}
