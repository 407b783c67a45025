//go:build unix

package syslog

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// Modes of what OpenPipe creates. The FIFO is owner r--, group rw-, other
// ---: rsyslog (group syslog) writes, the extension (owner) reads, as
// osquery sets it up. The directory lets group syslog reach the FIFO.
const (
	PipeMode    fs.FileMode = 0o460
	PipeDirMode fs.FileMode = 0o750
)

// pipeGroup is the group given to what OpenPipe creates, when it exists.
// A variable so that tests can use a group the test machine has.
var pipeGroup = "syslog"

// PipeBufferSize is the pipe buffer OpenPipe asks the kernel for (Linux),
// so that bursts wait in the kernel rather than make rsyslog suspend.
const PipeBufferSize = 1 << 20

// OpenPipe opens the named pipe rsyslog writes to, for reading, and takes
// the exclusive lock that keeps a second reader from splitting the stream.
// Closing the file releases the lock.
//
// If nothing exists at path, it creates the FIFO (mode 0460, group syslog if
// that group exists) and, if missing, its parent directory (mode 0750, the
// same group). An existing path is used only if it is a FIFO that is not
// world-writable; a symlink, a regular file, a directory or anything else is
// refused and never replaced.
//
// The FIFO is opened O_RDWR|O_NONBLOCK: the open never waits for a writer
// and reads never see EOF when rsyslog restarts. The returned file is
// registered with Go's poller, so Read parks the goroutine and Close or
// SetReadDeadline wakes it. log receives what is only worth a warning (the
// group or buffer size could not be set); nil means slog.Default().
func OpenPipe(path string, log *slog.Logger) (*os.File, error) {
	if log == nil {
		log = slog.Default()
	}
	if path == "" {
		return nil, errors.New("syslog pipe: no path given")
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := createPipe(path, log); err != nil {
			return nil, err
		}
		fi, err = os.Lstat(path)
	}
	if err != nil {
		return nil, pipeErr(fmt.Sprintf("syslog pipe %s: checking the path: %v", path, unwrapPath(err)), nil, err)
	}
	if err := checkPipe(path, fi); err != nil {
		return nil, err
	}

	if testHookBeforeOpen != nil {
		testHookBeforeOpen()
	}
	// O_NOFOLLOW and the fstat below close the window between the Lstat
	// and the open, in which the path could be swapped for something else.
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, pipeErr(fmt.Sprintf("syslog pipe %s: opening for reading: %v", path, err), nil, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, pipeErr(fmt.Sprintf("syslog pipe %s: %v", path, err), nil, err)
	}
	if !sameFile(fi, &st) || st.Mode&unix.S_IFMT != unix.S_IFIFO || st.Mode&0o002 != 0 {
		unix.Close(fd)
		return nil, pipeErr(fmt.Sprintf("syslog pipe %s changed while being opened; refusing it", path), ErrNotFIFO, nil)
	}
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, pipeErr(fmt.Sprintf("syslog pipe %s: another reader holds its lock "+
				"(osqueryd running with --enable_syslog, or a second copy of this extension); "+
				"stop that reader or use another pipe path", path), ErrLocked, err)
		}
		return nil, pipeErr(fmt.Sprintf("syslog pipe %s: locking: %v", path, err), nil, err)
	}
	setPipeSize(fd, path, log)
	return os.NewFile(uintptr(fd), path), nil
}

// testHookBeforeOpen runs between the checks and the open, in tests.
var testHookBeforeOpen func()

// sameFile says whether fi (from Lstat) and st (from fstat) are one file.
func sameFile(fi fs.FileInfo, st *unix.Stat_t) bool {
	sys, ok := fi.Sys().(*syscall.Stat_t)
	return ok && uint64(sys.Ino) == uint64(st.Ino) && uint64(sys.Dev) == uint64(st.Dev)
}

