package logfile

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// watchMask is what a directory watch reports: a child written, created,
// moved in or out, deleted, or changed (truncate shows as IN_MODIFY).
const watchMask = unix.IN_MODIFY | unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM |
	unix.IN_MOVED_TO | unix.IN_ATTRIB | unix.IN_CLOSE_WRITE | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF

// watcher watches the directories of the patterns with one inotify
// instance (one watch per directory, not per file: 1,000 files in one
// directory cost one watch) and collects the paths that changed.
type watcher struct {
	file *os.File
	fd   int

	mu       sync.Mutex
	wds      map[int]string  // watch descriptor -> directory
	want     map[string]bool // directories to watch -> watched
	wild     bool            // a pattern has a wildcard in its directory part
	changed  map[string]bool
	overflow bool
	ready    chan struct{}
	done     chan struct{}
}

func newWatcher(patterns []string) (*watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, err
	}
	w := &watcher{
		file:    os.NewFile(uintptr(fd), "inotify"),
		fd:      fd,
		wds:     map[int]string{},
		want:    map[string]bool{},
		changed: map[string]bool{},
		ready:   make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	for _, p := range patterns {
		dir := filepath.Dir(p)
		if strings.ContainsAny(dir, `*?[\`) {
			w.wild = true
			continue
		}
		w.want[dir] = false
	}
	w.addMissing()
	go w.loop()
	return w, nil
}

// addMissing adds the watches not in place yet (a directory created later).
func (w *watcher) addMissing() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for dir, ok := range w.want {
		if ok {
			continue
		}
		wd, err := unix.InotifyAddWatch(w.fd, dir, watchMask)
		if err != nil {
			continue
		}
		w.wds[wd] = dir
		w.want[dir] = true
	}
}

// partial says whether some pattern is not covered by a watch, so that
// polling must go on.
func (w *watcher) partial() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.wild {
		return true
	}
	for _, ok := range w.want {
		if !ok {
			return true
		}
	}
	return false
}

// take returns the paths changed since the last call, and whether events
// were lost (then everything must be scanned).
func (w *watcher) take() ([]string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.changed))
	for p := range w.changed {
		out = append(out, p)
	}
	clear(w.changed)
	o := w.overflow
	w.overflow = false
	return out, o
}

func (w *watcher) close() {
	w.file.Close()
	<-w.done
}

func (w *watcher) loop() {
	defer close(w.done)
	buf := make([]byte, 64<<10)
	for {
		n, err := w.file.Read(buf)
		if err != nil {
			return
		}
		w.mu.Lock()
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := ""
			if ev.Len > 0 {
				b := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
				if i := strings.IndexByte(string(b), 0); i >= 0 {
					b = b[:i]
				}
				name = string(b)
			}
			off += unix.SizeofInotifyEvent + int(ev.Len)
			if ev.Mask&unix.IN_Q_OVERFLOW != 0 {
				w.overflow = true
				continue
			}
			dir, ok := w.wds[int(ev.Wd)]
			if !ok {
				continue
			}
			if ev.Mask&(unix.IN_IGNORED|unix.IN_DELETE_SELF|unix.IN_MOVE_SELF) != 0 {
				// The directory itself went away: watch it again when it
				// comes back; rescan meanwhile.
				delete(w.wds, int(ev.Wd))
				w.want[dir] = false
				w.overflow = true
				continue
			}
			if name != "" {
				w.changed[filepath.Join(dir, name)] = true
			}
		}
		w.mu.Unlock()
		select {
		case w.ready <- struct{}{}:
		default:
		}
	}
}
