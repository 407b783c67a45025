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
const pipeMaxSizeFile = "/proc/sys/fs/pipe-max-size"

// setPipeSize grows the pipe buffer to PipeBufferSize (64 KiB by default),
// or to the system's maximum if that is smaller and the process may not
// exceed it. Failing only costs burst capacity, so it is only logged.
func setPipeSize(fd int, path string, log *slog.Logger) {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, PipeBufferSize)
	if err == nil || !errors.Is(err, unix.EPERM) {
		if err != nil {
			log.Warn("cannot grow the syslog pipe buffer", "path", path, "size", PipeBufferSize, "err", err)
		}
		return
	}
	b, rerr := os.ReadFile(pipeMaxSizeFile)
	size, perr := strconv.Atoi(strings.TrimSpace(string(b)))
	if rerr != nil || perr != nil || size <= 0 {
		log.Warn("cannot grow the syslog pipe buffer", "path", path, "size", PipeBufferSize, "err", err)
		return
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, size); err != nil {
		log.Warn("cannot grow the syslog pipe buffer", "path", path, "size", size, "err", err)
	}
}
