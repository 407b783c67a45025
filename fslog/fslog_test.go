package fslog

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestFilesystemLogger(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if err := l.LogResult([]byte(`{"name":"q","n":` + string(rune('0'+i)) + `}`)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := l.LogSnapshot([]byte(`{"snapshot":[]}`)); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	log := slog.New(Tee(slog.NewTextHandler(&stderr, nil), l.StatusHandler(slog.LevelInfo)))
	log.Info("daemon running", "queries", 3)
	log.Debug("hidden")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	res, _ := os.ReadFile(filepath.Join(dir, ResultsFile))
	lines := strings.Split(strings.TrimSuffix(string(res), "\n"), "\n")
	if len(lines) != 400 {
		t.Fatalf("%d result lines, want 400", len(lines))
	}
	for _, ln := range lines {
		if !strings.HasPrefix(ln, `{"name":"q","n":`) || !strings.HasSuffix(ln, "}") {
			t.Fatalf("torn line %q", ln)
		}
	}
	snap, _ := os.ReadFile(filepath.Join(dir, SnapshotsFile))
	if string(snap) != "{\"snapshot\":[]}\n" {
		t.Fatalf("snapshots file %q", snap)
	}
	info, _ := os.ReadFile(filepath.Join(dir, StatusFile))
	if !strings.Contains(string(info), "daemon running") || strings.Contains(string(info), "hidden") {
		t.Fatalf("status file %q", info)
	}
	if !strings.Contains(stderr.String(), "queries=3") {
		t.Fatalf("tee lost the stderr copy: %q", stderr.String())
	}
	st, _ := os.Stat(filepath.Join(dir, ResultsFile))
	if st.Mode().Perm() != Mode {
		t.Fatalf("mode %v, want %v", st.Mode().Perm(), os.FileMode(Mode))
	}
}
