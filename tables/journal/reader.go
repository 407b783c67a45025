package journal

import "errors"

// ErrUnavailable reports that this build or host cannot read the journal:
// built without cgo or not for Linux, or libsystemd.so.0 is missing.
var ErrUnavailable = errors.New("journal reading unavailable")

// Available reports why the journal cannot be read here (an error wrapping
// ErrUnavailable), or nil.
func Available() error { return load() }

// batch is what one read returned: count entries laid out in data (see
// entry.go), valid until the next read.
type batch struct {
	data    []byte
	count   int
	atEnd   bool // no entry after these, for now
	skipped int  // unreadable entries skipped
}
