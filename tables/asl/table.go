// Package asl serves asl_messages: the records of a macOS ASL store
// (/var/log/asl/*.asl), read directly from the files with the pure-Go reader
// of package aslfile. osquery's own asl table goes through Apple's deprecated
// C API and exists only on macOS; this one reads a live store on a Mac and a
// store copied from one anywhere (incident response).
//
// Columns are osquery's asl columns plus path. Constraints on time,
// time_nano_sec, level, pid, uid, gid, ref_pid (=, <, <=, >, >=) and on host,
// sender, facility, message, ref_proc and path (= and LIKE) are evaluated
// while reading, before a row is built; time and level ranges also skip whole
// files, and time ranges start and stop the walk of a file early, once the
// table has read the file completely and seen that its records are in time
// order (see summary). The package has no cgo dependency.
package asl

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/stats"
	"github.com/osquery-syslog/osquery-syslog/tables/asl/aslfile"
)

// TableName must differ from osquery's built-in asl.
const TableName = "asl_messages"

// StatsSource names the counters of this table in osquery_syslog_stats.
const StatsSource = "asl"

// DefaultStorePath is where macOS keeps its ASL store.
const DefaultStorePath = "/var/log/asl"

// Columns of asl_messages: osquery's asl columns (all but extra marked
// additional, as in osquery's spec) and path.
func Columns() []table.ColumnDefinition {
	add := table.AdditionalColumn()
	d := table.ColumnDescription
	return []table.ColumnDefinition{
		table.IntegerColumn("time", add, d("Unix timestamp (Time); set automatically")),
		table.IntegerColumn("time_nano_sec", add, d("Nanosecond time (TimeNanoSec)")),
		table.TextColumn("host", add, d("Sender's address (Host)")),
		table.TextColumn("sender", add, d("Sender's identification string (Sender); default is process name")),
		table.TextColumn("facility", add, d("Sender's facility (Facility); default is 'user'")),
		table.IntegerColumn("pid", add, d("Sending process ID (PID) as an unsigned 32-bit number; -1 reads 4294967295")),
		table.BigIntColumn("gid", add, d("GID that sent the log message (GID); NULL when unset")),
		table.BigIntColumn("uid", add, d("UID that sent the log message (UID); NULL when unset")),
		table.IntegerColumn("level", add, d("Log level number (Level): 0 emergency .. 7 debug")),
		table.TextColumn("message", add, d("Message text (Message)")),
		table.IntegerColumn("ref_pid", add, d("Reference PID for messages proxied by launchd (RefPID); NULL when unset")),
		table.TextColumn("ref_proc", add, d("Reference process for messages proxied by launchd (RefProc)")),
		table.TextColumn("extra", d("Every other key of the message (ASLMessageID, ReadUID, ReadGID, Session and the extra pairs) as a JSON object of strings, written as osquery writes it")),
		table.TextColumn("path", add, d("The store file the record was read from")),
	}
}

var columnNames = func() []string {
	var out []string
	for _, c := range Columns() {
		out = append(out, c.Name)
	}
	return out
}()

// Config configures the table.
type Config struct {
	// StorePath is a store directory (its *.asl files are read, in name
	// order) or a single store file.
	StorePath string
	// Registry receives the table's counters under StatsSource, created at
	// the first query (so a process that never queries the table does not
	// show a live, empty source hiding another process's snapshot).
	Registry *stats.Registry
	Logger   *slog.Logger
}

// Table serves asl_messages.
type Table struct {
	cfg   Config
	log   *slog.Logger
	mu    sync.Mutex
	files map[string]*fileState // by path
}

// New returns the table over cfg.StorePath.
func New(cfg Config) *Table {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = stats.NewRegistry()
	}
	return &Table{cfg: cfg, log: log, files: map[string]*fileState{}}
}

func (t *Table) stats() *stats.Source { return t.cfg.Registry.Source(StatsSource) }

// Description of the table.
const Description = "Records of a macOS Apple System Log store (--asl_store_path, default /var/log/asl), " +
	"read directly from the files; osquery's asl columns plus path."

// fileState is what the table remembers of one store file between queries.
type fileState struct {
	version fileVersion
	sum     *summary           // nil until one query read the whole file
	damaged map[int64]struct{} // damage already counted, by offset
}

// fileVersion tells whether a file changed since it was last read.
type fileVersion struct {
	size  int64
	mtime int64
}

// summary describes a completely read file version: its time range and
// levels, whether its records are in time order along the chain, and
// checkpoints into the chain. It lets later queries skip the file or read
// only part of it. A file in which some record's extra pairs repeat a column
// key (never written by Apple's writer) gets no summary use at all: its rows
// then need not match the fixed fields.
type summary struct {
	records    int64
	minTime    uint64
	maxTime    uint64
	levels     uint64 // bit min(level, 63)
	sorted     bool   // times never decrease along the chain
	unsafe     bool   // see above; also set for times above MaxInt64
	checkpoint []checkpoint
}

