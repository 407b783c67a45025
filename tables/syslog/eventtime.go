package syslog

import "time"

// EventTime returns the unix time (seconds) of a datetime field, parsed as
// RFC 3339 with optional fractional seconds and honouring its UTC offset, or
// ingested.Unix() if it does not parse.
//
// This is deliberately not osquery's pre-2016 behaviour, which ignored both
// the fraction and the offset (treating the wall-clock part as UTC): the two
// agree only for +00:00 and Z. Current osquery does not parse the field at
// all; the raw text stays in the datetime column.
func EventTime(datetime string, ingested time.Time) int64 {
	t, err := time.Parse(time.RFC3339Nano, datetime)
	if err != nil {
		return ingested.Unix()
	}
	return t.Unix()
}
