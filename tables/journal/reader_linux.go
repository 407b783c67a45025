//go:build linux && cgo

package journal

/*
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "sdjournal_linux.h"
*/
import "C"

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// libsystemd is the library the journal is read through (tests change it to
// see a host without it).
var libsystemd = "libsystemd.so.0"

var (
	loadMu sync.Mutex
	loaded bool
)

// load opens libsystemd, once per process when it works.
func load() error {
	loadMu.Lock()
	defer loadMu.Unlock()
	if loaded {
		return nil
	}
	lib := C.CString(libsystemd)
	defer C.free(unsafe.Pointer(lib))
	var msg [512]C.char
	if C.jr_load(lib, &msg[0], C.size_t(len(msg))) != 0 {
		return fmt.Errorf("%w: loading libsystemd: %s", ErrUnavailable, C.GoString(&msg[0]))
	}
	loaded = true
	return nil
}

// reader is an open sd_journal. It is not safe for concurrent use.
type reader struct {
	j       *C.sd_journal
	buf     []byte
	pending bool // positioned on an entry that read has not returned yet
}

// initialBuf fits a few hundred typical entries; it grows for large ones.
const initialBuf = 1 << 20

func errno(r C.int) error { return syscall.Errno(-r) }

// openReader opens the system journal (path ""), a directory of journal
// files, or one journal file.
func openReader(path string) (*reader, error) {
	if err := load(); err != nil {
		return nil, err
	}
	var cpath *C.char
	dir := C.int(0)
	if path != "" {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("opening journal: %w", err)
		}
		if fi.IsDir() {
			dir = 1
		}
		cpath = C.CString(path)
		defer C.free(unsafe.Pointer(cpath))
	}
	r := &reader{buf: make([]byte, initialBuf)}
	if rc := C.jr_open(&r.j, cpath, dir); rc < 0 {
		return nil, fmt.Errorf("opening journal %q: %w", path, errno(rc))
	}
	return r, nil
}

func (r *reader) close() {
	if r.j != nil {
		C.jr_close(r.j)
		r.j = nil
	}
}

// addMatch adds a FIELD=value match; addDisjunction ORs the matches added
// so far with those that follow (sd_journal_add_match semantics).
func (r *reader) addMatch(m string) error {
	cs := C.CString(m)
	defer C.free(unsafe.Pointer(cs))
	if rc := C.jr_add_match(r.j, unsafe.Pointer(cs), C.size_t(len(m))); rc < 0 {
		return fmt.Errorf("adding match %q: %w", m, errno(rc))
	}
	return nil
}

func (r *reader) addDisjunction() error {
	if rc := C.jr_add_disjunction(r.j); rc < 0 {
		return fmt.Errorf("adding disjunction: %w", errno(rc))
	}
	return nil
}

func (r *reader) seekHead() error {
	r.pending = false
	if rc := C.jr_seek_head(r.j); rc < 0 {
		return fmt.Errorf("seeking to the head: %w", errno(rc))
	}
	return nil
}

func (r *reader) seekTail() error {
	r.pending = false
	if rc := C.jr_seek_tail(r.j); rc < 0 {
		return fmt.Errorf("seeking to the tail: %w", errno(rc))
	}
	// Step back onto the last entry so that reading continues after it.
	rc := C.jr_previous(r.j)
	if rc < 0 {
		return fmt.Errorf("seeking to the tail: %w", errno(rc))
	}
	if rc == 0 {
		// No entry yet: everything that comes is new. From the tail
		// location sd_journal could skip the first entries of a file
		// that appears later.
		return r.seekHead()
	}
	return nil
}

func (r *reader) seekTime(t time.Time) error {
	r.pending = false
	if rc := C.jr_seek_realtime(r.j, C.uint64_t(t.UnixMicro())); rc < 0 {
		return fmt.Errorf("seeking to %s: %w", t.Format(time.RFC3339), errno(rc))
	}
	return nil
}

// seekBoot positions the reader on the first entry of boot id, and reports
// false (position undefined) when the journal holds none.
func (r *reader) seekBoot(id [16]byte) (bool, error) {
	r.pending = false
	if rc := C.jr_seek_boot(r.j, (*C.uint8_t)(unsafe.Pointer(&id[0]))); rc < 0 {
		return false, fmt.Errorf("seeking to boot: %w", errno(rc))
	}
	rc := C.jr_next(r.j)
	if rc < 0 {
		return false, fmt.Errorf("seeking to boot: %w", errno(rc))
	}
	if rc == 0 {
		return false, nil
	}
	var got [16]byte
	if rc := C.jr_entry_boot(r.j, (*C.uint8_t)(unsafe.Pointer(&got[0]))); rc < 0 {
		return false, fmt.Errorf("seeking to boot: %w", errno(rc))
	}
	if got != id {
		return false, nil
	}
	r.pending = true
	return true, nil
}

// seekAfter positions the reader just after the entry of cursor. It reports
// false when that entry no longer exists (vacuumed, or rotated away): the
// reader then stands before the closest later entry still there.
func (r *reader) seekAfter(cursor string) (bool, error) {
	r.pending = false
	cs := C.CString(cursor)
	defer C.free(unsafe.Pointer(cs))
	if rc := C.jr_seek_cursor(r.j, cs); rc < 0 {
		return false, fmt.Errorf("seeking to the stored cursor: %w", errno(rc))
	}
	rc := C.jr_next(r.j)
	if rc < 0 {
		return false, fmt.Errorf("seeking to the stored cursor: %w", errno(rc))
	}
	if rc > 0 {
		if C.jr_test_cursor(r.j, cs) > 0 {
			return true, nil
		}
		r.pending = true
		return false, nil
	}
	// Nothing at or after the cursor's time: the cursor's entry is gone
	// unless it is the last one.
	if rc := C.jr_seek_tail(r.j); rc < 0 {
		return false, fmt.Errorf("seeking to the tail: %w", errno(rc))
	}
	if rc := C.jr_previous(r.j); rc <= 0 {
		// An empty journal: read from its start.
		return false, r.seekHead()
	}
	return C.jr_test_cursor(r.j, cs) > 0, nil
}

// read returns up to max entries after the current position.
func (r *reader) read(limit int) (batch, error) {
	var res C.jr_result
	for {
		pending := C.int(0)
		if r.pending {
			pending = 1
		}
		C.jr_read(r.j, (*C.uint8_t)(unsafe.Pointer(&r.buf[0])), C.size_t(len(r.buf)), C.int(limit), pending, &res)
		r.pending = res.pending != 0
		if res.entries == 0 && r.pending {
			// One entry larger than the buffer: grow and read it again.
			r.buf = make([]byte, max(int(res.need), 2*len(r.buf)))
			continue
		}
		break
	}
	b := batch{data: r.buf[:res.used], count: int(res.entries), atEnd: res.at_end != 0, skipped: int(res.skipped)}
	if res.err < 0 {
		return b, fmt.Errorf("reading journal: %w", errno(res.err))
	}
	return b, nil
}

// wait blocks until the journal changes or d passes.
func (r *reader) wait(d time.Duration) error {
	if rc := C.jr_wait(r.j, C.uint64_t(d.Microseconds())); rc < 0 {
		return fmt.Errorf("waiting for journal changes: %w", errno(rc))
	}
	return nil
}
