// Package fslog is the daemon's filesystem logger plugin: result lines
// appended to <logger_path>/osqueryd.results.log, snapshot lines to
// osqueryd.snapshots.log, and the daemon's own log to osqueryd.INFO, the
// files osqueryd's filesystem logger writes. For local use and debugging;
// rotation is left to logrotate (copytruncate, or signal-free since every
// line is written with O_APPEND).
package fslog

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
)

// File names, as osqueryd's filesystem logger uses them.
const (
	ResultsFile   = "osqueryd.results.log"
	SnapshotsFile = "osqueryd.snapshots.log"
	StatusFile    = "osqueryd.INFO"
)

// Mode is the permission of created log files (osquery's --logger_mode
// default 0640).
const Mode = 0o640

// Logger writes the files of one folder.
type Logger struct {
	mu        sync.Mutex
	results   *os.File
	snapshots *os.File
	status    *os.File
}

// Open creates dir if needed and opens (appends to) the three files.
func Open(dir string) (*Logger, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("creating logger folder: %w", err)
	}
	l := &Logger{}
	for _, f := range []struct {
		name string
		dst  **os.File
	}{{ResultsFile, &l.results}, {SnapshotsFile, &l.snapshots}, {StatusFile, &l.status}} {
		fh, err := os.OpenFile(filepath.Join(dir, f.name), os.O_WRONLY|os.O_CREATE|os.O_APPEND, Mode)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("opening %s: %w", f.name, err)
		}
		*f.dst = fh
	}
	return l, nil
}

// LogResult appends one result line.
func (l *Logger) LogResult(line []byte) error { return l.write(l.results, line) }

// LogSnapshot appends one snapshot line.
func (l *Logger) LogSnapshot(line []byte) error { return l.write(l.snapshots, line) }

func (l *Logger) write(f *os.File, line []byte) error {
	buf := make([]byte, 0, len(line)+1)
	buf = append(append(buf, line...), '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	// One write per line: O_APPEND keeps concurrent writers' lines whole.
	if _, err := f.Write(buf); err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Base(f.Name()), err)
	}
	return nil
}

// StatusHandler returns a slog handler writing text records to
// osqueryd.INFO, at level and above.
func (l *Logger) StatusHandler(level slog.Leveler) slog.Handler {
	return slog.NewTextHandler(lockedWriter{l}, &slog.HandlerOptions{Level: level})
}

type lockedWriter struct{ l *Logger }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	return w.l.status.Write(p)
}

// Close closes the files.
func (l *Logger) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var first error
	for _, f := range []*os.File{l.results, l.snapshots, l.status} {
		if f != nil {
			if err := f.Close(); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// Tee returns a handler sending every record to each of hs.
func Tee(hs ...slog.Handler) slog.Handler { return tee(hs) }

type tee []slog.Handler

func (t tee) Enabled(ctx context.Context, lv slog.Level) bool {
	for _, h := range t {
		if h.Enabled(ctx, lv) {
			return true
		}
	}
	return false
}

func (t tee) Handle(ctx context.Context, r slog.Record) error {
	var first error
	for _, h := range t {
		if h.Enabled(ctx, r.Level) {
			if err := h.Handle(ctx, r.Clone()); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

func (t tee) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(tee, len(t))
	for i, h := range t {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (t tee) WithGroup(name string) slog.Handler {
	out := make(tee, len(t))
	for i, h := range t {
		out[i] = h.WithGroup(name)
	}
	return out
}
