//go:build linux && cgo

package journal

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/stats"
)

// Without libsystemd the source records why as its state and returns;
// nothing fails and nothing panics.
func TestNoLibsystemd(t *testing.T) {
	loadMu.Lock()
	savedLib, savedLoaded := libsystemd, loaded
	libsystemd, loaded = "libsystemd-missing-for-a-test.so.0", false
	loadMu.Unlock()
	t.Cleanup(func() {
		loadMu.Lock()
		libsystemd, loaded = savedLib, savedLoaded
		loadMu.Unlock()
	})

	if err := Available(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Available() = %v, want ErrUnavailable", err)
	}
	store, err := eventstore.Open(filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	st, err := store.Stream(Schema(), eventstore.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	src := stats.NewRegistry().Source("journal")
	if err := Run(context.Background(), Config{}, st, store, src, nil); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if s := src.State(); !strings.HasPrefix(s, "unavailable: ") || !strings.Contains(s, "libsystemd-missing-for-a-test.so.0") {
		t.Errorf("state %q", s)
	}
}
