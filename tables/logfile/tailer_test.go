package logfile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/stats"
)

// harness runs a Tailer over a real event store in a temporary directory,
// stepped by hand with a fake clock.
type harness struct {
	t     testing.TB
	dir   string
	db    string
	store *eventstore.Store
	st    *eventstore.Stream
	sink  Sink
	cfg   Config
	tl    *Tailer
	src   *stats.Source
	clock time.Time
}

func newHarness(t testing.TB, cfg Config) *harness {
	return newHarnessSink(t, cfg, nil)
}

// newHarnessSink is newHarness storing through fs (nil: the stream itself).
func newHarnessSink(t testing.TB, cfg Config, fs *failSink) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t, dir: dir, db: filepath.Join(t.TempDir(), "events.db"), cfg: cfg, clock: time.Unix(1_700_000_000, 0)}
	if fs != nil {
		h.sink = fs
	}
	if len(h.cfg.Paths) == 0 {
		h.cfg.Paths = []string{filepath.Join(dir, "*.log")}
	}
	h.src = stats.NewRegistry().Source("logfile")
	h.open()
	t.Cleanup(func() { h.close() })
	return h
}

func (h *harness) open() {
	h.t.Helper()
	var err error
	h.store, err = eventstore.Open(h.db)
	if err != nil {
		h.t.Fatal(err)
	}
	h.st, err = h.store.Stream(Schema(), eventstore.Limits{})
	if err != nil {
		h.t.Fatal(err)
	}
	if fs, ok := h.sink.(*failSink); ok {
		fs.Sink = h.st
	} else {
		h.sink = h.st
	}
	h.tl, err = New(h.cfg, h.sink, h.store, h.src, slog.New(slog.DiscardHandler))
	if err != nil {
		h.t.Fatal(err)
	}
	h.tl.now = func() time.Time { return h.clock }
}

func (h *harness) close() {
	if h.tl != nil {
		h.tl.Close()
		h.tl = nil
	}
	if h.store != nil {
		h.store.Close()
		h.store = nil
	}
}

// restart is a restart of the binary: everything in memory is dropped.
func (h *harness) restart() {
	h.t.Helper()
	h.close()
	h.open()
}

func (h *harness) step() {
	h.t.Helper()
	if err := h.tl.Step(); err != nil {
		h.t.Fatalf("step: %v", err)
	}
}

func (h *harness) path(name string) string { return filepath.Join(h.dir, name) }

type row struct {
	Path      string
	Line      int64
	Message   string
	Offset    int64
	Inode     int64
	Truncated int64
}

