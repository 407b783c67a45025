package syslog

import (
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestOpenPipeBufferSize(t *testing.T) {
	f, err := OpenPipe(filepath.Join(t.TempDir(), "p"), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var size int
	rc.Control(func(fd uintptr) { size, err = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0) })
	if err != nil {
		t.Fatal(err)
	}
	// Root may exceed pipe-max-size; others get at most that.
	if size != PipeBufferSize && unix.Geteuid() == 0 {
		t.Errorf("pipe buffer %d, want %d", size, PipeBufferSize)
	}
	if size <= 64<<10 {
		t.Errorf("pipe buffer %d: not grown", size)
	}
}
