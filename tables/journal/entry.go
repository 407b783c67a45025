package journal

import (
	"encoding/binary"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/osquery-syslog/osquery-syslog/internal/jsonstr"
)

// The reader hands entries over in one buffer, each laid out (native byte
// order, written by jr_read in sdjournal_linux.c) as:
//
//	u32 length of the rest of the entry
//	u64 __REALTIME_TIMESTAMP, u64 __MONOTONIC_TIMESTAMP
//	u32 cursor length, cursor
//	then until the end: u32 field length, "NAME=value" (value binary-safe)
const entryHeader = 4 + 8 + 8 + 4

var errShortEntry = errors.New("journal: malformed entry buffer")

// rawEntry is one entry of the reader's buffer; its slices point into it.
type rawEntry struct {
	realtime, monotonic uint64
	cursor              []byte
	data                []byte // the fields, still length-prefixed
	cursorAndData       []byte // cursor and data, adjacent
}

// nextEntry splits the first entry off buf.
func nextEntry(buf []byte) (e rawEntry, rest []byte, err error) {
	if len(buf) < entryHeader {
		return e, nil, errShortEntry
	}
	n := int(binary.NativeEndian.Uint32(buf))
	if n < entryHeader-4 || len(buf)-4 < n {
		return e, nil, errShortEntry
	}
	body := buf[4 : 4+n]
	e.realtime = binary.NativeEndian.Uint64(body)
	e.monotonic = binary.NativeEndian.Uint64(body[8:])
	cl := int(binary.NativeEndian.Uint32(body[16:]))
	if cl > len(body)-20 {
		return e, nil, errShortEntry
	}
	e.cursor = body[20 : 20+cl]
	e.data = body[20+cl:]
	e.cursorAndData = body[20:]
	return e, buf[4+n:], nil
}

// field returns the first field of data and the rest.
func field(data []byte) (name, value, rest []byte, err error) {
	if len(data) < 4 {
		return nil, nil, nil, errShortEntry
	}
	n := int(binary.NativeEndian.Uint32(data))
	if n > len(data)-4 {
		return nil, nil, nil, errShortEntry
	}
	f := data[4 : 4+n]
	for i, c := range f {
		if c == '=' {
			return f[:i], f[i+1:], data[4+n:], nil
		}
	}
	// sd_journal never returns a field without '='; keep it whole.
	return f, nil, data[4+n:], nil
}

// facilityNames are the syslog facility names as rsyslog writes them, so
// that facility compares equal across syslog_messages and journal_messages.
var facilityNames = [24]string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

// FacilityCode returns the SYSLOG_FACILITY number of a facility name.
func FacilityCode(name string) (int, bool) {
	for i, n := range facilityNames {
		if n == name {
			return i, true
		}
	}
	return 0, false
}

// canonInt parses v as a base-10 integer in [lo, hi] written the way
// strconv writes it, so that the column gives the field back exactly.
func canonInt(v []byte, lo, hi int64) (int64, bool) {
	if len(v) == 0 || len(v) > 20 || len(v) > 1 && v[0] == '0' {
		return 0, false
	}
	neg := v[0] == '-'
	d := v
	if neg {
		d = v[1:]
		if len(d) == 0 || d[0] == '0' {
			return 0, false
		}
	}
	var n int64
	for _, c := range d {
		if c < '0' || c > '9' || n > (1<<62)/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, n >= lo && n <= hi
}

// appendJSONValue appends a field value the way journalctl -o json writes
// one: a string when it is valid UTF-8, else an array of its byte values.
func appendJSONValue(b []byte, v []byte) []byte {
	if utf8.Valid(v) {
		return jsonstr.Append(b, v, jsonstr.Journal)
	}
	b = append(b, '[')
	for i, c := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(c), 10)
	}
	return append(b, ']')
}
