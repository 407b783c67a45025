package schedule

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/osquery-syslog/osquery-syslog/internal/jsonstr"
)

// Row is one result row: column name -> value, every value a string (as
// osquery logs them with --logger_numerics=false).
type Row map[string]string

// Item is one query run's results, the input of the line formats. It
// mirrors osquery's QueryLogItem.
type Item struct {
	Name        string
	Host        string
	Time        time.Time // when the query ran
	Epoch       uint64
	Counter     uint64
	Decorations map[string]string
	Added       []Row
	Removed     []Row
	Snapshot    []Row
	// DecorationsTopLevel merges decorations into the line instead of a
	// nested "decorations" object (osquery's --decorations_top_level).
	DecorationsTopLevel bool
}

// CalendarTime is osquery's calendarTime: asctime(3) of the UTC time with
// " UTC" appended, e.g. "Mon Nov  2 07:05:09 2026 UTC".
func CalendarTime(t time.Time) string {
	return t.UTC().Format("Mon Jan _2 15:04:05 2006") + " UTC"
}

// EventLines returns the event-format lines of a differential result, one per
// row, removed rows first, as osqueryd logs them by default
// (--logger_event_type=true):
//
//	{"name":..,"hostIdentifier":..,"calendarTime":..,"unixTime":N,"epoch":N,"counter":N,"numerics":false,"decorations":{..},"columns":{..},"action":"added"}
func EventLines(it *Item) [][]byte {
	out := make([][]byte, 0, len(it.Removed)+len(it.Added))
	env := appendEnvelope(nil, it) // the same for every line of the run
	for _, set := range []struct {
		action string
		rows   []Row
	}{{"removed", it.Removed}, {"added", it.Added}} {
		for _, r := range set.rows {
			b := make([]byte, 0, len(env)+objectSize(r)+32)
			b = append(b, '{')
			b = append(b, env...)
			b = append(b, `,"columns":`...)
			b = appendObject(b, r)
			b = append(b, `,"action":`...)
			b = jsonstr.Append(b, set.action, jsonstr.Rapid)
			b = append(b, '}')
			out = append(out, b)
		}
	}
	return out
}

// EventSnapshotLines returns one line per snapshot row with action
// "snapshot" (osquery's --logger_snapshot_event_type).
func EventSnapshotLines(it *Item) [][]byte {
	out := make([][]byte, 0, len(it.Snapshot))
	env := appendEnvelope(nil, it)
	for _, r := range it.Snapshot {
		b := make([]byte, 0, len(env)+objectSize(r)+32)
		b = append(b, '{')
		b = append(b, env...)
		b = append(b, `,"columns":`...)
		b = appendObject(b, r)
		b = append(b, `,"action":"snapshot"}`...)
		out = append(out, b)
	}
	return out
}

// BatchLine returns the batch-format line of a differential result
// (--logger_event_type=false): {"diffResults":{"removed":[..],"added":[..]},<envelope>}.
func BatchLine(it *Item) []byte {
	b := append(make([]byte, 0, 512), `{"diffResults":{"removed":`...)
	b = appendRows(b, it.Removed)
	b = append(b, `,"added":`...)
	b = appendRows(b, it.Added)
	b = append(b, "},"...)
	b = appendEnvelope(b, it)
	return append(b, '}')
}

// SnapshotLine returns the line of a snapshot query as osqueryd logs it:
// {"snapshot":[..],"action":"snapshot",<envelope>}.
func SnapshotLine(it *Item) []byte {
	b := append(make([]byte, 0, 512), `{"snapshot":`...)
	b = appendRows(b, it.Snapshot)
	b = append(b, `,"action":"snapshot",`...)
	b = appendEnvelope(b, it)
	return append(b, '}')
}

// appendEnvelope writes osquery's "legacy fields" and the decorations, in
// its order, without braces.
func appendEnvelope(b []byte, it *Item) []byte {
	b = append(b, `"name":`...)
	b = jsonstr.Append(b, it.Name, jsonstr.Rapid)
	b = append(b, `,"hostIdentifier":`...)
	b = jsonstr.Append(b, it.Host, jsonstr.Rapid)
	b = append(b, `,"calendarTime":`...)
	b = jsonstr.Append(b, CalendarTime(it.Time), jsonstr.Rapid)
	b = append(b, `,"unixTime":`...)
	b = strconv.AppendInt(b, it.Time.Unix(), 10)
	b = append(b, `,"epoch":`...)
	b = strconv.AppendUint(b, it.Epoch, 10)
	b = append(b, `,"counter":`...)
	b = strconv.AppendUint(b, it.Counter, 10)
	b = append(b, `,"numerics":false`...)
	if len(it.Decorations) > 0 {
		if it.DecorationsTopLevel {
			for _, k := range slices.Sorted(maps.Keys(it.Decorations)) {
				b = append(b, ',')
				b = jsonstr.Append(b, k, jsonstr.Rapid)
				b = append(b, ':')
				b = jsonstr.Append(b, it.Decorations[k], jsonstr.Rapid)
			}
		} else {
			b = append(b, `,"decorations":`...)
			b = appendObject(b, it.Decorations)
		}
	}
	return b
}

func appendRows(b []byte, rows []Row) []byte {
	b = append(b, '[')
	for i, r := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendObject(b, r)
	}
	return append(b, ']')
}

// appendObject writes m with its keys in byte order, as osquery's rows
// (std::map) serialize.
func appendObject(b []byte, m map[string]string) []byte {
	b = append(b, '{')
	keys := slices.AppendSeq(make([]string, 0, len(m)), maps.Keys(m)) // sized: this runs per row
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonstr.Append(b, k, jsonstr.Rapid)
		b = append(b, ':')
		b = jsonstr.Append(b, m[k], jsonstr.Rapid)
	}
	return append(b, '}')
}

// objectSize estimates the encoded size of m (exact without escapes).
func objectSize(m map[string]string) int {
	n := 2
	for k, v := range m {
		n += len(k) + len(v) + 6
	}
	return n
}
