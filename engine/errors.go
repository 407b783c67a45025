package engine

import "errors"

var (
	// ErrNoVTable is returned by New in a binary built without the
	// sqlite_vtable tag.
	ErrNoVTable = errors.New("engine: built without the sqlite_vtable tag; build with make build")
	// ErrClosed is returned by Query after Close.
	ErrClosed = errors.New("engine: closed")
)
