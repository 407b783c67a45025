//go:build unix

package syslog

import (
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func mkfifo(t *testing.T, path string, mode uint32) {
	t.Helper()
	if err := unix.Mkfifo(path, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, fs.FileMode(mode)); err != nil {
		t.Fatal(err)
	}
}

func TestOpenPipeRefuses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
		want  string // with {path} for the path
		kind  error
	}{
		{
			name: "regular file",
			setup: func(t *testing.T, path string) {
				if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			want: "syslog pipe {path} is a regular file, not a FIFO; refusing to use or replace it (remove it to let a FIFO be created there, or use another pipe path)",
			kind: ErrNotFIFO,
		},
		{
			name:  "directory",
			setup: func(t *testing.T, path string) { os.Mkdir(path, 0o700) },
			want:  "syslog pipe {path} is a directory, not a FIFO",
			kind:  ErrNotFIFO,
		},
		{
			name: "symlink to a FIFO",
			setup: func(t *testing.T, path string) {
				mkfifo(t, path+".real", 0o460)
				os.Symlink(path+".real", path)
			},
			want: "syslog pipe {path} is a symlink; refusing to follow it (use the FIFO's real path)",
			kind: ErrNotFIFO,
		},
		{
			name:  "dangling symlink",
			setup: func(t *testing.T, path string) { os.Symlink(path+".missing", path) },
			want:  "syslog pipe {path} is a symlink; refusing to follow it (use the FIFO's real path)",
			kind:  ErrNotFIFO,
		},
		{
			name: "socket",
			setup: func(t *testing.T, path string) {
				l, err := net.Listen("unix", path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { l.Close() })
			},
			want: "syslog pipe {path} is not a FIFO (a socket)",
			kind: ErrNotFIFO,
		},
		{
			name:  "world-writable FIFO",
			setup: func(t *testing.T, path string) { mkfifo(t, path, 0o662) },
			want:  "syslog pipe {path} is world-writable (mode 0662), so any local user could inject log lines; refusing it: run chmod o-w {path}",
			kind:  ErrWorldWritable,
		},
		{
			name:  "world-writable only",
			setup: func(t *testing.T, path string) { mkfifo(t, path, 0o002) },
			want:  "syslog pipe {path} is world-writable (mode 0002), so any local user could inject log lines; refusing it: run chmod o-w {path}",
			kind:  ErrWorldWritable,
		},
		{
			name: "parent is a file",
			setup: func(t *testing.T, path string) {
				os.Remove(filepath.Dir(path))
				os.WriteFile(filepath.Dir(path), nil, 0o600)
			},
			want: "syslog pipe {path}: checking the path: not a directory",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "parent", "syslog_pipe")
			os.Mkdir(filepath.Dir(path), 0o700)
			tt.setup(t, path)
			before, _ := os.Lstat(path)
			f, err := OpenPipe(path, quietLog())
			if err == nil {
				f.Close()
				t.Fatal("OpenPipe succeeded")
			}
			want := strings.ReplaceAll(tt.want, "{path}", path)
			if err.Error() != want {
				t.Errorf("error\n%s\nwant\n%s", err, want)
			}
			if tt.kind != nil && !errors.Is(err, tt.kind) {
				t.Errorf("errors.Is(err, %v) = false", tt.kind)
			}
			if before != nil {
				after, err := os.Lstat(path)
				if err != nil || after.Mode() != before.Mode() || after.ModTime() != before.ModTime() {
					t.Errorf("the refused path was changed: %v %v -> %v", before.Mode(), err, after)
				}
			}
		})
	}
	t.Run("regular file content kept", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "p")
		os.WriteFile(path, []byte("keep me"), 0o600)
		OpenPipe(path, quietLog())
		if b, err := os.ReadFile(path); err != nil || string(b) != "keep me" {
			t.Errorf("content %q, %v", b, err)
		}
	})
}

func TestOpenPipeCreates(t *testing.T) {
	// Pick a group other than ours to see chown happen.
	group, gid := "", -1
	for _, name := range []string{"daemon", "adm", "nogroup", "bin", "staff"} {
		if g, err := user.LookupGroup(name); err == nil {
			if n, _ := strconv.Atoi(g.Gid); n != os.Getegid() {
				group, gid = name, n
				break
			}
		}
	}
	tests := []struct {
		name    string
		group   string
		wantGID int
	}{
		{"group exists", group, gid},
		{"no such group", "no-such-group-osquery-syslog", os.Getegid()},
	}
	old := syscall.Umask(0o077) // mkfifo alone would give 0400
	defer syscall.Umask(old)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.group == "" {
				t.Skip("no group besides ours on this machine")
			}
			if tt.wantGID != os.Getegid() && os.Geteuid() != 0 {
				t.Skip("chown to another group needs root")
			}
			defer func(g string) { pipeGroup = g }(pipeGroup)
			pipeGroup = tt.group
			base := t.TempDir()
			path := filepath.Join(base, "a", "b", "syslog_pipe")
			f, err := OpenPipe(path, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fi, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode()&fs.ModeNamedPipe == 0 || fi.Mode().Perm() != 0o460 {
				t.Errorf("pipe mode %v, want a FIFO with 0460", fi.Mode())
			}
			if g := int(fi.Sys().(*syscall.Stat_t).Gid); g != tt.wantGID {
				t.Errorf("pipe gid %d, want %d", g, tt.wantGID)
			}
			for _, d := range []string{filepath.Join(base, "a"), filepath.Join(base, "a", "b")} {
				di, err := os.Stat(d)
				if err != nil {
					t.Fatal(err)
				}
				if di.Mode().Perm() != 0o750 {
					t.Errorf("%s mode %v, want 0750", d, di.Mode().Perm())
				}
				if g := int(di.Sys().(*syscall.Stat_t).Gid); g != tt.wantGID {
					t.Errorf("%s gid %d, want %d", d, g, tt.wantGID)
				}
			}
			if bi, _ := os.Stat(base); bi.Mode().Perm() != 0o700 {
				t.Errorf("the existing directory above was changed: %v", bi.Mode())
			}
		})
	}
}

func TestOpenPipeKeepsExistingMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	mkfifo(t, path, 0o620)
	f, err := OpenPipe(path, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fi, _ := os.Lstat(path); fi.Mode().Perm() != 0o620 {
		t.Errorf("mode %v, want 0620 left as it was", fi.Mode().Perm())
	}
}

func TestOpenPipeLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "syslog_pipe")
	want := "syslog pipe " + path + ": another reader holds its lock (osqueryd running with --enable_syslog, " +
		"or a second copy of this extension); stop that reader or use another pipe path"

	first, err := OpenPipe(path, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	_, err = OpenPipe(path, quietLog())
	if err == nil || err.Error() != want || !errors.Is(err, ErrLocked) {
		t.Fatalf("second reader: err = %v\nwant %s", err, want)
	}
	first.Close() // releases the lock
	second, err := OpenPipe(path, quietLog())
	if err != nil {
		t.Fatalf("after the first reader closed: %v", err)
	}
	second.Close()

	// osqueryd's publisher locks a separate O_RDONLY descriptor.
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenPipe(path, quietLog()); err == nil || err.Error() != want {
		t.Fatalf("with osqueryd's lock held: err = %v", err)
	}
}

// TestOpenPipeWakes checks that a blocked Read returns on SetReadDeadline
// and on Close, and that the descriptor is non-blocking for the poller.
func TestOpenPipeWakes(t *testing.T) {
	for _, how := range []string{"deadline", "close"} {
		t.Run(how, func(t *testing.T) {
			f, err := OpenPipe(filepath.Join(t.TempDir(), "p"), quietLog())
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			errc := make(chan error, 1)
			go func() {
				_, err := f.Read(make([]byte, 10))
				errc <- err
			}()
			time.Sleep(20 * time.Millisecond)
			if how == "deadline" {
				f.SetReadDeadline(time.Now())
			} else {
				f.Close()
			}
			select {
			case err := <-errc:
				want := os.ErrDeadlineExceeded
				if how == "close" {
					want = os.ErrClosed
				}
				if !errors.Is(err, want) {
					t.Errorf("Read: %v, want %v", err, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Read did not return")
			}
		})
	}
}

// TestOpenPipeNoEOF: with the pipe held read-write, a writer closing its
// end is not an end of input.
func TestOpenPipeNoEOF(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	f, err := OpenPipe(path, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("x\n"))
	w.Close()
	buf := make([]byte, 10)
	if n, err := f.Read(buf); n != 2 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	f.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := f.Read(buf); errors.Is(err, io.EOF) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("after the writer closed: %v, want a timeout, not EOF", err)
	}
}

// TestOpenPipeSwapped: a path swapped after the checks and before the open
// is refused (the open does not follow a symlink; fstat sees another file).
func TestOpenPipeSwapped(t *testing.T) {
	tests := []struct {
		name string
		swap func(path string)
		want string
	}{
		{"for a symlink", func(path string) {
			os.Remove(path)
			mkfifo(t, path+".other", 0o460)
			os.Symlink(path+".other", path)
		}, "syslog pipe {path}: opening for reading: too many levels of symbolic links"},
		{"for another FIFO", func(path string) {
			mkfifo(t, path+".other", 0o460)
			os.Rename(path+".other", path)
		}, "syslog pipe {path} changed while being opened; refusing it"},
		{"for a world-writable FIFO", func(path string) {
			os.Chmod(path, 0o662)
		}, "syslog pipe {path} changed while being opened; refusing it"},
	}
	defer func() { testHookBeforeOpen = nil }()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p")
			mkfifo(t, path, 0o460)
			testHookBeforeOpen = func() { tt.swap(path) }
			f, err := OpenPipe(path, quietLog())
			if err == nil {
				f.Close()
				t.Fatal("OpenPipe succeeded")
			}
			if want := strings.ReplaceAll(tt.want, "{path}", path); err.Error() != want {
				t.Errorf("error\n%s\nwant\n%s", err, want)
			}
		})
	}
}