func (h *harness) rows() []row {
	h.t.Helper()
	var out []row
	err := h.st.Query(context.Background(), nil, func(r eventstore.Row) error {
		out = append(out, row{
			Path: r.Values[colPath].(string), Line: r.Values[colLine].(int64), Message: r.Values[colMessage].(string),
			Offset: r.Values[colOffset].(int64), Inode: r.Values[colInode].(int64), Truncated: r.Values[colTruncated].(int64),
		})
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

func (h *harness) messages() []string {
	var out []string
	for _, r := range h.rows() {
		out = append(out, r.Message)
	}
	return out
}

func (h *harness) wantMessages(want ...string) {
	h.t.Helper()
	got := h.messages()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		h.t.Fatalf("messages:\n got  %q\n want %q", got, want)
	}
}

func appendFile(t testing.TB, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func inode(t testing.TB, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func TestAppendAndPartialLine(t *testing.T) {
	h := newHarness(t, Config{})
	p := h.path("app.log")
	appendFile(t, p, "one\ntw")
	h.step()
	h.wantMessages("one")
	appendFile(t, p, "o\nthree")
	h.step()
	h.wantMessages("one", "two")
	appendFile(t, p, "\n")
	h.step()
	h.wantMessages("one", "two", "three")
	rows := h.rows()
	for i, r := range rows {
		if r.Line != int64(i+1) || r.Path != p || r.Inode != int64(inode(t, p)) || r.Truncated != 0 {
			t.Errorf("row %d = %+v", i, r)
		}
	}
	if rows[1].Offset != 4 || rows[2].Offset != 8 {
		t.Errorf("offsets %d %d, want 4 8", rows[1].Offset, rows[2].Offset)
	}
	if got := h.src.LinesRead.Load(); got != 3 {
		t.Errorf("lines_read = %d", got)
	}
}

func TestCRLF(t *testing.T) {
	h := newHarness(t, Config{})
	p := h.path("win.log")
	appendFile(t, p, "a\r\nb\r\n\r\nc\rd\r")
	h.step()
	h.wantMessages("a", "b", "") // "c\rd\r" is unfinished; a lone CR is no line end
	appendFile(t, p, "\n")
	h.step()
	h.wantMessages("a", "b", "", "c\rd")
}

func TestLongLines(t *testing.T) {
	h := newHarness(t, Config{MaxLine: 10})
	p := h.path("long.log")
	appendFile(t, p, "short\n"+strings.Repeat("x", 25))
	h.step()
	h.wantMessages("short", strings.Repeat("x", 10))
	// Restart while the rest of the long line is being skipped.
	h.restart()
	appendFile(t, p, strings.Repeat("y", 30)+"\nafter\n0123456789\r\n0123456789A\n")
	h.step()
	h.wantMessages("short", strings.Repeat("x", 10), "after", "0123456789", "0123456789")
	rows := h.rows()
	var flags []int64
	for _, r := range rows {
		flags = append(flags, r.Truncated)
	}
	if fmt.Sprint(flags) != "[0 1 0 0 1]" {
		t.Errorf("truncated flags %v, want [0 1 0 0 1]", flags)
	}
	if got := h.src.TruncatedLines.Load(); got != 2 {
		t.Errorf("truncated_lines = %d, want 2", got)
	}
}

func TestRenameRotation(t *testing.T) {
	h := newHarness(t, Config{})
	p := h.path("app.log")
	appendFile(t, p, "g1 a\ng1 b\n")
	h.step()
	appendFile(t, p, "g1 c\ng1 partial") // unread when rotated
	if err := os.Rename(p, p+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, p, "g2 a\n")
	h.step()
	// The rotated file is drained before the new one is read; it stays
	// open for RotateWait in case its writer has not reopened yet.
	h.wantMessages("g1 a", "g1 b", "g1 c", "g2 a")
	appendFile(t, p+".1", " end\n")
	h.clock = h.clock.Add(time.Second)
	h.step()
	h.wantMessages("g1 a", "g1 b", "g1 c", "g2 a", "g1 partial end")
	h.clock = h.clock.Add(DefaultRotateWait)
	h.step()
	if len(h.tl.old) != 0 {
		t.Fatalf("rotated file still followed after RotateWait")
	}
	rows := h.rows()
	if rows[3].Line != 1 || rows[4].Line != 4 {
		t.Errorf("line numbers per generation: %+v", rows)
	}
	if got := h.src.Rotations.Load(); got != 1 {
		t.Errorf("rotations = %d, want 1", got)
	}
}

func TestRenameRotationFinalPartialLine(t *testing.T) {
	h := newHarness(t, Config{RotateWait: time.Second})
	p := h.path("app.log")
	appendFile(t, p, "a\nno newline")
	h.step()
	os.Rename(p, p+".1")
	h.step()
	h.wantMessages("a")
	h.clock = h.clock.Add(2 * time.Second)
	h.step()
	// No writer will finish it: the last line is stored as it is.
	h.wantMessages("a", "no newline")
}

func TestRotatedWhileDown(t *testing.T) {
	h := newHarness(t, Config{RotateWait: -1})
	p := h.path("app.log")
	appendFile(t, p, "g1 a\n")
	h.step()
	h.close()
	appendFile(t, p, "g1 b\n")
	os.Rename(p, p+".1") // not matched by *.log
	appendFile(t, p, "g2 a\n")
	h.open()
	h.step()
	h.wantMessages("g1 a", "g1 b", "g2 a")
	h.restart()
	h.step()
	h.wantMessages("g1 a", "g1 b", "g2 a")
}

func TestCopyTruncate(t *testing.T) {
	h := newHarness(t, Config{})
	p := h.path("app.log")
	appendFile(t, p, "g1 a\ng1 b\n")
	h.step()
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, p, "g2 a\n") // shorter than the old offset
	h.step()
	h.wantMessages("g1 a", "g1 b", "g2 a")
	if r := h.rows()[2]; r.Line != 1 || r.Offset != 0 {
		t.Errorf("new generation row %+v, want line 1 offset 0", r)
	}
	// Truncated and grown past the old offset between two looks: the size
	// does not tell, the marker does.
	os.Truncate(p, 0)
	appendFile(t, p, "g3 a long line that is longer than before\n")
	h.step()
	h.wantMessages("g1 a", "g1 b", "g2 a", "g3 a long line that is longer than before")
	if got := h.src.Rotations.Load(); got != 2 {
		t.Errorf("rotations = %d, want 2", got)
	}
}

func TestTruncatedWhileDown(t *testing.T) {
	h := newHarness(t, Config{})
	p := h.path("app.log")
	appendFile(t, p, "g1 a\n")
	h.step()
	h.close()
	os.Truncate(p, 0)
	appendFile(t, p, "g2 first line, longer\n")
	h.open()
	h.step()
	h.wantMessages("g1 a", "g2 first line, longer")
}

func TestDeleteAndRecreate(t *testing.T) {
	h := newHarness(t, Config{RotateWait: -1})
	p := h.path("app.log")
	appendFile(t, p, "g1 a\n")
	h.step()
	appendFile(t, p, "g1 b\n") // unread when deleted
	os.Remove(p)
	h.step() // drained through the open handle
	h.wantMessages("g1 a", "g1 b")
	appendFile(t, p, "g2 a\n")
	h.step()
	h.wantMessages("g1 a", "g1 b", "g2 a")
	// Delete and recreate between two looks.
	appendFile(t, p, "g2 b\n")
	os.Remove(p)
	appendFile(t, p, "g3 a\n")
	h.step()
	h.wantMessages("g1 a", "g1 b", "g2 a", "g2 b", "g3 a")
}

// TestInodeReuse: a saved position names the (device, inode) of the file now
// at the path, but the file is another one (deleted, and a new file got the
// inode back while we were down). Birth time or head hash tell them apart.
func TestInodeReuse(t *testing.T) {
	h := newHarness(t, Config{})
	p := h.path("app.log")
	appendFile(t, p, "old file line one\nold file line two\n")
	h.step()
	h.close()
	os.Remove(p)
	appendFile(t, p, "new file, same inode, line one\nnew two\n")
	newIno := inode(t, p)
	// Make the saved position name the new file's inode, as a reused inode
	// would (file systems reuse freed inodes, but not on demand).
	store, err := eventstore.Open(h.db)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := store.States(StateKeyPrefix)
	for k, v := range m {
		if v == "" {
			continue
		}
		var pos position
		json.Unmarshal([]byte(v), &pos)
		pos.Ino = newIno
		pos.Birth = birthTime(p) // defeat the birth check too: the head must catch it
		b, _ := json.Marshal(pos)
		store.PutState(k, "")
		store.PutState(pos.key(), string(b))
	}
	store.Close()
	h.open()
	h.step()
	h.wantMessages("old file line one", "old file line two", "new file, same inode, line one", "new two")
}

func TestRestartNoDuplicates(t *testing.T) {
	h := newHarness(t, Config{})
	p := h.path("app.log")
	q := h.path("other.log")
	for i := range 5 {
		appendFile(t, p, fmt.Sprintf("p%d\n", i))
		appendFile(t, q, fmt.Sprintf("q%d\n", i))
		h.step()
		h.restart()
	}
	appendFile(t, p, "last")
	h.step()
	h.restart()
	appendFile(t, p, "\n")
	h.step()
	var ps, qs []string
	for _, r := range h.rows() {
		if r.Path == p {
			ps = append(ps, fmt.Sprintf("%d %s", r.Line, r.Message))
		} else {
			qs = append(qs, fmt.Sprintf("%d %s", r.Line, r.Message))
		}
	}
	if strings.Join(ps, ",") != "1 p0,2 p1,3 p2,4 p3,5 p4,6 last" || strings.Join(qs, ",") != "1 q0,2 q1,3 q2,4 q3,5 q4" {
		t.Fatalf("after restarts: %v %v", ps, qs)
	}
}

// failSink fails the next n appends, as a full disk or a locked database
// would.
type failSink struct {
	Sink
	fail int
}

func (f *failSink) AppendState(ev []eventstore.Event, st map[string]string) (int64, error) {
	if f.fail > 0 {
		f.fail--
		return 0, errors.New("disk full")
	}
	return f.Sink.AppendState(ev, st)
}

func TestStoreFailureKeepsPosition(t *testing.T) {
	fs := &failSink{}
	h := &harness{t: t, dir: t.TempDir(), db: filepath.Join(t.TempDir(), "e.db"), sink: fs, clock: time.Unix(1e9, 0)}
	h.cfg.Paths = []string{filepath.Join(h.dir, "*.log")}
	h.src = stats.NewRegistry().Source("logfile")
	h.open()
	t.Cleanup(h.close)
	p := h.path("a.log")
	appendFile(t, p, "a\n")
	h.step()
	appendFile(t, p, "b\nc\n")
	fs.fail = 1
	if err := h.tl.Step(); err == nil {
		t.Fatal("step with a failing store: no error")
	}
	h.step()
	h.wantMessages("a", "b", "c")
	if h.src.Errors.Load() != 1 {
		t.Errorf("errors = %d, want 1", h.src.Errors.Load())
	}
}

func TestMaxOpenBound(t *testing.T) {
	h := newHarness(t, Config{MaxOpen: 2, RotateWait: -1})
	for i := range 6 {
		appendFile(t, h.path(fmt.Sprintf("f%d.log", i)), fmt.Sprintf("f%d a\n", i))
	}
	h.step()
	if n := h.openHandles(); n > 2 {
		t.Fatalf("%d handles open, MaxOpen 2", n)
	}
	// A closed file rotated with unread lines is found again by inode.
	p := h.path("f0.log")
	appendFile(t, p, "f0 b\n")
	os.Rename(p, p+".1")
	appendFile(t, p, "f0 new\n")
	h.step()
	var got []string
	for _, r := range h.rows() {
		if strings.HasPrefix(r.Message, "f0") {
			got = append(got, r.Message)
		}
	}
	if strings.Join(got, ",") != "f0 a,f0 b,f0 new" {
		t.Fatalf("f0 lines %v", got)
	}
	if n := h.openHandles(); n > 2 {
		t.Fatalf("%d handles open, MaxOpen 2", n)
	}
}

func (h *harness) openHandles() int {
	n := 0
	for _, f := range h.tl.followers() {
		if f.f != nil {
			n++
		}
	}
	return n
}

func TestNewMatchesPickedUp(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, Config{Paths: []string{filepath.Join(dir, "a*.log"), filepath.Join(dir, "sub", "*.txt")}})
	appendFile(t, filepath.Join(dir, "a1.log"), "a1\n")
	appendFile(t, filepath.Join(dir, "b1.log"), "b1\n") // not matched
	h.step()
	h.wantMessages("a1")
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	appendFile(t, filepath.Join(dir, "sub", "x.txt"), "x\n")
	appendFile(t, filepath.Join(dir, "a2.log"), "a2\n")
	h.step()
	h.wantMessages("a1", "a2", "x")
}

func TestBadPattern(t *testing.T) {
	if _, err := New(Config{Paths: []string{"/tmp/[x"}}, nil, nil, nil, nil); err == nil {
		t.Fatal("bad glob accepted")
	}
}

// TestRun runs the real loop, with inotify and with polling only.
func TestRun(t *testing.T) {
	for _, tt := range []struct {
		name      string
		noInotify bool
	}{{"inotify", false}, {"poll", true}} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			store, err := eventstore.Open(filepath.Join(t.TempDir(), "e.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			st, err := store.Stream(Schema(), eventstore.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			cfg := Config{Paths: []string{filepath.Join(dir, "*.log")}, NoInotify: tt.noInotify,
				PollInterval: 20 * time.Millisecond, RescanInterval: time.Hour, RotateWait: 50 * time.Millisecond}
			if !tt.noInotify {
				// Only inotify events can wake it in time.
				cfg.PollInterval = time.Hour
			}
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- Run(ctx, cfg, st, store, nil, nil) }()
			p := filepath.Join(dir, "app.log")
			appendFile(t, p, "one\n")
			waitCount(t, st, 1)
			appendFile(t, p, "two\n")
			os.Rename(p, p+".1")
			appendFile(t, p, "three\n")
			waitCount(t, st, 3)
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			var got []string
			st.Query(context.Background(), nil, func(r eventstore.Row) error {
				got = append(got, r.Values[colMessage].(string))
				return nil
			})
			if strings.Join(got, ",") != "one,two,three" {
				t.Fatalf("got %v", got)
			}
		})
	}
}

