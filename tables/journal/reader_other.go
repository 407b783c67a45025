//go:build !linux || !cgo

package journal

import (
	"fmt"
	"runtime"
	"time"
)

// reader is never opened here: the journal is read through libsystemd,
// which needs Linux and cgo.
type reader struct{}

func load() error {
	return fmt.Errorf("%w: built for %s without cgo or libsystemd support", ErrUnavailable, runtime.GOOS)
}

func openReader(string) (*reader, error)        { return nil, load() }
func (*reader) close()                          {}
func (*reader) addMatch(string) error           { return load() }
func (*reader) addDisjunction() error           { return load() }
func (*reader) seekHead() error                 { return load() }
func (*reader) seekTail() error                 { return load() }
func (*reader) seekTime(time.Time) error        { return load() }
func (*reader) seekBoot([16]byte) (bool, error) { return false, load() }
func (*reader) seekAfter(string) (bool, error)  { return false, load() }
func (*reader) read(int) (batch, error)         { return batch{}, load() }
func (*reader) wait(time.Duration) error        { return load() }