type checkpoint struct {
	offset int64
	time   uint64
}

const checkpointEvery = 1024

// mayMatch reports whether a file with this summary can hold a row f keeps.
func (s *summary) mayMatch(f *filter) bool {
	if s.unsafe {
		return true
	}
	if s.records == 0 {
		return false
	}
	if t := f.num[numTime]; t.set && (t.hi < 0 || uint64(t.hi) < s.minTime || (t.lo > 0 && uint64(t.lo) > s.maxTime)) {
		return false
	}
	if l := f.num[numLevel]; l.set {
		var allowed uint64
		for v := max(l.lo, 0); v <= min(l.hi, 63); v++ {
			allowed |= 1 << v
		}
		if allowed&s.levels == 0 {
			return false
		}
	}
	return true
}

// start returns where a walk for f may begin: the last checkpoint whose time
// is below the lower time bound (every record before it is older still).
func (s *summary) start(f *filter) int64 {
	t := f.num[numTime]
	if s.unsafe || !s.sorted || !t.set || t.lo <= 0 {
		return 0
	}
	i := sort.Search(len(s.checkpoint), func(i int) bool { return s.checkpoint[i].time >= uint64(t.lo) })
	if i == 0 {
		return 0
	}
	return s.checkpoint[i-1].offset
}

// Generate answers a query.
func (t *Table) Generate(ctx context.Context, qc table.QueryContext) ([]map[string]string, error) {
	f := newFilter(Conditions(qc))
	if f.none {
		return nil, nil
	}
	paths, err := t.list()
	if err != nil {
		t.stats().SetError(err)
		return nil, err
	}
	var rows []map[string]string
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return rows, err
		}
		if !f.matchText("path", p) {
			continue
		}
		rows, err = t.scan(ctx, p, f, rows)
		if err != nil {
			return rows, err
		}
	}
	return rows, nil
}

// list returns the store files: StorePath itself if it is a file, else its
// *.asl entries that are regular files (or links to them), sorted by name.
// A store directory that does not exist has no files (the default path on
// a machine that is not a Mac).
func (t *Table) list() ([]string, error) {
	root := t.cfg.StorePath
	fi, err := os.Stat(root)
	if errors.Is(err, fs.ErrNotExist) {
		t.prune(nil)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("--asl_store_path: %w", err)
	}
	if !fi.IsDir() {
		t.prune([]string{root})
		return []string{root}, nil
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("--asl_store_path: reading store directory: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".asl") {
			continue
		}
		p := filepath.Join(root, e.Name())
		if !e.Type().IsRegular() {
			if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
				continue
			}
		}
		out = append(out, p)
	}
	t.prune(out)
	return out, nil
}

// prune forgets files that left the store.
func (t *Table) prune(keep []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	set := make(map[string]bool, len(keep))
	for _, p := range keep {
		set[p] = true
	}
	for p := range t.files {
		if !set[p] {
			delete(t.files, p)
		}
	}
}

// state returns the remembered state of path at version v, resetting it if
// the file changed.
func (t *Table) state(path string, v fileVersion) (*summary, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.files[path]
	if st == nil || st.version != v {
		st = &fileState{version: v, damaged: map[int64]struct{}{}}
		t.files[path] = st
		return nil, false
	}
	return st.sum, st.sum != nil
}

func (t *Table) storeSummary(path string, v fileVersion, s *summary) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st := t.files[path]; st != nil && st.version == v {
		st.sum = s
	}
}

// countDamage counts damage at off of path once per file version.
func (t *Table) countDamage(path string, v fileVersion, off int64, err error) {
	t.mu.Lock()
	st := t.files[path]
	fresh := false
	if st != nil && st.version == v {
		if _, seen := st.damaged[off]; !seen {
			st.damaged[off] = struct{}{}
			fresh = true
		}
	}
	t.mu.Unlock()
	if !fresh {
		return
	}
	t.stats().ParseErrors.Add(1)
	t.stats().SetError(fmt.Errorf("%s: %w", path, err))
	t.log.Warn("damaged asl store file; skipped what is unreadable", "path", path, "err", err)
}

