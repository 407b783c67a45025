package journal

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/stats"
	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc"
)

// Config is what Run reads and from where.
type Config struct {
	Path    string     // directory of journal files or one file; "" = the system journal
	Units   []string   // _SYSTEMD_UNIT values to keep (empty = all)
	Match   [][]string // groups of FIELD=value terms, ORed (see ParseMatch)
	Since   Since      // where the first start reads from
	MaxLine int        // longest MESSAGE kept, in bytes (eventsrc.DefaultMaxLine)

	BatchSize      int           // entries read at once, and per transaction at most (eventsrc.DefaultBatchSize)
	PollInterval   time.Duration // longest wait for journal changes (DefaultPollInterval)
	ExpireInterval time.Duration // how often age and count limits are applied, and damaged files looked for (eventsrc.DefaultExpireInterval)
}

// DefaultPollInterval is how long the reader waits for journal changes at
// most: sd_journal_wait returns as soon as a file changes, so this only
// bounds how late a stop is noticed.
const DefaultPollInterval = 500 * time.Millisecond

func (c Config) withDefaults() Config {
	if c.MaxLine <= 0 {
		c.MaxLine = eventsrc.DefaultMaxLine
	}
	if c.BatchSize <= 0 {
		c.BatchSize = eventsrc.DefaultBatchSize
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.ExpireInterval <= 0 {
		c.ExpireInterval = eventsrc.DefaultExpireInterval
	}
	return c
}

// stateNS owns the event-store state keys of the journal source: the
// cursor of the last stored entry, one key per --journal_path.
var stateNS = eventstore.NewNamespace("journal")

// StateKeyPrefix prefixes the state keys that hold the cursors.
var StateKeyPrefix = stateNS.Prefix()

func stateKey(path string) string { return stateNS.Key("cursor:" + path) }

// StateReader reads the cursor stored by an earlier run.
type StateReader interface {
	States(prefix string) (map[string]string, error)
}

// Source states shown in osquery_syslog_stats.
const (
	StateReading  = "reading"
	StateDisabled = "disabled"
)

// Reader is an open journal, positioned after the cursor stored with the
// last batch (or at Config.Since on a first start), with the sink its
// entries go to.
type Reader struct {
	s *source
	r *reader
}

// Open opens the journal and positions it: the setup of the source, whose
// errors (a missing --journal_path, a store that cannot be read) come back
// at once. When the journal cannot be read on this host (no libsystemd, a
// build without cgo, macOS) it records why as the source's state and
// returns an error wrapping ErrUnavailable.
func Open(cfg Config, sink eventsrc.Sink, states StateReader, src *stats.Source, log *slog.Logger) (*Reader, error) {
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.Default()
	}
	s := &source{cfg: cfg, sink: sink, src: src, log: log, key: stateKey(cfg.Path), m: mapper{maxLine: cfg.MaxLine}}
	r, err := s.open(states)
	if errors.Is(err, ErrUnavailable) {
		src.SetState("unavailable: " + err.Error())
		log.Warn("journal not readable here; journal_messages stays empty", "err", err)
		return nil, err
	}
	if err != nil {
		src.Errors.Add(1)
		src.SetError(err)
		src.SetState("failed: " + err.Error())
		return nil, err
	}
	src.SetState(StateReading)
	return &Reader{s: s, r: r}, nil
}

// Run stores the entries into the sink as journald writes them, until ctx
// is done, and closes the journal.
func (j *Reader) Run(ctx context.Context) error {
	defer j.r.close()
	return j.s.run(ctx, j.r, true)
}

// ReadAll stores every entry there is, and closes the journal: the query
// subcommand reads a copied journal (--journal_path) with it.
func (j *Reader) ReadAll(ctx context.Context) error {
	defer j.r.close()
	return j.s.run(ctx, j.r, false)
}

