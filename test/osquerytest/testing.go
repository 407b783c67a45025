package osquerytest

import (
	"os"
	"path/filepath"
	"testing"
)

// ShortTempDir makes a directory with a short name directly under
// os.TempDir() and removes it when the test ends. t.TempDir() paths embed
// the test name and easily exceed the 97 characters osquery-go allows for
// the extensions socket (the socket path plus ".<uuid>" must fit sun_path).
func ShortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp(os.TempDir(), "oq")
	if err != nil {
		t.Fatalf("making temp dir: %v", err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Logf("removing %s: %v", dir, err)
		}
	})
	return dir
}

// New starts a Manager on "<ShortTempDir>/osquery.em" for the test, logging
// harness events with t.Logf unless opts.Logf is set, and closes it when
// the test ends.
func New(t testing.TB, opts Options) *Manager {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	m, err := Start(filepath.Join(ShortTempDir(t), "osquery.em"), opts)
	if err != nil {
		t.Fatalf("starting fake osqueryd: %v", err)
	}
	t.Cleanup(m.Close)
	return m
}
