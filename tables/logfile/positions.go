package logfile

import (
	"os"
	"strconv"
)

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

// sign refreshes the head signature of f's position.
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
}

// remark recomputes the marker of f's position from the file. The marker
// always describes the current offset: read checks it before every read, so
// a stale one would look like a truncation.
func (t *Tailer) remark(f *follower) {
	if f.pos.Offset == 0 {
		f.pos.Marker = 0
		return
	}
	n := min(int64(markerLen), f.pos.Offset)
	if h, ok := hashRange(f.f, f.pos.Offset-n, n, t.hbuf); ok {
		f.pos.Marker = h
	}
}
