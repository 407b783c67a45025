package syslog

import (
	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc"
)

// The write side moved to eventsrc; these names keep this package's tests
// in their original words.

type Sink = eventsrc.Sink

const (
	DefaultMaxLine   = eventsrc.DefaultMaxLine
	DefaultBatchSize = eventsrc.DefaultBatchSize
	appendAt         = eventsrc.DefaultAppendAt
)

func cut(b []byte, n int) []byte { return truncated(b, n).Data }

func (m *memSink) AppendState(events []eventstore.Event, _ map[string]string) (int64, error) {
	return m.Append(events)
}

func (c *countSink) AppendState(events []eventstore.Event, _ map[string]string) (int64, error) {
	return c.Append(events)
}
