package eventstore

import (
	"path/filepath"
	"testing"
	"time"
)

// TestLastEID: the high-water mark of eids, 0 before any row, not lowered
// by expiry, the same after reopening.
func TestLastEID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ev.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	sc := Schema{Name: "s", Columns: []Column{{Name: "m", Type: Text}}}
	st, err := s.Stream(sc, Limits{MaxCount: 2})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := st.LastEID(); err != nil || n != 0 {
		t.Fatalf("empty stream: %d, %v", n, err)
	}
	now := time.Now().Unix()
	for range 5 {
		if _, err := st.Append([]Event{{Time: now, Values: []any{"x"}}}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := st.LastEID(); err != nil || n != 5 || st.Count() != 2 {
		t.Fatalf("after 5 appends, 3 expired: last eid %d (%v), count %d", n, err, st.Count())
	}
	s.Close()
	if _, err := st.LastEID(); err != ErrClosed {
		t.Fatalf("closed store: %v", err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err = s.Stream(sc, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := st.LastEID(); err != nil || n != 5 {
		t.Fatalf("after reopening: %d, %v", n, err)
	}
}
