//go:build unix && !linux

package syslog

import "log/slog"

// setPipeSize does nothing: only Linux can resize a pipe buffer.
func setPipeSize(fd int, path string, log *slog.Logger) {}
