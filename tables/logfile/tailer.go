package logfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/stats"
)

// Config configures the tailer. Zero values mean the defaults below.
type Config struct {
	Paths          []string      // glob patterns (filepath.Match syntax); new matches are picked up
	MaxLine        int           // longest line kept whole, in bytes (DefaultMaxLine)
	PollInterval   time.Duration // how often files are checked without inotify (DefaultPollInterval)
	MaxOpen        int           // most file handles held at once (DefaultMaxOpen)
	RotateWait     time.Duration // how long a rotated or deleted file is kept open after it stopped growing (DefaultRotateWait; negative: not at all)
	BatchSize      int           // most lines per Append (DefaultBatchSize)
	NoInotify      bool          // poll only, even where inotify exists
	RescanInterval time.Duration // with inotify, how often every pattern is scanned anyway (DefaultRescanInterval)
	ExpireInterval time.Duration // how often the store's age and count limits are applied (DefaultExpireInterval)
}

// Defaults of Config.
const (
	DefaultMaxLine        = 64 << 10
	DefaultPollInterval   = time.Second
	DefaultMaxOpen        = 256
	DefaultRotateWait     = 5 * time.Second
	DefaultBatchSize      = 5000
	DefaultRescanInterval = 30 * time.Second
	DefaultExpireInterval = 60 * time.Second
)

// minReadBuf is the smallest read buffer; it is also at least MaxLine+2 so
// that a too-long line is always recognised within one read.
const minReadBuf = 256 << 10

