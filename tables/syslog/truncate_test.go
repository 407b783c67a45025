package syslog

import (
	"strings"
	"testing"

	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc/eventsrctest"
)

// TestTruncationUTF8: a line cut at --syslog_max_line keeps whole UTF-8
// characters and is flagged, through the pipe reader, the parser and the
// real store.
func TestTruncationUTF8(t *testing.T) {
	eventsrctest.TestTruncation(t, func(t *testing.T, message string, max int) (string, bool) {
		// The message is the last, unquoted field: the limit on the line is
		// the fields before it plus max.
		prefix := "2016-03-22T21:17:01+00:00,host,6,cron,tag:,"
		st := newStream(t)
		cfg := Config{MaxLine: len(prefix) + max}
		if err := Ingest(t.Context(), strings.NewReader(prefix+message+"\n"), cfg, st, nil, quietLog()); err != nil {
			t.Fatal(err)
		}
		rows := allRows(t, st)
		if len(rows) != 1 {
			t.Fatalf("%d rows stored, want 1", len(rows))
		}
		return rows[0].Values[colMessage].(string), rows[0].Values[colTruncated] == int64(1)
	})
}
