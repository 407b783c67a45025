package logfile

import (
	"errors"
	"hash/fnv"
	"io"
	"os"
	"syscall"
)

// Identity of a file generation.
//
// (device, inode) names the file the path points at now; the birth time
// (where the file system records one) separates a deleted file from a new
// one that got its inode back; the head signature (a hash of the first
// headMax bytes, or of all of them while the file is shorter) catches inode
// reuse where no birth time exists. A saved position is also only trusted
// when the hash of the markerLen bytes before it still matches (fluent-bit's
// "offset marker"): that catches a file truncated and written again past
// the old offset while nobody watched.
const (
	headMax   = 1024
	markerLen = 64
)

// errNotRegular: a pattern matched a directory, FIFO or device; skipped.
var errNotRegular = errors.New("not a regular file")

// fileID is what stat tells about a file.
type fileID struct {
	Dev, Ino uint64
	Birth    int64 // nanoseconds since the epoch; 0 when unknown
	Size     int64
	MtimeNS  int64
}

func (a fileID) sameInode(b fileID) bool { return a.Dev == b.Dev && a.Ino == b.Ino }

// sameFile is sameInode plus equal birth times where both are known.
func (a fileID) sameFile(b fileID) bool {
	return a.sameInode(b) && (a.Birth == 0 || b.Birth == 0 || a.Birth == b.Birth)
}

func idOf(fi os.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino), Size: fi.Size(), MtimeNS: fi.ModTime().UnixNano()}, true //nolint:unconvert // types differ by platform
}

// statPath stats path (following symlinks) with its birth time.
func statPath(path string) (fileID, error) {
	id, err := statPathNoBirth(path)
	if err != nil {
		return id, err
	}
	id.Birth = birthTime(path)
	return id, nil
}

// statPathNoBirth is statPath without the birth time (one system call
// fewer).
func statPathNoBirth(path string) (fileID, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileID{}, err
	}
	if !fi.Mode().IsRegular() {
		return fileID{}, errNotRegular
	}
	id, ok := idOf(fi)
	if !ok {
		return fileID{}, errors.New("no inode information")
	}
	return id, nil
}

// statFile stats an open file (its birth time comes from the saved
// identity: it cannot change).
func statFile(f *os.File) (fileID, error) {
	fi, err := f.Stat()
	if err != nil {
		return fileID{}, err
	}
	id, ok := idOf(fi)
	if !ok {
		return fileID{}, errors.New("no inode information")
	}
	return id, nil
}

// hashRange returns the FNV-1a hash of f's bytes [off, off+n); ok is false
// when the file has fewer bytes.
func hashRange(f io.ReaderAt, off, n int64, buf []byte) (uint64, bool) {
	h := fnv.New64a()
	if n == 0 {
		return h.Sum64(), true
	}
	if int64(len(buf)) < n {
		buf = make([]byte, n)
	}
	got, err := f.ReadAt(buf[:n], off)
	if int64(got) < n {
		_ = err
		return 0, false
	}
	h.Write(buf[:n])
	return h.Sum64(), true
}
