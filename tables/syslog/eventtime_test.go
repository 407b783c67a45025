package syslog

import (
	"testing"
	"time"
)

func TestEventTime(t *testing.T) {
	ingested := time.Unix(1700000000, 0)
	tests := []struct {
		in   string
		want int64
	}{
		// osquery's historical vectors (osquery-behavior.md §1.8), all +00:00.
		{"1970-01-01T00:00:00.000000+00:00", 0},
		{"2016-03-25T17:39:28.717070+00:00", 1458927568},
		{"2016-12-31T23:59:59.999000+00:00", 1483228799},
		{"2016-03-22T21:17:01.701882+00:00", 1458681421},
		// The offset is honoured (old osquery treated the wall clock as UTC).
		{"2016-03-22T23:17:01.701882+02:00", 1458681421},
		{"2016-03-22T16:17:01.701882-05:00", 1458681421},
		{"2016-03-23T02:47:01+05:30", 1458681421},
		{"2016-03-22T21:17:01Z", 1458681421},
		{"2016-03-22T21:17:01.7Z", 1458681421},
		{"1969-12-31T23:59:59+00:00", -1},
		// Not RFC 3339: the ingestion time.
		{"", 1700000000},
		{"Mar 22 21:17:01", 1700000000},
		{"2016-03-22 21:17:01+00:00", 1700000000},
		{"2016-03-22T21:17:01", 1700000000}, // no offset
		{"2016-03-22T25:17:01+00:00", 1700000000},
		{"2016-03-22T21:17:01+00:00 ", 1700000000}, // ParseLine trims; EventTime does not
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := EventTime(tt.in, ingested); got != tt.want {
				t.Errorf("EventTime(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}
