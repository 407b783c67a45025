// Package journalcheck rebuilds journal entries from journal_messages rows,
// so that tests can compare the table with what journalctl reads from the
// same files (test/journaltest.Read).
package journalcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/osquery-syslog/osquery-syslog/tables/journal"
	"github.com/osquery-syslog/osquery-syslog/test/journaltest"
)

// columnFields maps the columns that hold one journal field each to it.
var columnFields = map[string]string{
	"host":            "_HOSTNAME",
	"identifier":      "SYSLOG_IDENTIFIER",
	"pid":             "_PID",
	"uid":             "_UID",
	"gid":             "_GID",
	"comm":            "_COMM",
	"exe":             "_EXE",
	"cmdline":         "_CMDLINE",
	"systemd_unit":    "_SYSTEMD_UNIT",
	"boot_id":         "_BOOT_ID",
	"transport":       "_TRANSPORT",
	"message":         "MESSAGE",
	"severity":        "PRIORITY",
	"cursor":          "__CURSOR",
	"event_time_usec": "__REALTIME_TIMESTAMP",
}

// Entry rebuilds the entry a row (column -> value, as osquery returns it) was
// made from: the columns that hold a field, facility as its number, and the
// fields JSON. An empty column is taken as an absent field (osquery shows
// NULL as ""). A field given several values in fields keeps its first, as
// journaltest.Read does.
func Entry(row map[string]string) (journaltest.Entry, error) {
	e := journaltest.Entry{}
	for col, name := range columnFields {
		if v := row[col]; v != "" {
			e[name] = []byte(v)
		}
	}
	if f := row["facility"]; f != "" {
		n, ok := journal.FacilityCode(f)
		if !ok {
			return nil, fmt.Errorf("unknown facility %q", f)
		}
		e["SYSLOG_FACILITY"] = []byte(strconv.Itoa(n))
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(row["fields"]), &fields); err != nil {
		return nil, fmt.Errorf("fields: %w", err)
	}
	for name, raw := range fields {
		v, err := value(raw)
		if err != nil {
			return nil, fmt.Errorf("fields.%s: %w", name, err)
		}
		if _, ok := e[name]; !ok {
			e[name] = v
		}
	}
	return e, nil
}

// value decodes a fields value: a string, an array of byte values, or an
// array of such values (the first is returned).
func value(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, errors.New("empty")
	}
	if raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return []byte(s), err
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	if len(items) > 0 && (items[0][0] == '"' || items[0][0] == '[') {
		return value(items[0])
	}
	b := make([]byte, len(items))
	for i, it := range items {
		n, err := strconv.ParseUint(string(it), 10, 8)
		if err != nil {
			return nil, err
		}
		b[i] = byte(n)
	}
	return b, nil
}

// emptyAsAbsent lists the fields of columns where an empty value and no
// field read the same through osquery.
func emptyAsAbsent(name string) bool {
	for _, f := range columnFields {
		if f == name {
			return true
		}
	}
	return false
}

// Diff lists how the entry rebuilt from row differs from want (an entry of
// journaltest.Read): every field, with __CURSOR compared too.
func Diff(want journaltest.Entry, row map[string]string) []string {
	got, err := Entry(row)
	if err != nil {
		return []string{err.Error()}
	}
	w := journaltest.Entry{}
	for k, v := range want {
		if len(v) == 0 && emptyAsAbsent(k) {
			continue
		}
		w[k] = v
	}
	d := journaltest.Diff(w, got)
	if !bytes.Equal(want[journaltest.FieldCursor], got[journaltest.FieldCursor]) {
		d = append(d, fmt.Sprintf("__CURSOR: got %q, want %q", got[journaltest.FieldCursor], want[journaltest.FieldCursor]))
	}
	slices.Sort(d)
	return d
}