// createPipe creates the FIFO and any missing directories above it.
func createPipe(path string, log *slog.Logger) error {
	gid := groupID(log)
	if err := mkdirs(filepath.Dir(path), gid, log); err != nil {
		return err
	}
	if err := unix.Mkfifo(path, uint32(PipeMode)); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return nil // created meanwhile by someone else: checked as existing
		}
		return pipeErr(fmt.Sprintf("syslog pipe %s: creating FIFO: %v", path, err), nil, err)
	}
	// mkfifo's mode is filtered by the umask; the mode must be exact.
	if err := os.Chmod(path, PipeMode); err != nil {
		return pipeErr(fmt.Sprintf("syslog pipe %s: setting mode %04o: %v", path, PipeMode, unwrapPath(err)), nil, err)
	}
	chgrp(path, gid, log)
	log.Info("created syslog pipe", "path", path, "mode", fmt.Sprintf("%04o", PipeMode), "group", groupName(gid))
	return nil
}

// mkdirs creates dir and its missing parents with PipeDirMode and group gid.
func mkdirs(dir string, gid int, log *slog.Logger) error {
	if _, err := os.Lstat(dir); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return nil // exists (or cannot be checked: mkfifo will say why)
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirs(parent, gid, log); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, PipeDirMode); err != nil && !errors.Is(err, fs.ErrExist) {
		return pipeErr(fmt.Sprintf("syslog pipe directory %s: creating: %v", dir, unwrapPath(err)), nil, err)
	}
	if err := os.Chmod(dir, PipeDirMode); err != nil {
		return pipeErr(fmt.Sprintf("syslog pipe directory %s: setting mode %04o: %v", dir, PipeDirMode, unwrapPath(err)), nil, err)
	}
	chgrp(dir, gid, log)
	return nil
}

// groupID is the gid of pipeGroup, or -1 if there is no such group.
func groupID(log *slog.Logger) int {
	g, err := user.LookupGroup(pipeGroup)
	if err != nil {
		log.Info("no such group; not changing the group of the syslog pipe", "group", pipeGroup)
		return -1
	}
	gid, err := strconv.Atoi(g.Gid)
	if err != nil {
		return -1
	}
	return gid
}

func groupName(gid int) string {
	if gid < 0 {
		return "(unchanged)"
	}
	return pipeGroup
}

// chgrp gives path the group gid. A failure is only a warning, as in
// osquery: the FIFO works for any writer its mode lets in.
func chgrp(path string, gid int, log *slog.Logger) {
	if gid < 0 {
		return
	}
	if err := os.Lchown(path, -1, gid); err != nil {
		log.Warn("cannot give the syslog pipe its group; rsyslog may be unable to write to it",
			"path", path, "group", pipeGroup, "err", unwrapPath(err))
	}
}

// checkPipe accepts only a FIFO that is not world-writable.
func checkPipe(path string, fi fs.FileInfo) error {
	m := fi.Mode()
	switch {
	case m&fs.ModeSymlink != 0:
		return pipeErr(fmt.Sprintf("syslog pipe %s is a symlink; refusing to follow it (use the FIFO's real path)", path), ErrNotFIFO, nil)
	case m.IsRegular():
		return pipeErr(fmt.Sprintf("syslog pipe %s is a regular file, not a FIFO; refusing to use or replace it "+
			"(remove it to let a FIFO be created there, or use another pipe path)", path), ErrNotFIFO, nil)
	case m.IsDir():
		return pipeErr(fmt.Sprintf("syslog pipe %s is a directory, not a FIFO", path), ErrNotFIFO, nil)
	case m&fs.ModeNamedPipe == 0:
		return pipeErr(fmt.Sprintf("syslog pipe %s is not a FIFO (%s)", path, fileKind(m)), ErrNotFIFO, nil)
	case m.Perm()&0o002 != 0:
		return pipeErr(fmt.Sprintf("syslog pipe %s is world-writable (mode %04o), so any local user could inject "+
			"log lines; refusing it: run chmod o-w %s", path, m.Perm(), path), ErrWorldWritable, nil)
	}
	return nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "mode " + m.String()
}

// unwrapPath drops the *fs.PathError wrapper, whose text repeats the path.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
