// Package journaltest makes real systemd journal files for tests, without a
// running journald, and reads them back with the reference reader.
//
// Entries are written in the journal export format and piped into
// systemd-journal-remote (`systemd-journal-remote -o FILE.journal -`), which
// stores them with systemd's own journal writer; journalctl
// (`journalctl --file F | --directory D -o json --all`) is the oracle that
// reads them back. Both come from Debian (`make deps`: systemd and
// systemd-journal-remote).
//
// Address fields. An [Entry] is the set of data fields of a journal entry,
// plus the two timestamps, which journal files keep in the entry header
// rather than as data fields:
//
//   - __REALTIME_TIMESTAMP and __MONOTONIC_TIMESTAMP (decimal microseconds)
//     are read by systemd-journal-remote as the entry's timestamps. An entry
//     without __REALTIME_TIMESTAMP is rejected by journal-remote ("Entry is
//     invalid"), and one without __MONOTONIC_TIMESTAMP silently inherits the
//     previous entry's; [Generate] always sets both, [WriteJournal] refuses
//     an entry without a realtime timestamp.
//   - _BOOT_ID is an ordinary data field that journal-remote also copies into
//     the entry header (all zeros when the field is missing); journalctl
//     prints the header's copy.
//   - __CURSOR (and, from systemd 254, __SEQNUM and __SEQNUM_ID) are assigned
//     by the writer: [Read] returns them, [WriteExport] leaves them out
//     (journal-remote ignores a __CURSOR line, and skips with a message a
//     double-underscore field it does not know, such as __SEQNUM on
//     systemd 252).
//   - _SOURCE_REALTIME_TIMESTAMP is an ordinary data field, stored as given.
//
// systemd-journal-remote adds no other field and rewrites none: every data
// field of an entry is stored byte for byte (it compresses large values in
// the file, which readers undo). A field that occurs more than once in an
// entry cannot be expressed by [Entry]; [Read] keeps its first value, as
// sd_journal_get_data does.
//
// Appending: systemd-journal-remote opens an existing output file and appends
// to it (sequence numbers continue), so [WriteJournal] on an existing path
// appends. It accepts realtime timestamps older than the file's last entry
// too; [Generate] keeps them increasing across calls anyway. But when the
// file's last entry is later than the current time (or the file is damaged
// or was not closed), journal-remote moves it aside as
// NAME@<seqnum ID>-<time>.journal~ and starts a new file; WriteJournal
// reports that as an error, and Generate never writes future timestamps.
// journal-remote also rotates by itself when a file's header limits are
// reached (with Generate's entries, after about 80,000 entries or 40 MB):
// it archives the file as NAME@<seqnum ID>-<seqnum>-<time>.journal in the
// same directory and continues in a new NAME.journal, so read large
// journals by directory.
//
// Rotation on demand: [Archive] renames a file to the name journald gives
// an archived file and marks it archived; the next WriteJournal to the old
// path starts a new file.
package journaltest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// Entry is one journal entry: field name -> value. Values are bytes, since a
// journal field may hold binary data.
type Entry map[string][]byte

// Address fields (see the package doc).
const (
	FieldCursor    = "__CURSOR"
	FieldRealtime  = "__REALTIME_TIMESTAMP"
	FieldMonotonic = "__MONOTONIC_TIMESTAMP"
	FieldBootID    = "_BOOT_ID"
)

// writerFields are assigned by the journal writer: never exported, and not
// compared by [Diff].
var writerFields = map[string]bool{FieldCursor: true, "__SEQNUM": true, "__SEQNUM_ID": true}

// remoteCandidates are where Debian and Fedora install systemd-journal-remote
// (it is not on PATH).
var remoteCandidates = []string{
	"systemd-journal-remote",
	"/lib/systemd/systemd-journal-remote",
	"/usr/lib/systemd/systemd-journal-remote",
}

func journalRemote() (string, error) {
	for _, c := range remoteCandidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", errors.New("systemd-journal-remote not found (Debian package systemd-journal-remote; run `make deps`)")
}

func journalctl() (string, error) {
	p, err := exec.LookPath("journalctl")
	if err != nil {
		return "", errors.New("journalctl not found (Debian package systemd; run `make deps`)")
	}
	return p, nil
}

// Available reports whether systemd-journal-remote and journalctl exist. Tests
// skip when they do not, and fail instead when CI is set.
func Available() error {
	_, errRemote := journalRemote()
	_, errCtl := journalctl()
	return errors.Join(errRemote, errCtl)
}

// Require skips t when the journal tools are missing, and fails it when the
// CI environment variable is set: make deps installs them there, so the
// tests must run.
func Require(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("journal tools missing in CI: %v", err)
		}
		t.Skipf("journal tools missing: %v", err)
	}
}

