package eventstore

import (
	"path/filepath"
	"testing"
)

func TestPruneStates(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "p.db"))
	for k, v := range map[string]string{"lf/a": "", "lf/b": "pos", "lf/c": "", "other/x": ""} {
		if err := s.PutState(k, v); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PruneStates("lf/")
	if err != nil || n != 2 {
		t.Fatalf("PruneStates = %d, %v; want 2", n, err)
	}
	got, err := s.States("")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"lf/b": "pos", "other/x": ""}
	if !mapsEqual(got, want) {
		t.Fatalf("states %v, want %v", got, want)
	}
	s.Close()
	if _, err := s.PruneStates("lf/"); err != ErrClosed {
		t.Fatalf("after close: %v", err)
	}
}
