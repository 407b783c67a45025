//go:build linux && cgo

package journal_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/stats"
	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc"
	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc/eventsrctest"
	. "github.com/osquery-syslog/osquery-syslog/tables/journal"
	"github.com/osquery-syslog/osquery-syslog/tables/journal/journalcheck"
	"github.com/osquery-syslog/osquery-syslog/test/journaltest"
)

// needTools skips without the journal tools or libsystemd, and fails in CI,
// where make deps installs them.
func needTools(t testing.TB) {
	t.Helper()
	journaltest.Require(t)
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// harness runs the source over a journal directory into a store.
type harness struct {
	t      *testing.T
	dir    string // journal directory
	db     string
	store  *eventstore.Store
	st     *eventstore.Stream
	src    *stats.Source
	cancel context.CancelFunc
	done   chan error
	wrap   func(*eventstore.Stream) eventsrc.Sink // if set, what Run writes to
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	needTools(t)
	root := t.TempDir()
	h := &harness{t: t, dir: filepath.Join(root, "journal"), db: filepath.Join(root, "buffer.db")}
	if err := os.Mkdir(h.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) start(cfg Config) {
	h.t.Helper()
	store, err := eventstore.Open(h.db)
	if err != nil {
		h.t.Fatal(err)
	}
	st, err := store.Stream(Schema(), eventstore.Limits{})
	if err != nil {
		h.t.Fatal(err)
	}
	h.store, h.st = store, st
	h.src = stats.NewRegistry().Source("journal")
	if cfg.Path == "" {
		cfg.Path = h.dir
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 20 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	var sink eventsrc.Sink = st
	if h.wrap != nil {
		sink = h.wrap(st)
	}
	go func() { h.done <- Run(ctx, cfg, sink, store, h.src, nil) }()
	h.t.Cleanup(h.stop)
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	if err := <-h.done; err != nil {
		h.t.Errorf("Run: %v", err)
	}
	h.cancel = nil
	h.store.Close()
}

func (h *harness) write(name string, es []journaltest.Entry) {
	h.t.Helper()
	if err := journaltest.WriteJournal(filepath.Join(h.dir, name), es); err != nil {
		h.t.Fatal(err)
	}
}

// rows returns every row of journal_messages, in eid order.
func (h *harness) rows() []map[string]string {
	h.t.Helper()
	rows, err := Table(h.st).Generate(context.Background(), table.QueryContext{})
	if err != nil {
		h.t.Fatal(err)
	}
	return rows
}

func (h *harness) waitCount(n int) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for h.st.Count() < int64(n) {
		if time.Now().After(deadline) {
			h.t.Fatalf("%d rows after 30s, want %d (state %q, last error %q)", h.st.Count(), n, h.src.State(), errText(h.src))
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if got := h.st.Count(); got != int64(n) {
		h.t.Fatalf("%d rows, want %d", got, n)
	}
}

func errText(s *stats.Source) string { m, _ := s.LastError(); return m }

// check compares the table with journalctl's reading of the directory:
// the same entries, in the same order, every field equal.
func (h *harness) check() {
	h.t.Helper()
	want, err := journaltest.Read(h.dir)
	if err != nil {
		h.t.Fatal(err)
	}
	rows := h.rows()
	if len(rows) != len(want) {
		h.t.Fatalf("%d rows, journalctl reads %d entries", len(rows), len(want))
	}
	bad := 0
	for i := range want {
		if d := journalcheck.Diff(want[i], rows[i]); len(d) > 0 {
			h.t.Errorf("entry %d differs:\n  %s", i, strings.Join(d, "\n  "))
			if bad++; bad > 5 {
				h.t.FailNow()
			}
		}
	}
}

// begin writes n generated entries to system.journal and reads them all.
func (h *harness) begin(n int, seed int64) {
	h.t.Helper()
	h.write("system.journal", journaltest.Generate(n, seed))
	h.start(Config{Since: Since{Kind: SinceAll}})
	h.waitCount(n)
}

func TestEveryFieldAgainstJournalctl(t *testing.T) {
	h := newHarness(t)
	h.begin(600, 1)
	h.check()
	rows := h.rows()
	// The tag as rsyslog writes it, and the 60 KiB and binary messages whole.
	var large, binary bool
	for _, r := range rows {
		if len(r["message"]) == journaltest.LargeMessageSize {
			large = true
		}
		if strings.ContainsRune(r["message"], 0) {
			binary = true
		}
		if r["tag"] == "" && r["transport"] != "kernel" && r["identifier"] != "" {
			t.Errorf("no tag: %v", r)
		}
	}
	if !large || !binary {
		t.Errorf("large message seen %v, binary message seen %v", large, binary)
	}
	if got := h.src.LinesRead.Load(); got != 600 {
		t.Errorf("lines_read %d", got)
	}
	if h.src.State() != StateReading {
		t.Errorf("state %q", h.src.State())
	}
}

func TestAppendRotateRestart(t *testing.T) {
	h := newHarness(t)
	h.begin(200, 2)

	// Appends while running arrive.
	h.write("system.journal", journaltest.Generate(150, 3))
	h.waitCount(350)

	// Rotation: the file is archived under journald's name, a new one
	// starts beside it.
	if _, err := journaltest.Archive(filepath.Join(h.dir, "system.journal")); err != nil {
		t.Fatal(err)
	}
	h.write("system.journal", journaltest.Generate(100, 4))
	h.waitCount(450)

	// Restart: entries written while stopped come once, nothing twice.
	h.stop()
	h.write("system.journal", journaltest.Generate(50, 5))
	h.start(Config{Since: Since{Kind: SinceAll}})
	h.waitCount(500)
	h.check()
	if g := h.src.Gaps.Load(); g != 0 {
		t.Errorf("gaps %d", g)
	}
}

// A vacuumed cursor: the file holding the last stored entry is deleted while
// the reader is stopped; it resumes at the oldest entry left and counts the
// gap.
func TestVacuumedCursor(t *testing.T) {
	h := newHarness(t)
	h.begin(100, 6)
	h.stop()

	old, err := journaltest.Archive(filepath.Join(h.dir, "system.journal"))
	if err != nil {
		t.Fatal(err)
	}
	h.write("system.journal", journaltest.Generate(40, 7))
	if err := os.Remove(old); err != nil {
		t.Fatal(err)
	}
	h.start(Config{Since: Since{Kind: SinceAll}})
	h.waitCount(140)
	if g := h.src.Gaps.Load(); g != 1 {
		t.Errorf("gaps %d, want 1", g)
	}
	want, err := journaltest.Read(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	rows := h.rows()[100:]
	for i := range want {
		if d := journalcheck.Diff(want[i], rows[i]); len(d) > 0 {
			t.Fatalf("entry %d after the gap differs: %v", i, d)
		}
	}
}

// Damaged files beside a good one are skipped: the good file's entries all
// arrive, nothing panics.
func TestDamagedFiles(t *testing.T) {
	h := newHarness(t)
	es := journaltest.Generate(120, 8)
	h.write("system.journal", es)
	good, err := os.ReadFile(filepath.Join(h.dir, "system.journal"))
	if err != nil {
		t.Fatal(err)
	}
	// A truncated copy, random bytes, and a copy with its middle overwritten.
	damaged := map[string][]byte{
		"truncated.journal": good[:len(good)/3],
		"random.journal":    []byte(strings.Repeat("\x8f\x00garbage\xff", 5000)),
		"header.journal":    append([]byte("LPKSHHRH"), make([]byte, 300)...),
	}
	mid := append([]byte(nil), good...)
	for i := len(mid) / 2; i < len(mid)/2+4096 && i < len(mid); i++ {
		mid[i] = byte(i * 7)
	}
	damaged["scribbled.journal"] = mid
	for name, b := range damaged {
		if err := os.WriteFile(filepath.Join(h.dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h.start(Config{Since: Since{Kind: SinceAll}})
	deadline := time.Now().Add(20 * time.Second)
	for h.st.Count() < 120 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	want, err := journaltest.Read(filepath.Join(h.dir, "system.journal"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range h.rows() {
		got[r["cursor"]] = true
	}
	for i, e := range want {
		if !got[string(e[journaltest.FieldCursor])] {
			t.Fatalf("entry %d of the good file missing", i)
		}
	}
	// truncated, random and header are counted; scribbled has a sound
	// header, and sd_journal reads what it can of it.
	if n := h.src.ParseErrors.Load(); n < 3 {
		t.Errorf("parse_errors %d, want >= 3 (one per damaged file)", n)
	}
	if h.src.State() != StateReading {
		t.Errorf("state %q", h.src.State())
	}
}

// --journal_since now reads only what comes later, a time what was logged
// from then on; an empty journal followed from now gets its first entries.
func TestSince(t *testing.T) {
	t.Run("now", func(t *testing.T) {
		h := newHarness(t)
		h.write("system.journal", journaltest.Generate(50, 51))
		h.start(Config{Since: Since{Kind: SinceNow}})
		time.Sleep(300 * time.Millisecond)
		h.write("system.journal", journaltest.Generate(30, 52))
		h.waitCount(30)
	})
	t.Run("now, empty journal", func(t *testing.T) {
		h := newHarness(t)
		h.start(Config{Since: Since{Kind: SinceNow}})
		time.Sleep(300 * time.Millisecond)
		h.write("system.journal", journaltest.Generate(20, 53))
		h.waitCount(20)
	})
	t.Run("time", func(t *testing.T) {
		h := newHarness(t)
		es := journaltest.Generate(100, 54)
		h.write("system.journal", es)
		us, err := strconv.ParseInt(string(es[60][journaltest.FieldRealtime]), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		h.start(Config{Since: Since{Kind: SinceTime, Time: time.UnixMicro(us)}})
		h.waitCount(40)
	})
}

// The default, boot: the first entry of this host's current boot on.
func TestSinceBoot(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		t.Skip(err)
	}
	boot := strings.ReplaceAll(strings.TrimSpace(string(b)), "-", "")
	h := newHarness(t)
	es := journaltest.Generate(100, 55)
	for i := 40; i < len(es); i++ {
		es[i][journaltest.FieldBootID] = []byte(boot)
	}
	h.write("system.journal", es)
	h.start(Config{})
	h.waitCount(60)
	for _, r := range h.rows() {
		if r["boot_id"] != boot {
			t.Fatalf("row of boot %s", r["boot_id"])
		}
	}
}

// The one truncation rule, through the real path: journal file, sd_journal,
// row mapping, writer, store.
func TestTruncation(t *testing.T) {
	needTools(t)
	eventsrctest.TestTruncation(t, func(t *testing.T, message string, max int) (string, bool) {
		h := newHarness(t)
		e := journaltest.Generate(1, 60)[0]
		e["MESSAGE"] = []byte(message)
		h.write("system.journal", []journaltest.Entry{e})
		h.start(Config{Since: Since{Kind: SinceAll}, MaxLine: max})
		h.waitCount(1)
		r := h.rows()[0]
		return r["message"], r["truncated"] == "1"
	})
}

// checkingSink checks that every transaction stores the cursor of its own
// last row: what a restart after kill -9 resumes from.
type checkingSink struct {
	*eventstore.Stream
	t      *testing.T
	cursor int // position of the cursor column
	mu     sync.Mutex
	txns   int
}

func (c *checkingSink) AppendState(events []eventstore.Event, state map[string]string) (int64, error) {
	if len(events) > 0 {
		last := events[len(events)-1].Values[c.cursor]
		var got []string
		for k, v := range state {
			if strings.HasPrefix(k, StateKeyPrefix) {
				got = append(got, v)
			}
		}
		if len(got) != 1 || got[0] != last {
			c.t.Errorf("transaction of %d rows stores cursor %q, its last row is %q", len(events), got, last)
		}
		c.mu.Lock()
		c.txns++
		c.mu.Unlock()
	}
	return c.Stream.AppendState(events, state)
}

func TestCursorWithEveryTransaction(t *testing.T) {
	h := newHarness(t)
	h.write("system.journal", journaltest.Generate(3000, 61))
	var sink *checkingSink
	h.wrap = func(st *eventstore.Stream) eventsrc.Sink {
		sink = &checkingSink{Stream: st, t: t, cursor: slices.IndexFunc(Schema().Columns, func(c eventstore.Column) bool { return c.Name == "cursor" })}
		return sink
	}
	// Reads and transactions of at most 500 entries: the writer commits
	// whatever prefix of a read has arrived, so transactions cut across
	// reads.
	h.start(Config{Since: Since{Kind: SinceAll}, BatchSize: 500})
	h.waitCount(3000)
	h.stop()
	if sink.txns < 6 {
		t.Errorf("3000 rows in %d transactions", sink.txns)
	}
}
