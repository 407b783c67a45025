package journal

import (
	"bytes"
	"strconv"
	"unsafe"

	"github.com/osquery-syslog/osquery-syslog/internal/jsonstr"
	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc"
)

// fieldColumn maps the journal fields that have a column of their own to
// it. Integer columns hold the field only when it is an integer written in
// canonical form within range; otherwise the column is NULL and the field
// stays in fields, so that no value is ever lost or altered.
func fieldColumn(name []byte) (col int, ok bool) {
	switch string(name) {
	case "_HOSTNAME":
		return colHost, true
	case "PRIORITY":
		return colSeverity, true
	case "SYSLOG_FACILITY":
		return colFacility, true
	case "SYSLOG_IDENTIFIER":
		return colIdentifier, true
	case "_PID":
		return colPID, true
	case "_UID":
		return colUID, true
	case "_GID":
		return colGID, true
	case "_COMM":
		return colComm, true
	case "_EXE":
		return colExe, true
	case "_CMDLINE":
		return colCmdline, true
	case "_SYSTEMD_UNIT":
		return colUnit, true
	case "_BOOT_ID":
		return colBootID, true
	case "_TRANSPORT":
		return colTransport, true
	case "MESSAGE":
		return colMessage, true
	}
	return 0, false
}

// kv is a field kept for the fields column: offsets into the entry text.
type kv struct{ name, value span }

type span struct{ off, end int }

// mapper turns raw entries into rows. It reuses its scratch space, so one
// mapper serves one goroutine.
type mapper struct {
	maxLine int    // longest message kept, in bytes (0 = no limit)
	others  []kv   // fields without a column, in entry order
	done    []bool // others already written (grouping repeated names)
	js      []byte // fields JSON under construction
	syslogP []byte // SYSLOG_PID, for the tag
	set     [numColumns]bool
}

// row maps e into values (numColumns long) and returns the number of bytes of
// field data it carried. now is the ingestion time.
func (m *mapper) row(e rawEntry, values []any) (truncated bool, err error) {
	// One string (a copy: the reader reuses its buffer) holds the cursor
	// and every field; the text columns are substrings of it, which saves
	// an allocation per column.
	text := string(e.cursorAndData)
	base := len(e.cursor)
	for i := range values {
		values[i] = nil
	}
	m.set = [numColumns]bool{}
	m.others = m.others[:0]
	m.syslogP = nil
	var ident, comm, pid string
	rt := int64(e.realtime)
	values[colEventTime] = rt / 1e6
	values[colEventTimeUsec] = rt
	values[colCursor] = text[:base]

	data := e.data
	off := base
	for len(data) > 0 {
		name, value, rest, err := field(data)
		if err != nil {
			return false, err
		}
		nOff := off + 4
		vOff := nOff + len(name) + 1
		if value == nil {
			vOff = nOff + len(name)
		}
		f := kv{name: span{nOff, nOff + len(name)}, value: span{vOff, vOff + len(value)}}
		off += 4 + (len(data) - 4 - len(rest))
		data = rest
		if string(name) == "SYSLOG_PID" {
			m.syslogP = value
		}
		col, ok := fieldColumn(name)
		if !ok || m.set[col] {
			m.others = append(m.others, f)
			continue
		}
		v := text[f.value.off:f.value.end]
		switch col {
		case colSeverity:
			n, ok := canonInt(value, 0, 7)
			if !ok {
				m.others = append(m.others, f)
				continue
			}
			values[col] = n
		case colFacility:
			n, ok := canonInt(value, 0, 23)
			if !ok {
				m.others = append(m.others, f)
				continue
			}
			values[col] = facilityNames[n]
		case colPID, colUID, colGID:
			n, ok := canonInt(value, 0, 1<<32-1)
			if !ok {
				m.others = append(m.others, f)
				continue
			}
			values[col] = n
			if col == colPID {
				pid = v
			}
		case colMessage:
			if m.maxLine > 0 {
				v, truncated = eventsrc.Truncate(v, m.maxLine)
			}
			values[col] = v
		default:
			values[col] = v
			switch col {
			case colIdentifier:
				ident = v
			case colComm:
				comm = v
			}
		}
		m.set[col] = true
	}
	if len(m.syslogP) > 0 {
		pid = string(m.syslogP)
	}
	values[colTag] = tag(ident, comm, pid)
	values[colFields] = m.fieldsJSON(text, e.monotonic)
	if truncated {
		values[colTruncated] = int64(1)
	} else {
		values[colTruncated] = int64(0)
	}
	return truncated, nil
}

// tag is the syslog tag of an entry as journalctl's short output and
// rsyslog's imjournal write it: SYSLOG_IDENTIFIER (else _COMM), then
// [SYSLOG_PID] (else [_PID]).
func tag(ident, comm, pid string) any {
	if ident == "" {
		ident = comm
	}
	if ident == "" {
		return nil
	}
	if pid == "" {
		return ident
	}
	return ident + "[" + pid + "]"
}

// fieldsJSON writes the fields without a column, and
// __MONOTONIC_TIMESTAMP, as one JSON object. A name that occurs more than
// once in the entry maps to an array of its values.
func (m *mapper) fieldsJSON(text string, mono uint64) string {
	b := append(m.js[:0], `{"__MONOTONIC_TIMESTAMP":"`...)
	b = strconv.AppendUint(b, mono, 10)
	b = append(b, '"')
	if cap(m.done) < len(m.others) {
		m.done = make([]bool, len(m.others))
	}
	done := m.done[:len(m.others)]
	clear(done)
	str := func(s span) []byte { return unsafeBytes(text[s.off:s.end]) }
	for i, f := range m.others {
		if done[i] {
			continue
		}
		name := str(f.name)
		b = append(b, ',')
		b = jsonstr.Append(b, name, jsonstr.Journal)
		b = append(b, ':')
		dup := false
		for j := i + 1; j < len(m.others); j++ {
			if bytes.Equal(str(m.others[j].name), name) {
				dup = true
				break
			}
		}
		if !dup {
			b = appendJSONValue(b, str(f.value))
			continue
		}
		b = append(b, '[')
		b = appendJSONValue(b, str(f.value))
		for j := i + 1; j < len(m.others); j++ {
			if !done[j] && bytes.Equal(str(m.others[j].name), name) {
				done[j] = true
				b = append(b, ',')
				b = appendJSONValue(b, str(m.others[j].value))
			}
		}
		b = append(b, ']')
	}
	b = append(b, '}')
	m.js = b
	return string(b)
}

func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
