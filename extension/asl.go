package main

import (
	"errors"
	"flag"

	"github.com/osquery-syslog/osquery-syslog/tables/asl"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// addASLFlags registers the asl_messages flags.
func addASLFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.ASLStorePath, "asl_store_path", asl.DefaultStorePath,
		"ASL store read by asl_messages: a directory (its *.asl files) or one store file; a missing directory gives no rows")
}

// validateASL checks the asl_messages flags.
func (c *config) validateASL() []error {
	if c.ASLStorePath == "" {
		return []error{errors.New("--asl_store_path: must not be empty")}
	}
	return nil
}

// openASL is asl_messages over --asl_store_path. It reads the store files
// at query time, so every mode serves it, the query subcommand included.
func openASL(a *app) (tablekit.Table, *source, error) {
	t := asl.New(asl.Config{StorePath: a.cfg.ASLStorePath, Registry: a.reg, Logger: a.log.With("component", "asl")})
	return tablekit.Table{
		Name:        asl.TableName,
		Description: asl.Description,
		Columns:     asl.Columns(),
		Generate:    t.Generate,
	}, nil, nil
}
