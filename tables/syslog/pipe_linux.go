package syslog

import (
	"errors"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// pipeMaxSizeFile holds the largest buffer an unprivileged process may set.
// Variables for tests.
var (
	pipeMaxSizeFile  = "/proc/sys/fs/pipe-max-size"
	setPipeSizeFcntl = func(fd, size int) error {
		_, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, size)
		return err
	}
)

// setPipeSize grows the pipe buffer (64 KiB by default) to PipeBufferSize,
// or to the system's maximum when the process may not exceed that and it
// is smaller. Failing only costs burst capacity, so it is only logged.
func setPipeSize(fd int, path string, log *slog.Logger) {
	err := setPipeSizeFcntl(fd, PipeBufferSize)
	if err == nil {
		return
	}
	size := PipeBufferSize
	if errors.Is(err, unix.EPERM) {
		b, rerr := os.ReadFile(pipeMaxSizeFile)
		if n, perr := strconv.Atoi(strings.TrimSpace(string(b))); rerr == nil && perr == nil && n > 0 && n < size {
			size = n
			if err = setPipeSizeFcntl(fd, size); err == nil {
				log.Info("syslog pipe buffer limited by "+pipeMaxSizeFile, "path", path, "size", size)
				return
			}
		}
	}
	log.Warn("cannot grow the syslog pipe buffer", "path", path, "size", size, "err", err)
}
