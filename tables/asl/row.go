package asl

import (
	"strconv"

	"github.com/osquery-syslog/osquery-syslog/internal/jsonstr"
	"github.com/osquery-syslog/osquery-syslog/tables/asl/aslfile"
)

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
		extra = jsonstr.Append(extra, kv.Key, jsonstr.Boost)
		extra = append(extra, ':')
		extra = jsonstr.Append(extra, kv.Value.S, jsonstr.Boost)
	}
	extra = append(extra, '}', '\n')
	row["extra"] = string(extra)
	return row
}

// rowBuilder builds rows straight from messages, reusing the decimal
// strings of values that repeat from row to row (levels, ids, seconds).
// For a message whose extra pairs do not repeat a column key it gives the
// same row as Row(m.Keys(nil)).
type rowBuilder struct {
	small   map[uint64]string // pid, uid, gid, ref_pid, level values seen
	lastT   uint64
	lastTS  string
	scratch []byte
}

func newRowBuilder() *rowBuilder { return &rowBuilder{small: map[uint64]string{}} }

func (b *rowBuilder) num(v uint64) string {
	if s, ok := b.small[v]; ok {
		return s
	}
	s := strconv.FormatUint(v, 10)
	if len(b.small) < 4096 {
		b.small[v] = s
	}
	return s
}

func (b *rowBuilder) build(m *aslfile.Message) map[string]string {
	row := make(map[string]string, 14)
	if m.Time != b.lastT || b.lastTS == "" {
		b.lastT, b.lastTS = m.Time, strconv.FormatUint(m.Time, 10)
	}
	row["time"] = b.lastTS
	row["time_nano_sec"] = strconv.FormatUint(uint64(m.Nano), 10)
	row["level"] = b.num(uint64(m.Level))
	row["pid"] = b.num(uint64(m.PID))
	row["uid"], row["gid"], row["ref_pid"] = "", "", ""
	if m.UID != aslfile.Unset {
		row["uid"] = b.num(uint64(m.UID))
	}
	if m.GID != aslfile.Unset {
		row["gid"] = b.num(uint64(m.GID))
	}
	if m.RefPID != 0 {
		row["ref_pid"] = b.num(uint64(m.RefPID))
	}
	row["host"], row["sender"], row["facility"], row["message"], row["ref_proc"] = m.Host.S, m.Sender.S, m.Facility.S, m.Text.S, m.RefProc.S

	// extra: the keys Apple's reader adds that have no column, in its
	// order, then the pairs (a repeated key replaces the earlier value).
	e := append(b.scratch[:0], `{"ASLMessageID":"`...)
	e = strconv.AppendUint(e, m.ID, 10)
	e = append(e, '"')
	var fixed [3]aslfile.Pair
	n := 0
	if m.ReadUID != aslfile.Unset {
		fixed[n] = aslfile.Pair{Key: aslfile.KeyReadUID, Value: aslfile.Str(b.num(uint64(m.ReadUID)))}
		n++
	}
	if m.ReadGID != aslfile.Unset {
		fixed[n] = aslfile.Pair{Key: aslfile.KeyReadGID, Value: aslfile.Str(b.num(uint64(m.ReadGID)))}
		n++
	}
	if m.Session.Valid {
		fixed[n] = aslfile.Pair{Key: aslfile.KeySession, Value: m.Session}
		n++
	}
	pairs := m.Pairs
	if n > 0 || hasDuplicateKeys(pairs) {
		// Rare: merge with replace semantics through the general path.
		all := make([]aslfile.Pair, 0, 1+n+len(pairs))
		all = append(all, aslfile.Pair{Key: aslfile.KeyMsgID, Value: aslfile.Str(strconv.FormatUint(m.ID, 10))})
		all = append(all, fixed[:n]...)
		for _, p := range pairs {
			all = setKey(all, 0, p)
		}
		e = append(e[:0], '{')
		for i, p := range all {
			if i > 0 {
				e = append(e, ',')
			}
			e = jsonstr.Append(e, p.Key, jsonstr.Boost)
			e = append(e, ':')
			e = jsonstr.Append(e, p.Value.S, jsonstr.Boost)
		}
	} else {
		for _, p := range pairs {
			e = append(e, ',')
			e = jsonstr.Append(e, p.Key, jsonstr.Boost)
			e = append(e, ':')
			e = jsonstr.Append(e, p.Value.S, jsonstr.Boost)
		}
	}
	e = append(e, '}', '\n')
	row["extra"] = string(e)
	b.scratch = e
	return row
}

// hasDuplicateKeys reports whether a key repeats among pairs, or a pair
// uses the ASLMessageID key.
func hasDuplicateKeys(pairs []aslfile.Pair) bool {
	for i := range pairs {
		if pairs[i].Key == aslfile.KeyMsgID {
			return true
		}
		for j := i + 1; j < len(pairs); j++ {
			if pairs[i].Key == pairs[j].Key {
				return true
			}
		}
	}
	return false
}

// setKey sets p in dst[base:], replacing the value of an existing key.
func setKey(dst []aslfile.Pair, base int, p aslfile.Pair) []aslfile.Pair {
	for i := base; i < len(dst); i++ {
		if dst[i].Key == p.Key {
			dst[i].Value = p.Value
			return dst
		}
	}
	return append(dst, p)
}