func (c Config) withDefaults() Config {
	if c.MaxLine <= 0 {
		c.MaxLine = DefaultMaxLine
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.MaxOpen <= 0 {
		c.MaxOpen = DefaultMaxOpen
	}
	if c.RotateWait == 0 {
		c.RotateWait = DefaultRotateWait
	} else if c.RotateWait < 0 {
		c.RotateWait = 0 // finish a rotated file as soon as it is read to its end
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.RescanInterval <= 0 {
		c.RescanInterval = DefaultRescanInterval
	}
	if c.ExpireInterval <= 0 {
		c.ExpireInterval = DefaultExpireInterval
	}
	return c
}

// Sink is where the tailer puts lines and positions; *eventstore.Stream is
// one.
type Sink interface {
	AppendState(events []eventstore.Event, state map[string]string) (expired int64, err error)
	Expire(now time.Time) (int64, error)
	Count() int64
}

// StateReader reads the positions saved by an earlier run;
// *eventstore.Store is one.
type StateReader interface {
	States(prefix string) (map[string]string, error)
}

// StateKeyPrefix prefixes the event-store state keys of saved positions.
const StateKeyPrefix = "logfile/"

// position is a follower's persisted state: which file generation, how far
// it has been turned into rows, and the signatures that prove it on resume.
type position struct {
	Path     string `json:"path"`
	Dev      uint64 `json:"dev"`
	Ino      uint64 `json:"ino"`
	Birth    int64  `json:"birth,omitempty"`
	HeadLen  int64  `json:"head_len"`
	Head     uint64 `json:"head"`
	Offset   int64  `json:"offset"`
	Line     int64  `json:"line"`
	Marker   uint64 `json:"marker"`
	Skipping bool   `json:"skipping,omitempty"`
	Current  bool   `json:"current"` // the path names this file (false: rotated away, draining)
	Seq      int64  `json:"seq"`     // when it was first followed (unix ns): orders generations of a path
}

func (p position) key() string {
	return StateKeyPrefix + strconv.FormatUint(p.Dev, 10) + ":" + strconv.FormatUint(p.Ino, 10) + "/" + p.Path
}

func (p position) id() fileID { return fileID{Dev: p.Dev, Ino: p.Ino, Birth: p.Birth} }

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

// Tailer follows the files matched by Config.Paths into a Sink. Step and
// Close must not be called concurrently; Run calls Step itself.
type Tailer struct {
	cfg    Config
	sink   Sink
	states StateReader
	src    *stats.Source
	log    *slog.Logger
	now    func() time.Time
	cur    map[string]*follower // by path: the generation the path names
	old    []*follower          // rotated or deleted generations, draining
	saved  map[string][]position
	buf    []byte
	hbuf   []byte

	pending    []eventstore.Event
	nowUnix    int64
	chunk      string // the current read as a string
	slab       []any  // values of the next events
	tombstones map[string]string
	lastErr    map[string]string // last error logged per path
	lastExpire time.Time
}

// New returns a tailer that resumes from the positions states holds.
func New(cfg Config, sink Sink, states StateReader, src *stats.Source, log *slog.Logger) (*Tailer, error) {
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

// statePruner is implemented by *eventstore.Store.
type statePruner interface {
	PruneStates(prefix string) (int64, error)
}

// prune deletes the positions of finished generations (stored as "" with
// their last rows), so the state does not grow with every file ever seen.
func (t *Tailer) prune() {
	if p, ok := t.states.(statePruner); ok {
		if _, err := p.PruneStates(StateKeyPrefix); err != nil {
			t.log.Warn("pruning finished log file positions", "err", err)
		}
	}
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
	if err == nil {
		err = t.flush()
	}
	return err
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
	if err := t.flush(); err != nil {
		return err
	}
	t.boundOpen()
	return nil
}

// visit checks one path: new file, rotation, truncation or growth.
func (t *Tailer) visit(path string) error {
	f := t.cur[path]
	id, err := statPathNoBirth(path)
	if err == nil {
		if f != nil && f.f != nil && f.pos.id().sameInode(id) {
			// We hold this inode open, so it cannot have been freed and
			// reused: it is still our file.
			id.Birth = f.pos.Birth
		} else {
			id.Birth = birthTime(path)
		}
	}
	if err != nil {
		if f != nil && errors.Is(err, fs.ErrNotExist) {
			// Deleted (or renamed away) and not recreated yet: keep
			// draining the open file.
			return t.retire(f)
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errNotRegular) {
			t.fail("stat", path, err)
		}
		return nil
	}
	if f == nil {
		return t.open(path, id)
	}
	if !f.pos.id().sameFile(id) {
		// Rename rotation or delete + recreate: the path names another
		// file. Drain the old one to its end first, so every line of the
		// old generation is stored before any line of the new one.
		t.src.Rotations.Add(1)
		t.log.Info("log file rotated", "path", path, "old_inode", f.pos.Ino, "new_inode", id.Ino)
		if err := t.retire(f); err != nil {
			return err
		}
		return t.open(path, id)
	}
	if id.Size == f.last.Size && id.MtimeNS == f.last.MtimeNS {
		return nil // idle
	}
	if f.f == nil {
		fd, fid, err := openID(path)
		if err != nil {
			t.fail("open", path, err)
			return nil
		}
		if !f.pos.id().sameInode(fid) {
			fd.Close()
			return nil // replaced between stat and open: the next step sees the rotation
		}
		f.f = fd
	}
	return t.read(f, id)
}

// read takes the new complete lines of f, after checking that the bytes
// before its position are still the ones it read.
//
// copytruncate: the writer keeps its file and logrotate copies it then
// truncates it to 0. A size below our position means exactly that: the new
// generation starts at 0. When the file has already grown past our position
// again, the size does not tell, but the marker (hash of the 64 bytes before
// the position) no longer matches: same answer. Inherent window: lines
// written between our last read and the truncation exist only in the copy
// and are not read (every copytruncate tailer has this window; rename
// rotation has none).
func (t *Tailer) read(f *follower, id fileID) error {
	if id.Size < f.pos.Offset || !t.markerOK(f) {
		t.src.Rotations.Add(1)
		t.log.Info("log file truncated; reading it from the start", "path", f.pos.Path, "size", id.Size, "offset", f.pos.Offset)
		t.restart(f, id)
	}
	f.last = id
	return t.readLines(f)
}

func (t *Tailer) markerOK(f *follower) bool {
	if f.pos.Offset == 0 {
		return true
	}
	n := min(int64(markerLen), f.pos.Offset)
	h, ok := hashRange(f.f, f.pos.Offset-n, n, t.hbuf)
	return ok && h == f.pos.Marker
}

// restart begins a new generation of the same file at offset 0.
func (t *Tailer) restart(f *follower, id fileID) {
	f.pos = position{Path: f.pos.Path, Dev: id.Dev, Ino: id.Ino, Birth: f.pos.Birth, Current: f.pos.Current, Seq: f.pos.Seq}
	f.sp.skipping = false
	f.dirty = true
}

// readLines reads f from its position to the end of the file, taking every
// complete line.
func (t *Tailer) readLines(f *follower) error {
	for {
		n, err := f.f.ReadAt(t.buf, f.pos.Offset)
		if err != nil && !errors.Is(err, io.EOF) {
			t.fail("read", f.pos.Path, err)
			return nil
		}
		if n == 0 {
			return nil
		}
		f.active = t.now()
		t.nowUnix = f.active.Unix()
		data := t.buf[:n]
		// One string per read: the messages are substrings of it.
		t.chunk = ""
		done := 0
		for {
			l, start, c, ok := f.sp.next(data[done:])
			if ok {
				if t.chunk == "" {
					t.chunk = string(data)
				}
				from := done + start
				t.emitText(f, t.chunk[from:from+len(l.text)], l.truncated, f.pos.Offset+int64(from))
			}
			done += c
			if !ok {
				break
			}
		}
		if done > 0 {
			f.pos.Offset += int64(done)
			f.pos.Skipping = f.sp.skipping
			f.dirty = true
			t.src.BytesRead.Add(int64(done))
		}
		if len(t.pending) >= t.cfg.BatchSize {
			if err := t.flush(); err != nil {
				return err
			}
		}
		if n < len(t.buf) || done == 0 {
			return nil
		}
	}
}

// emit queues one line of f as an event.
func (t *Tailer) emit(f *follower, l line, off int64) {
	t.emitText(f, string(l.text), l.truncated, off)
}

// valuesSlab is how many events' values are allocated at once.
const valuesSlab = 256

func (t *Tailer) emitText(f *follower, text string, truncated bool, off int64) {
	f.pos.Line++
	var trunc int64
	if truncated {
		trunc = 1
		t.src.TruncatedLines.Add(1)
	}
	t.src.LinesRead.Add(1)
	if f.pathAny == nil || f.inoAny == nil {
		f.pathAny, f.inoAny = f.pos.Path, int64(f.pos.Ino)
	}
	if len(t.slab) < numColumns {
		t.slab = make([]any, numColumns*valuesSlab)
	}
	v := t.slab[:numColumns:numColumns]
	t.slab = t.slab[numColumns:]
	v[colPath], v[colLine], v[colMessage], v[colOffset], v[colInode], v[colTruncated] = f.pathAny, f.pos.Line, text, off, f.inoAny, trunc
	t.pending = append(t.pending, eventstore.Event{Time: t.nowUnix, Values: v})
}

// open starts following the file at path: resumed from a saved position
// that still proves itself, else from its start. Saved generations of the
// path that were rotated away while we were down are found again and
// drained first.
func (t *Tailer) open(path string, id fileID) error {
	fd, fid, err := openID(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			t.fail("open", path, err)
		}
		return nil
	}
	fid.Birth = id.Birth
	if !fid.sameInode(id) {
		fid.Birth = birthTime(path)
	}
	f := &follower{
		pos:    position{Path: path, Dev: fid.Dev, Ino: fid.Ino, Birth: fid.Birth, Current: true, Seq: time.Now().UnixNano()},
		f:      fd,
		sp:     splitter{max: t.cfg.MaxLine},
		dirty:  true,
		active: t.now(),
	}
	f.committed = f.pos // if the first store fails, start over from here
	saved := t.saved[path]
	delete(t.saved, path)
	// Older generations first: they are drained before the file at the path.
	sort.Slice(saved, func(i, j int) bool { return saved[i].Seq < saved[j].Seq })
	for _, p := range saved {
		if p.id().sameFile(fid) {
			if t.verify(fd, fid, p) {
				p.Current = true
				f.pos = p
				f.committed = p
				f.sp.skipping = p.Skipping
				f.dirty = false
				t.log.Info("resuming log file", "path", path, "offset", p.Offset, "line", p.Line)
				continue
			}
			t.log.Info("saved position does not match the file any more (truncated or inode reused); reading it from the start", "path", path)
			t.tombstones[p.key()] = ""
			continue
		}
		if p.Current {
			t.src.Rotations.Add(1) // rotated or replaced while we were down
		}
		if err := t.recover(p); err != nil {
			fd.Close()
			return err
		}
	}
	t.cur[path] = f
	return t.read(f, fid)
}

// recover finds a saved generation that is no longer at its path (rotated
// while we were down, or while its handle was closed) in the same directory
// and drains it from the saved position.
func (t *Tailer) recover(p position) error {
	t.tombstones[p.key()] = ""
	fd, fid := t.findInode(p)
	if fd == nil {
		t.log.Warn("saved log file generation not found; its unread lines are lost", "path", p.Path, "inode", p.Ino, "offset", p.Offset)
		return nil
	}
	delete(t.tombstones, p.key())
	p.Current = false
	f := &follower{pos: p, committed: p, f: fd, sp: splitter{max: t.cfg.MaxLine, skipping: p.Skipping}, active: t.now(), retired: true}
	f.pos.Current = false
	f.dirty = true
	t.old = append(t.old, f)
	t.log.Info("draining rotated log file", "path", p.Path, "inode", p.Ino, "offset", p.Offset)
	if err := t.read(f, fid); err != nil {
		return err
	}
	return t.finishIfQuiet(f)
}

// findInode looks for the file of p in p.Path's directory.
func (t *Tailer) findInode(p position) (*os.File, fileID) {
	dir := filepath.Dir(p.Path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fileID{}
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		id, ok := idOf(fi)
		if !ok || !id.sameInode(p.id()) {
			continue
		}
		name := filepath.Join(dir, e.Name())
		id.Birth = birthTime(name)
		if !id.sameFile(p.id()) {
			return nil, fileID{}
		}
		fd, fid, err := openID(name)
		if err != nil || !fid.sameInode(id) {
			if fd != nil {
				fd.Close()
			}
			return nil, fileID{}
		}
		fid.Birth = id.Birth
		if !t.verify(fd, fid, p) {
			fd.Close()
			return nil, fileID{}
		}
		return fd, fid
	}
	return nil, fileID{}
}

// verify says whether the saved position p is still valid in the open file:
// long enough, same head, same bytes before the position.
func (t *Tailer) verify(fd *os.File, id fileID, p position) bool {
	if id.Size < p.Offset || id.Size < p.HeadLen {
		return false
	}
	if p.HeadLen > 0 {
		if h, ok := hashRange(fd, 0, p.HeadLen, t.hbuf); !ok || h != p.Head {
			return false
		}
	}
	if p.Offset > 0 {
		n := min(int64(markerLen), p.Offset)
		if h, ok := hashRange(fd, p.Offset-n, n, t.hbuf); !ok || h != p.Marker {
			return false
		}
	}
	return true
}

// retire moves f off its path: it is drained (now and at every step) until
// it has not grown for RotateWait, then its unfinished last line, if any, is
// stored and it is closed.
func (t *Tailer) retire(f *follower) error {
	delete(t.cur, f.pos.Path)
	if f.f == nil {
		// Closed to respect MaxOpen: find the file again by inode.
		fd, fid := t.findInode(f.pos)
		if fd == nil {
			t.log.Warn("rotated log file not found; its unread lines are lost", "path", f.pos.Path, "inode", f.pos.Ino)
			t.tombstones[f.pos.key()] = ""
			return nil
		}
		f.f = fd
		f.last = fid
	}
	f.retired = true
	f.pos.Current = false
	f.dirty = true
	f.active = t.now()
	t.old = append(t.old, f)
	id, err := statFile(f.f)
	if err != nil {
		t.fail("stat", f.pos.Path, err)
		return nil
	}
	if err := t.read(f, id); err != nil {
		return err
	}
	return t.finishIfQuiet(f)
}

// drainOld reads the retired generations and finishes those that have been
// quiet for RotateWait.
func (t *Tailer) drainOld() error {
	for _, f := range slices.Clone(t.old) {
		if f.finished {
			continue
		}
		id, err := statFile(f.f)
		if err != nil {
			t.fail("stat", f.pos.Path, err)
			continue
		}
		if id.Size != f.last.Size || id.MtimeNS != f.last.MtimeNS {
			if err := t.read(f, id); err != nil {
				return err
			}
		}
		if err := t.finishIfQuiet(f); err != nil {
			return err
		}
	}
	return nil
}

// finishIfQuiet ends a retired generation that has not grown for
// RotateWait: its unfinished last line is stored as a line (no writer will
// finish it), its position removed, its file closed.
func (t *Tailer) finishIfQuiet(f *follower) error {
	if t.now().Sub(f.active) < t.cfg.RotateWait {
		return nil
	}
	n, err := f.f.ReadAt(t.buf, f.pos.Offset)
	if err != nil && !errors.Is(err, io.EOF) {
		t.fail("read", f.pos.Path, err)
	}
	if l, c, ok := f.sp.flush(t.buf[:n]); c > 0 {
		t.nowUnix = t.now().Unix()
		if ok {
			t.emit(f, l, f.pos.Offset)
		}
		f.pos.Offset += int64(c)
		t.src.BytesRead.Add(int64(c))
	}
	f.finished = true
	f.dirty = true
	return nil
}

// flush stores the pending lines and the positions after them in one
// transaction. On failure every position goes back to what is stored, so the
// lines are read again.
func (t *Tailer) flush() error {
	state := map[string]string{}
	var dirty []*follower
	for _, f := range t.followers() {
		if !f.dirty {
			continue
		}
		dirty = append(dirty, f)
		if f.finished {
			state[f.pos.key()] = "" // done: forget the position
			continue
		}
		t.sign(f)
		b, _ := json.Marshal(f.pos)
		state[f.pos.key()] = string(b)
	}
	for k, v := range t.tombstones {
		if _, ok := state[k]; !ok {
			state[k] = v
		}
	}
	if len(t.pending) == 0 && len(state) == 0 {
		return nil
	}
	expired, err := t.sink.AppendState(t.pending, state)
	if err != nil {
		for _, f := range dirty {
			f.pos = f.committed
			f.pos.Current = !f.retired
			f.sp.skipping = f.pos.Skipping
			f.last = fileID{}
			f.finished = false
		}
		t.pending = t.pending[:0]
		t.fail("store", "", err)
		return fmt.Errorf("storing log lines: %w", err)
	}
	for _, f := range dirty {
		f.committed = f.pos
		f.dirty = false
		if f.finished {
			f.close()
		}
	}
	t.old = slices.DeleteFunc(t.old, func(g *follower) bool { return g.finished })
	clear(t.tombstones)
	clear(t.pending) // drop references to the messages
	t.pending = t.pending[:0]
	t.src.RowsExpired.Add(expired)
	t.src.RowsBuffered.Store(t.sink.Count())
	return nil
}

// sign refreshes the head signature and the marker of f's position.
func (t *Tailer) sign(f *follower) {
	if f.f == nil {
		return
	}
	if f.pos.HeadLen < headMax && f.pos.Offset > f.pos.HeadLen {
		n := min(int64(headMax), f.pos.Offset)
		if h, ok := hashRange(f.f, 0, n, t.hbuf); ok {
			f.pos.Head, f.pos.HeadLen = h, n
		}
	}
	if f.pos.Offset > 0 {
		n := min(int64(markerLen), f.pos.Offset)
		if h, ok := hashRange(f.f, f.pos.Offset-n, n, t.hbuf); ok {
			f.pos.Marker = h
		}
	} else {
		f.pos.Marker = 0
	}
}

func (t *Tailer) followers() []*follower {
	out := make([]*follower, 0, len(t.cur)+len(t.old))
	out = append(out, t.old...)
	for _, f := range t.cur {
		out = append(out, f)
	}
	return out
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

// ParsePaths splits the comma-separated --logfile_paths value.
func ParsePaths(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
