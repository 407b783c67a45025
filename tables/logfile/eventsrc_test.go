package logfile

import "github.com/osquery-syslog/osquery-syslog/tables/eventsrc"

// The write side moved to eventsrc; these names keep this package's tests
// in their original words.

type Sink = eventsrc.Sink

const DefaultMaxLine = eventsrc.DefaultMaxLine
