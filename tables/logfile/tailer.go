package logfile

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/osquery-syslog/osquery-syslog/stats"
	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc"
)

// follower reads one file generation.
type follower struct {
	pos       position // advanced as lines are taken
	committed position // as last stored
	f         *os.File // nil while closed to respect MaxOpen
	last      fileID   // size and mtime when last read
	sp        splitter
	dirty     bool      // pos differs from what is stored
	active    time.Time // last time it had new data
	retired   bool      // rotated away or deleted: draining
	finished  bool      // retired and read to its end; closed once stored
	pathAny   any       // the path and inode as row values, boxed once
	inoAny    any
}

// Tailer follows the files matched by Config.Paths into an eventsrc.Sink. Step and
// Close must not be called concurrently; Run calls Step itself.
type Tailer struct {
	cfg    Config
	sink   eventsrc.Sink
	states StateReader
	src    *stats.Source
	log    *slog.Logger
	now    func() time.Time
	cur    map[string]*follower // by path: the generation the path names
	old    []*follower          // rotated or deleted generations, draining
	saved  map[string][]position
	buf    []byte
	hbuf   []byte

	batch      *eventsrc.Batch // lines read and not yet stored
	nowUnix    int64
	chunk      string // the current read as a string
	tombstones map[string]string
	lastErr    map[string]string // last error logged per path
	lastExpire time.Time
}

// New returns a tailer that resumes from the positions states holds.
func New(cfg Config, sink eventsrc.Sink, states StateReader, src *stats.Source, log *slog.Logger) (*Tailer, error) {
	cfg = cfg.withDefaults()
	for _, p := range cfg.Paths {
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, fmt.Errorf("pattern %q: %w", p, err)
		}
	}
	if log == nil {
		log = slog.Default()
	}
	if src == nil {
		src = stats.NewRegistry().Source("logfile")
	}
	t := &Tailer{
		cfg: cfg, sink: sink, states: states, src: src, log: log, now: time.Now,
		batch:      eventsrc.NewBatch(sink, numColumns, src),
		cur:        map[string]*follower{},
		saved:      map[string][]position{},
		buf:        make([]byte, max(minReadBuf, cfg.MaxLine+2)),
		hbuf:       make([]byte, headMax),
		tombstones: map[string]string{},
		lastErr:    map[string]string{},
	}
	if states != nil {
		m, err := states.States(StateKeyPrefix)
		if err != nil {
			return nil, fmt.Errorf("reading saved positions: %w", err)
		}
		for k, v := range m {
			if v == "" {
				continue
			}
			var p position
			if err := json.Unmarshal([]byte(v), &p); err != nil {
				log.Warn("ignoring unreadable saved position", "key", k, "err", err)
				continue
			}
			t.saved[p.Path] = append(t.saved[p.Path], p)
		}
	}
	t.prune()
	t.lastExpire = t.now()
	return t, nil
}

// Close closes every file. Positions are already stored with their rows.
func (t *Tailer) Close() error {
	for _, f := range t.cur {
		f.close()
	}
	for _, f := range t.old {
		f.close()
	}
	return nil
}

func (f *follower) close() {
	if f.f != nil {
		f.f.Close()
		f.f = nil
	}
}

// match returns the paths the patterns match now, sorted.
func (t *Tailer) match() []string {
	seen := map[string]bool{}
	for _, p := range t.cfg.Paths {
		m, err := filepath.Glob(p)
		if err != nil {
			continue
		}
		for _, path := range m {
			seen[path] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func (t *Tailer) matches(path string) bool {
	for _, p := range t.cfg.Paths {
		if ok, _ := filepath.Match(p, path); ok {
			return true
		}
	}
	return false
}

// Step checks every matched and followed file once, stores the complete
// lines found and the positions after them, and returns the store's error,
// if any (the lines are then read again by the next step).
func (t *Tailer) Step() error {
	paths := t.match()
	for p := range t.cur {
		if _, found := slices.BinarySearch(paths, p); !found {
			paths = append(paths, p) // no longer matched: see whether it went away
		}
	}
	err := t.step(paths)
	if err != nil {
		return err
	}
	// Saved positions of paths that match nothing any more: their files
	// may survive under another name (rotated while we were down).
	for path, list := range t.saved {
		sort.Slice(list, func(i, j int) bool { return list[i].Seq < list[j].Seq })
		for _, p := range list {
			if err != nil {
				break
			}
			if id, serr := statPath(p.Path); serr == nil && p.Current && p.id().sameFile(id) {
				// Still there but no longer matched (--logfile_paths
				// changed): stop following it.
				t.tombstones[p.key()] = ""
				continue
			}
			err = t.recover(p)
		}
		delete(t.saved, path)
	}
	if err != nil {
		return err
	}
	t.finishQuiet()
	return t.flush()
}

// stepPaths is Step for the given paths only (inotify named them).
func (t *Tailer) stepPaths(paths []string) error {
	var want []string
	for _, p := range paths {
		if _, ok := t.cur[p]; ok || t.matches(p) {
			want = append(want, p)
		}
	}
	sort.Strings(want)
	return t.step(want)
}

func (t *Tailer) step(paths []string) error {
	if err := t.drainOld(); err != nil {
		return err
	}
	for _, p := range paths {
		if err := t.visit(p); err != nil {
			return err
		}
	}
	t.finishQuiet()
	if err := t.flush(); err != nil {
		return err
	}
	t.boundOpen()
	return nil
}

// boundOpen closes the handles of the least recently active followed files
// beyond MaxOpen (retired generations keep theirs: they are few and short
// lived; so do files with an unfinished last line). A file deleted while its
// handle is closed loses the lines it got after its last read: the price of
// the bound (raise --logfile_max_open to avoid it). A closed file is reopened by path when it changes; if it was
// rotated meanwhile, it is found again by inode in its directory.
func (t *Tailer) boundOpen() {
	open := len(t.old)
	var list []*follower
	for _, f := range t.cur {
		if f.f != nil {
			open++
			list = append(list, f)
		}
	}
	if open <= t.cfg.MaxOpen {
		return
	}
	sort.Slice(list, func(i, j int) bool { return list[i].active.Before(list[j].active) })
	for _, f := range list {
		if open <= t.cfg.MaxOpen {
			break
		}
		if f.dirty || f.last.Size > f.pos.Offset {
			// Unstored, or an unfinished line waits: if this file were
			// deleted now, only the handle could still read it.
			continue
		}
		f.close()
		open--
	}
}

// fail counts and records an error. A file that keeps failing the same way
// (no permission to read it) is logged once, not at every step.
func (t *Tailer) fail(op, path string, err error) {
	t.src.Errors.Add(1)
	t.src.SetError(fmt.Errorf("%s %s: %w", op, path, err))
	msg := op + ": " + err.Error()
	if path != "" && t.lastErr[path] == msg {
		return
	}
	if path != "" {
		if len(t.lastErr) > 4*t.cfg.MaxOpen {
			clear(t.lastErr)
		}
		t.lastErr[path] = msg
	}
	t.log.Warn("log file error", "op", op, "path", path, "err", err)
}

// openID opens path and stats the open file.
func openID(path string) (*os.File, fileID, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, fileID{}, err
	}
	id, err := statFile(fd)
	if err != nil {
		fd.Close()
		return nil, fileID{}, err
	}
	return fd, id, nil
}
