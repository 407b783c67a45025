//go:build cgo

package asl

import (
	"database/sql"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

// TestLikeMatchesSQLite compares the LIKE matcher with SQLite's own LIKE:
// wherever SQLite matches, the matcher must too (it is a prefilter), and on
// ASCII it must agree exactly.
func TestLikeMatchesSQLite(t *testing.T) {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	patterns := []string{"%", "foo%", "%foo%", "%%", "_", "foo_", "_foo", "_foo_", "_%", "%foo_%",
		"FOO", "a.b", "C++%", "%[x]%", "%\\%", "%(%", "%\n%", "é_", "%K%", ""}
	values := []string{"", "foo", "FOO", "xfoo", "foox", "xfooy", "fo", "f", "a.b", "axb", "C++ code", "C", "[x]",
		"back\\slash", "(", "multi\nline", "éa", "ÉA", "K", "\u212a", "k", "x_y", "%"}
	for _, p := range patterns {
		m, ok := compileLike(p)
		if !ok {
			t.Fatalf("pattern %q did not compile", p)
		}
		for _, v := range values {
			var want bool
			if err := db.QueryRow("SELECT ? LIKE ?", v, p).Scan(&want); err != nil {
				t.Fatal(err)
			}
			got := m.match(v)
			ascii := isASCII(p) && isASCII(v)
			if want && !got || ascii && got != want {
				t.Errorf("%q LIKE %q: matcher %v, SQLite %v", v, p, got, want)
			}
		}
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
