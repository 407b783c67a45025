package syslog

import "errors"

// Kinds of OpenPipe failure, for errors.Is. The error text says what to do.
var (
	ErrNotFIFO       = errors.New("syslog pipe is not a FIFO")
	ErrWorldWritable = errors.New("syslog pipe is world-writable")
	ErrLocked        = errors.New("syslog pipe is locked by another reader")
)

// pipeError is an OpenPipe failure: a message naming the path, and for
// errors.Is/As its kind (one of the Err* above, or nil) and its cause.
type pipeError struct {
	msg   string
	kind  error
	cause error
}

func pipeErr(msg string, kind, cause error) error { return &pipeError{msg, kind, cause} }

func (e *pipeError) Error() string { return e.msg }

func (e *pipeError) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.kind, e.cause} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
