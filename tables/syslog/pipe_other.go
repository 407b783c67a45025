//go:build !unix

package syslog

import (
	"errors"
	"log/slog"
	"os"
)

// OpenPipe fails: named pipes of this kind exist only on Unix systems.
func OpenPipe(path string, log *slog.Logger) (*os.File, error) {
	return nil, errors.New("syslog pipe " + path + ": named pipes are not supported on this system")
}