func waitCount(t *testing.T, st *eventstore.Stream, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var c int64
		st.Query(context.Background(), nil, func(eventstore.Row) error { c++; return nil })
		if c >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("fewer than %d rows after 10s", n)
}

// Finished generations leave no state behind once pruned: the state table
// does not grow with every rotation.
func TestFinishedPositionsPruned(t *testing.T) {
	h := newHarness(t, Config{RotateWait: -1})
	p := h.path("app.log")
	for i := range 5 {
		appendFile(t, p, fmt.Sprintf("g%d\n", i))
		h.step()
		os.Rename(p, p+".old")
	}
	appendFile(t, p, "last\n")
	h.step()
	h.restart() // New prunes
	m, err := h.store.States(StateKeyPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 {
		t.Fatalf("%d saved positions after 5 rotations, want 1 (the current file): %v", len(m), m)
	}
	h.step()
	h.wantMessages("g0", "g1", "g2", "g3", "g4", "last")
}

// A pattern matching a directory or a FIFO skips it without errors.
func TestNonRegularSkipped(t *testing.T) {
	h := newHarness(t, Config{})
	os.Mkdir(h.path("dir.log"), 0o755)
	syscall.Mkfifo(h.path("fifo.log"), 0o600)
	appendFile(t, h.path("x.log"), "x\n")
	h.step()
	h.step()
	h.wantMessages("x")
	if n := h.src.Errors.Load(); n != 0 {
		t.Fatalf("errors = %d, want 0", n)
	}
}

// A path that fails (here a symlink loop: ELOOP, even for root) is counted
// at every attempt, named in the last error, and logged once.
func TestFailingPathCounted(t *testing.T) {
	h := newHarness(t, Config{})
	var logs strings.Builder
	h.tl.log = slog.New(slog.NewTextHandler(&logs, nil))
	loop := h.path("loop.log")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	appendFile(t, h.path("ok.log"), "ok\n")
	h.step()
	h.step()
	h.wantMessages("ok")
	if n := h.src.Errors.Load(); n != 2 {
		t.Fatalf("errors = %d, want 2", n)
	}
	if msg, _ := h.src.LastError(); !strings.Contains(msg, "loop.log") {
		t.Fatalf("last error %q does not name the file", msg)
	}
	if n := strings.Count(logs.String(), "log file error"); n != 1 {
		t.Fatalf("logged %d times, want once:\n%s", n, logs.String())
	}
}

// A store failure on the very first look at a file (and with saved
// positions still to resolve) loses nothing: the next step starts over.
func TestStoreFailureOnFirstLook(t *testing.T) {
	fs := &failSink{}
	h := &harness{t: t, dir: t.TempDir(), db: filepath.Join(t.TempDir(), "e.db"), sink: fs, clock: time.Unix(1e9, 0), cfg: Config{RotateWait: -1}}
	h.cfg.Paths = []string{filepath.Join(h.dir, "*.log")}
	h.src = stats.NewRegistry().Source("logfile")
	h.open()
	t.Cleanup(h.close)
	p := h.path("a.log")
	appendFile(t, p, "a1\n")
	h.step()
	h.close()
	appendFile(t, p, "a2\n")
	os.Rename(p, p+".1") // rotated while down: a saved position to resolve
	appendFile(t, h.path("b.log"), "b1\n")
	h.open()
	fs.fail = 1
	if err := h.tl.Step(); err == nil {
		t.Fatal("no error from a failing store")
	}
	h.step()
	// Order holds per file generation; a.log's rotated generation, no
	// longer at any matched path, is resolved after the matched files.
	h.wantMessages("a1", "b1", "a2")
}