// scan appends the rows of one file that f keeps.
func (t *Table) scan(ctx context.Context, path string, f *filter, rows []map[string]string) ([]map[string]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		t.stats().SetError(fmt.Errorf("opening store file: %w", err))
		t.log.Warn("cannot open asl store file", "path", path, "err", err)
		return rows, nil
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		t.stats().SetError(fmt.Errorf("opening store file: %w", err))
		return rows, nil
	}
	ver := fileVersion{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if ver.size == 0 {
		return rows, nil // created, header not written yet
	}
	sum, known := t.state(path, ver)
	if known && !sum.mayMatch(f) {
		return rows, nil
	}
	r, err := aslfile.NewReader(fh, ver.size)
	if err != nil {
		var d *aslfile.DamageError
		off := int64(0)
		if errors.As(err, &d) {
			off = d.Offset
		}
		t.countDamage(path, ver, off, err)
		return rows, nil
	}
	partial := false
	if known {
		if off := sum.start(f); off != 0 {
			r.ResumeAt(off)
			partial = true
		}
	}
	stopAt := uint64(0) // 0 = no early stop
	if tb := f.num[numTime]; known && !sum.unsafe && sum.sorted && tb.set && tb.hi >= 0 {
		stopAt = uint64(tb.hi) + 1
	}
	ns := &summary{minTime: ^uint64(0), sorted: true}
	var (
		rec  aslfile.Record
		msg  aslfile.Message
		keys []aslfile.Pair
		prev uint64
		rb   = newRowBuilder()
	)
	defer func() {
		t.stats().LinesRead.Add(r.Records())
		t.stats().BytesRead.Add(r.BytesRead())
	}()
	for r.Next(&rec) {
		if r.Records()%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return rows, err
			}
		}
		if stopAt != 0 && rec.Time >= stopAt {
			partial = true
			break
		}
		if !partial {
			ns.add(&rec, prev)
			prev = rec.Time
		}
		unsafe, err := overridesColumn(r, &rec)
		if err != nil {
			t.countDamage(path, ver, rec.Offset, err)
			continue
		}
		if unsafe {
			ns.unsafe = true
		} else if !keep(r, &rec, f) {
			continue
		}
		if err := r.Decode(&rec, &msg); err != nil {
			t.countDamage(path, ver, rec.Offset, err)
			continue
		}
		var row map[string]string
		if unsafe {
			keys = msg.Keys(keys[:0])
			row = fullRow(keys)
		} else {
			row = rb.build(&msg)
		}
		row["path"] = path
		rows = append(rows, row)
	}
	if err := r.Err(); err != nil {
		var d *aslfile.DamageError
		off := int64(-1)
		if errors.As(err, &d) {
			off = d.Offset
		}
		t.countDamage(path, ver, off, err)
	}
	if !partial {
		t.storeSummary(path, ver, ns)
	}
	return rows, nil
}

// fullRow is Row with every column present: osqueryd reads a missing key as
// ” (text) or NULL (numbers), and an empty string for a number as NULL
// too; every column is present so that rows look alike whoever serves them.
func fullRow(keys []aslfile.Pair) map[string]string {
	row := Row(keys)
	for _, c := range columnNames {
		if _, ok := row[c]; !ok {
			row[c] = ""
		}
	}
	return row
}

// keep applies f to a record before its strings are all resolved: the
// numeric conditions on the fixed fields, then the text conditions on the
// strings they name. A string that cannot be resolved keeps the record, so
// that Decode finds and counts the damage.
func keep(r *aslfile.Reader, rec *aslfile.Record, f *filter) bool {
	if !f.matchFixed(rec) {
		return false
	}
	for col := range f.text {
		if col == "path" {
			continue
		}
		s, _, err := r.String(textRef(rec, col))
		if err != nil {
			return true
		}
		if !f.matchText(col, s) {
			return false
		}
	}
	return true
}

// overridesColumn reports whether an extra pair of rec uses the ASL key of
// a column: the pair then replaces the fixed field in the row (Apple's
// reader sets keys in order), so conditions on fixed fields do not apply.
// Apple's writer stores those keys only in the fixed fields.
func overridesColumn(r *aslfile.Reader, rec *aslfile.Record) (bool, error) {
	for i := 0; i+1 < len(rec.KV); i += 2 {
		k, _, err := r.String(rec.KV[i])
		if err != nil {
			return false, err
		}
		if _, ok := keyColumn[k]; ok {
			return true, nil
		}
	}
	return false, nil
}

func (s *summary) add(rec *aslfile.Record, prev uint64) {
	if s.records%checkpointEvery == 0 {
		s.checkpoint = append(s.checkpoint, checkpoint{offset: rec.Offset, time: rec.Time})
	}
	if s.records > 0 && rec.Time < prev {
		s.sorted = false
	}
	s.records++
	s.minTime = min(s.minTime, rec.Time)
	s.maxTime = max(s.maxTime, rec.Time)
	s.levels |= 1 << min(rec.Level, 63)
	if rec.Time > 1<<63-1 {
		s.unsafe = true
	}
}
