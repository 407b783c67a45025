package asl

import "github.com/osquery-syslog/osquery-syslog/tables/asl/aslfile"

// keyColumn maps the ASL keys osquery gives their own column.
var keyColumn = map[string]string{
	aslfile.KeyTime:     "time",
	aslfile.KeyTimeNsec: "time_nano_sec",
	aslfile.KeyHost:     "host",
	aslfile.KeySender:   "sender",
	aslfile.KeyFacility: "facility",
	aslfile.KeyPID:      "pid",
	aslfile.KeyUID:      "uid",
	aslfile.KeyGID:      "gid",
	aslfile.KeyLevel:    "level",
	aslfile.KeyMessage:  "message",
	aslfile.KeyRefPID:   "ref_pid",
	aslfile.KeyRefProc:  "ref_proc",
}

// Row builds a row from a message's ordered keys the way osquery's
// readAslRow does: a NULL value reads as "", a key with a column fills it,
// every other key goes, in order, into extra, a JSON object of strings
// written like Boost's property-tree write_json (non-pretty: no spaces, "/"
// escaped as "\/", other bytes above 0x1F copied as they are, so non-UTF-8
// bytes pass through) followed by a newline. Columns without a key are left
// out: osquery reads them as "" (text) or NULL (numbers).
func Row(keys []aslfile.Pair) map[string]string {
	row := make(map[string]string, 14)
	extra := make([]byte, 0, 64)
	extra = append(extra, '{')
	n := 0
	for _, kv := range keys {
		if col, ok := keyColumn[kv.Key]; ok {
			row[col] = kv.Value.S
			continue
		}
		if n > 0 {
			extra = append(extra, ',')
		}
		n++
		extra = appendJSONString(extra, kv.Key)
		extra = append(extra, ':')
		extra = appendJSONString(extra, kv.Value.S)
	}
	extra = append(extra, '}', '\n')
	row["extra"] = string(extra)
	return row
}

// appendJSONString appends s quoted with Boost 1.77's JSON escapes.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b = append(b, '\\', '"')
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '/':
			b = append(b, '\\', '/')
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