// WriteExport writes es to w in the journal export format: fields in name
// order, the address fields first, writer-assigned fields (__CURSOR,
// __SEQNUM, __SEQNUM_ID) left out. A value that is not printable UTF-8 on one
// line (a newline, another control character, invalid UTF-8) is written in
// the binary-safe form: the name, a newline, the length as a little-endian
// uint64, the bytes and a newline.
func WriteExport(w io.Writer, es []Entry) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var size [8]byte
	for i, e := range es {
		for _, name := range exportOrder(e) {
			if !validName(name) {
				return fmt.Errorf("writing entry %d: invalid field name %q", i, name)
			}
			v := e[name]
			if textSafe(v) {
				bw.WriteString(name)
				bw.WriteByte('=')
				bw.Write(v)
				bw.WriteByte('\n')
				continue
			}
			bw.WriteString(name)
			bw.WriteByte('\n')
			binary.LittleEndian.PutUint64(size[:], uint64(len(v)))
			bw.Write(size[:])
			bw.Write(v)
			bw.WriteByte('\n')
		}
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing journal export: %w", err)
	}
	return nil
}

// exportOrder lists e's exported fields: timestamps first, then by name.
func exportOrder(e Entry) []string {
	names := make([]string, 0, len(e))
	for name := range e {
		if !writerFields[name] && name != FieldRealtime && name != FieldMonotonic {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var head []string
	for _, name := range []string{FieldRealtime, FieldMonotonic} {
		if _, ok := e[name]; ok {
			head = append(head, name)
		}
	}
	return append(head, names...)
}

// validName: journal field names are upper-case letters, digits and
// underscores, not starting with a digit (the double-underscore address
// fields included).
func validName(name string) bool {
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// textSafe reports whether v can be written as NAME=value: valid UTF-8 with
// no control characters (the newline in particular).
func textSafe(v []byte) bool {
	for _, c := range v {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return utf8.Valid(v)
}

var finishedRE = regexp.MustCompile(`Finishing after writing (\d+) entries`)

// WriteJournal stores es in the journal file path (which must end in
// .journal) with systemd-journal-remote, creating the file and its directory
// if missing and appending to the file if it exists. journal-remote skips an
// invalid entry with only a message and exit status 0, so WriteJournal checks
// the number of entries it reports written against len(es).
func WriteJournal(path string, es []Entry) error {
	remote, err := journalRemote()
	if err != nil {
		return err
	}
	if !strings.HasSuffix(path, ".journal") {
		return fmt.Errorf("writing journal %s: the name must end in .journal", path)
	}
	for i, e := range es {
		if len(e[FieldRealtime]) == 0 {
			return fmt.Errorf("writing journal %s: entry %d has no %s", path, i, FieldRealtime)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing journal %s: %w", path, err)
	}
	cmd := exec.Command(remote, "--output="+path, "--split-mode=none", "-")
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("writing journal %s: %w", path, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting systemd-journal-remote: %w", err)
	}
	werr := WriteExport(stdin, es)
	cerr := stdin.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("systemd-journal-remote -o %s: %w: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	if err := errors.Join(werr, cerr); err != nil {
		return fmt.Errorf("writing journal %s: %w", path, err)
	}
	if bytes.Contains(stderr.Bytes(), []byte("renaming and replacing")) {
		return fmt.Errorf("systemd-journal-remote -o %s: moved the existing file aside as %s~ instead of appending (its last entry is later than now, or it is damaged): %s",
			path, strings.TrimSuffix(filepath.Base(path), ".journal")+"@...journal", strings.TrimSpace(stderr.String()))
	}
	m := finishedRE.FindSubmatch(stderr.Bytes())
	if m == nil {
		return fmt.Errorf("systemd-journal-remote -o %s: no entry count in its output: %s", path, strings.TrimSpace(stderr.String()))
	}
	if n, _ := strconv.Atoi(string(m[1])); n != len(es) {
		return fmt.Errorf("systemd-journal-remote -o %s: wrote %d of %d entries: %s", path, n, len(es), strings.TrimSpace(stderr.String()))
	}
	return nil
}

// Read returns every entry of a journal file, or of the journal files in a
// directory, as journalctl reads them (`journalctl --file F` or
// `--directory D`, `-o json --all`), in journalctl's order. Values that
// journalctl prints as arrays of numbers (binary data) are decoded back to
// bytes; each entry also holds __CURSOR, __REALTIME_TIMESTAMP,
// __MONOTONIC_TIMESTAMP and _BOOT_ID.
func Read(pathOrDir string) ([]Entry, error) {
	ctl, err := journalctl()
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(pathOrDir)
	if err != nil {
		return nil, fmt.Errorf("reading journal: %w", err)
	}
	source := "--file=" + pathOrDir
	if st.IsDir() {
		source = "--directory=" + pathOrDir
	}
	cmd := exec.Command(ctl, source, "--output=json", "--all", "--no-pager", "--quiet")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("reading journal %s: %w", pathOrDir, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting journalctl: %w", err)
	}
	es, derr := ParseJSON(out)
	if derr != nil {
		_, _ = io.Copy(io.Discard, out)
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("journalctl %s: %w: %s", source, err, strings.TrimSpace(stderr.String()))
	}
	if derr != nil {
		return nil, fmt.Errorf("journalctl %s: %w", source, derr)
	}
	return es, nil
}

// ParseJSON decodes entries in journalctl's json format (`-o json`), as
// [Read] does: one object per entry; a value is a string, an array of
// numbers (a binary value), an array of values (a field with several values:
// the first is kept) or null (a value journalctl does not show; never with
// --all), which is an error. Test data kept as JSON lines reads with it.
func ParseJSON(r io.Reader) ([]Entry, error) {
	dec := json.NewDecoder(r)
	var es []Entry
	for {
		var raw map[string]json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			return es, nil
		} else if err != nil {
			return es, fmt.Errorf("decoding entry %d: %w", len(es), err)
		}
		e := make(Entry, len(raw))
		for name, rv := range raw {
			v, err := decodeValue(rv)
			if err != nil {
				return es, fmt.Errorf("decoding entry %d field %s: %w", len(es), name, err)
			}
			e[name] = v
		}
		es = append(es, e)
	}
}

func decodeValue(rv json.RawMessage) ([]byte, error) {
	rv = bytes.TrimSpace(rv)
	switch {
	case len(rv) == 0:
		return nil, errors.New("empty value")
	case rv[0] == '"':
		var s string
		err := json.Unmarshal(rv, &s)
		return []byte(s), err
	case bytes.Equal(rv, []byte("null")):
		return nil, errors.New("value not shown (null)")
	case rv[0] == '[':
		var items []json.RawMessage
		if err := json.Unmarshal(rv, &items); err != nil {
			return nil, err
		}
		if len(items) > 0 {
			if first := bytes.TrimSpace(items[0]); first[0] == '"' || first[0] == '[' {
				return decodeValue(first) // several values
			}
		}
		b := make([]byte, len(items))
		for i, it := range items {
			n, err := strconv.ParseUint(string(bytes.TrimSpace(it)), 10, 8)
			if err != nil {
				return nil, fmt.Errorf("byte %d: %w", i, err)
			}
			b[i] = byte(n)
		}
		return b, nil
	}
	return nil, fmt.Errorf("unexpected value %.40s", rv)
}

// Diff lists how got differs from want: every field of want that got lacks
// or holds with another value, and every field of got that want lacks, apart
// from the writer-assigned __CURSOR, __SEQNUM and __SEQNUM_ID. Empty when
// they are equal.
func Diff(want, got Entry) []string {
	var d []string
	for _, name := range sortedNames(want) {
		g, ok := got[name]
		switch {
		case !ok:
			d = append(d, fmt.Sprintf("%s: missing, want %s", name, show(want[name])))
		case !bytes.Equal(g, want[name]):
			d = append(d, fmt.Sprintf("%s: got %s, want %s", name, show(g), show(want[name])))
		}
	}
	for _, name := range sortedNames(got) {
		if _, ok := want[name]; !ok && !writerFields[name] {
			d = append(d, fmt.Sprintf("%s: unexpected %s", name, show(got[name])))
		}
	}
	return d
}

func sortedNames(e Entry) []string {
	names := make([]string, 0, len(e))
	for name := range e {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// show quotes a value for a message, shortened beyond 80 bytes.
func show(v []byte) string {
	if len(v) > 80 {
		return fmt.Sprintf("%q... (%d bytes)", v[:80], len(v))
	}
	return fmt.Sprintf("%q", v)
}

// Journal file header offsets (systemd's Journal File Format): the state
// byte, the sequence number ID, and the head entry's sequence number and
// realtime timestamp.
const (
	headerSignature      = "LPKSHHRH"
	offState             = 16
	offSeqnumID          = 72
	offHeadSeqnum        = 168
	offHeadRealtime      = 184
	headerMinSize        = 208
	stateArchived   byte = 2
)

// Archive rotates the journal file path the way journald does: it marks the
// file archived in its header and renames it to
// <name>@<seqnum ID>-<head seqnum>-<head realtime>.journal in the same
// directory, which is how journald names an archived file. It returns the
// new path. The next [WriteJournal] to path starts a new file; a reader of
// the directory sees both.
func Archive(path string) (string, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return "", fmt.Errorf("archiving journal: %w", err)
	}
	defer f.Close()
	h := make([]byte, headerMinSize)
	if _, err := io.ReadFull(f, h); err != nil {
		return "", fmt.Errorf("archiving journal %s: reading header: %w", path, err)
	}
	if string(h[:8]) != headerSignature {
		return "", fmt.Errorf("archiving journal %s: not a journal file", path)
	}
	if _, err := f.WriteAt([]byte{stateArchived}, offState); err != nil {
		return "", fmt.Errorf("archiving journal %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("archiving journal %s: %w", path, err)
	}
	base := strings.TrimSuffix(path, ".journal")
	archived := fmt.Sprintf("%s@%x-%016x-%016x.journal", base, h[offSeqnumID:offSeqnumID+16],
		binary.LittleEndian.Uint64(h[offHeadSeqnum:]), binary.LittleEndian.Uint64(h[offHeadRealtime:]))
	if err := os.Rename(path, archived); err != nil {
		return "", fmt.Errorf("archiving journal: %w", err)
	}
	return archived, nil
}
