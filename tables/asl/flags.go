package asl

import (
	"errors"
	"flag"
)

// Flags are the command-line flags of asl_messages.
type Flags struct {
	ASLStorePath string
}

// Register declares the flags in fs with their defaults.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.ASLStorePath, "asl_store_path", DefaultStorePath,
		"ASL store read by asl_messages: a directory (its *.asl files) or one store file; a missing directory gives no rows")
}

// Validate checks what the flag package cannot; every message names the
// flag.
func (f *Flags) Validate() error {
	if f.ASLStorePath == "" {
		return errors.New("--asl_store_path: must not be empty")
	}
	return nil
}