// Run is Open and Reader.Run, except that where the journal cannot be read
// it returns nil (the reason is the source's state): the table stays
// empty, the process runs.
func Run(ctx context.Context, cfg Config, sink eventsrc.Sink, states StateReader, src *stats.Source, log *slog.Logger) error {
	return openAnd(ctx, cfg, sink, states, src, log, (*Reader).Run)
}

// ReadAll is Open and Reader.ReadAll, returning nil where the journal
// cannot be read, as Run does.
func ReadAll(ctx context.Context, cfg Config, sink eventsrc.Sink, states StateReader, src *stats.Source, log *slog.Logger) error {
	return openAnd(ctx, cfg, sink, states, src, log, (*Reader).ReadAll)
}

func openAnd(ctx context.Context, cfg Config, sink eventsrc.Sink, states StateReader, src *stats.Source, log *slog.Logger, read func(*Reader, context.Context) error) error {
	j, err := Open(cfg, sink, states, src, log)
	if errors.Is(err, ErrUnavailable) {
		return nil
	}
	if err != nil {
		return err
	}
	return read(j, ctx)
}

type source struct {
	cfg  Config
	sink eventsrc.Sink
	src  *stats.Source
	log  *slog.Logger
	key  string
	m    mapper
	// cursor of the last entry stored before this run ("" on a first start)
	cursor string
	// damaged journal files already counted, path -> reason
	damaged map[string]string
}

// open opens the journal, applies the matches and positions the reader.
func (s *source) open(states StateReader) (*reader, error) {
	r, err := openReader(s.cfg.Path)
	if err != nil {
		return nil, err
	}
	if err := applyMatches(r, s.cfg.Units, s.cfg.Match); err != nil {
		r.close()
		return nil, err
	}
	m, err := states.States(s.key)
	if err != nil {
		r.close()
		return nil, fmt.Errorf("reading the stored journal cursor: %w", err)
	}
	s.cursor = m[s.key]
	if err := s.position(r); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// applyMatches adds the unit and field matches: each --journal_match group
// is ANDed with the units (sd_journal ORs values of the same field and ANDs
// different fields), and the groups are ORed.
func applyMatches(r *reader, units []string, groups [][]string) error {
	if len(groups) == 0 {
		groups = [][]string{nil}
	}
	for i, g := range groups {
		if i > 0 {
			if err := r.addDisjunction(); err != nil {
				return err
			}
		}
		for _, u := range units {
			if err := r.addMatch("_SYSTEMD_UNIT=" + u); err != nil {
				return err
			}
		}
		for _, t := range g {
			if err := r.addMatch(t); err != nil {
				return err
			}
		}
	}
	return nil
}

// position seeks after the stored cursor, or to --journal_since on a first
// start.
func (s *source) position(r *reader) error {
	if s.cursor != "" {
		found, err := r.seekAfter(s.cursor)
		if err != nil {
			return err
		}
		if !found {
			s.src.Gaps.Add(1)
			s.log.Warn("stored journal cursor no longer exists (journal vacuumed or rotated away); resuming at the oldest entry still there",
				"cursor", s.cursor)
		}
		return nil
	}
	switch s.cfg.Since.Kind {
	case SinceAll:
		return r.seekHead()
	case SinceNow:
		return r.seekTail()
	case SinceTime:
		return r.seekTime(s.cfg.Since.Time)
	}
	id, err := currentBoot()
	if err == nil {
		found, err := r.seekBoot(id)
		if err != nil || found {
			return err
		}
	}
	// The journal does not hold this boot (a copied journal): start at the
	// time this host booted.
	start, err := bootTime()
	if err != nil {
		return r.seekTail()
	}
	return r.seekTime(start)
}

// currentBoot returns this host's boot id.
func currentBoot() ([16]byte, error) {
	var id [16]byte
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return id, err
	}
	h, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(string(b)), "-", ""))
	if err != nil || len(h) != 16 {
		return id, fmt.Errorf("parsing boot id %q", b)
	}
	copy(id[:], h)
	return id, nil
}

// checkFiles counts the journal files that sd_journal skips as damaged,
// each once.
func (s *source) checkFiles() {
	if s.damaged == nil {
		s.damaged = map[string]string{}
	}
	for p, why := range damagedFiles(s.cfg.Path) {
		if s.damaged[p] == why {
			continue
		}
		s.damaged[p] = why
		if why == errUnreadable {
			s.src.Errors.Add(1)
			s.src.SetError(fmt.Errorf("journal file %s skipped: %s", p, why))
			s.log.Warn("journal file not readable; skipped", "path", p, "reason", why)
			continue
		}
		s.src.ParseErrors.Add(1)
		s.src.SetError(fmt.Errorf("damaged journal file %s skipped: %s", p, why))
		s.log.Warn("damaged journal file skipped", "path", p, "reason", why)
	}
}

// run reads entries after r's position and hands them to a writer, which
// stores them in the background, each transaction with the cursor of its
// last entry. It returns when ctx is done or, unless follow, at the end of
// the journal, once everything read is stored.
func (s *source) run(ctx context.Context, r *reader, follow bool) error {
	w := eventsrc.NewWriter(eventsrc.WriterConfig{
		Name:           StreamName,
		Columns:        numColumns,
		BatchSize:      s.cfg.BatchSize,
		ExpireInterval: s.cfg.ExpireInterval,
	}, s.sink, s.src, s.log)
	err := s.read(ctx, r, w, follow)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}

func (s *source) read(ctx context.Context, r *reader, w *eventsrc.Writer, follow bool) error {
	s.checkFiles()
	lastCheck := time.Now()
	for ctx.Err() == nil {
		b, err := r.read(s.cfg.BatchSize)
		if b.skipped > 0 {
			s.src.ParseErrors.Add(int64(b.skipped))
			s.log.Warn("skipped unreadable journal entries", "count", b.skipped)
		}
		if b.count > 0 {
			if err := s.add(w, b); err != nil {
				return err // the store is closed for good
			}
		}
		if err != nil {
			s.src.Errors.Add(1)
			s.src.SetError(err)
			if !follow {
				return err
			}
			s.log.Warn("reading journal failed; retrying", "err", err)
			time.Sleep(s.cfg.PollInterval) // the loop then checks ctx
			continue
		}
		if time.Since(lastCheck) >= s.cfg.ExpireInterval {
			lastCheck = time.Now()
			s.checkFiles()
		}
		if b.atEnd && !follow {
			return nil
		}
		if b.atEnd {
			if err := r.wait(s.cfg.PollInterval); err != nil {
				s.src.Errors.Add(1)
				s.src.SetError(err)
				time.Sleep(s.cfg.PollInterval)
			}
		}
	}
	return nil
}

// add maps b's entries into rows for w, each with its cursor as the state
// stored in the same transaction.
func (s *source) add(w *eventsrc.Writer, b batch) error {
	now := time.Now().Unix()
	data := b.data
	var bytes int64
	for i := 0; i < b.count; i++ {
		e, rest, err := nextEntry(data)
		if err != nil {
			return fmt.Errorf("journal: %w", err) // a bug in jr_read, not bad input
		}
		data = rest
		vals := w.Row()
		truncated, err := s.m.row(e, vals)
		if err != nil {
			return err
		}
		if truncated {
			s.src.TruncatedLines.Add(1)
		}
		bytes += int64(len(e.data))
		// Every row carries its cursor: the writer may commit any prefix
		// of what was added (it wakes at AppendAt rows), and the state
		// stored must be the cursor of the last row of that prefix.
		if err := w.AddState(now, vals, s.key, vals[colCursor].(string)); err != nil {
			return err
		}
	}
	s.src.LinesRead.Add(int64(b.count))
	s.src.BytesRead.Add(bytes)
	return nil
}
