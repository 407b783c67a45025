package journal

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc"
)

// DefaultSince is where a first start reads from by default.
const DefaultSince = "boot"

// Flags are journal_messages' command-line flags; the embedded Retention
// holds --journal_events_expiry and --journal_events_max (Limits).
type Flags struct {
	Disable bool
	Path    string
	Units   string
	Match   string
	Since   string
	MaxLine int
	eventsrc.Retention
}

// Register declares the flags on fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.BoolVar(&f.Disable, "disable_journal", false, "Do not read the systemd journal (journal_messages then serves what is buffered)")
	fs.StringVar(&f.Path, "journal_path", "", "Directory of journal files (or one .journal file) to read into journal_messages, e.g. a copied /var/log/journal; empty = this host's journal (/var/log/journal, /run/log/journal)")
	fs.StringVar(&f.Units, "journal_units", "", "Comma-separated systemd units whose entries are stored (empty = all); a name without a '.' means NAME.service")
	fs.StringVar(&f.Match, "journal_match", "", "journald matches limiting what is stored, as on journalctl's command line: space-separated FIELD=value terms (the same field repeated: any of them; different fields: all), '+' between groups: either group")
	fs.StringVar(&f.Since, "journal_since", DefaultSince, "Where the first start reads from (later starts continue after the stored cursor): boot (the current boot's first entry), all (the oldest entry), now (only new entries), an RFC 3339 time or unix seconds")
	fs.IntVar(&f.MaxLine, "journal_max_line", eventsrc.DefaultMaxLine, "Longest MESSAGE kept, in bytes; longer ones are truncated and flagged")
	f.Retention.Register(fs, "journal")
}

// Validate checks the flags; every message names its flag.
func (f *Flags) Validate() error {
	var errs []error
	if _, err := ParseUnits(f.Units); err != nil {
		errs = append(errs, fmt.Errorf("--journal_units: %w", err))
	}
	if _, err := ParseMatch(f.Match); err != nil {
		errs = append(errs, fmt.Errorf("--journal_match: %w", err))
	}
	if _, err := ParseSince(f.Since); err != nil {
		errs = append(errs, fmt.Errorf("--journal_since: %w", err))
	}
	if err := eventsrc.ValidateMaxLine("journal_max_line", f.MaxLine); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Config returns the reader configuration of valid flags.
func (f *Flags) Config() (Config, error) {
	units, err := ParseUnits(f.Units)
	if err != nil {
		return Config{}, fmt.Errorf("--journal_units: %w", err)
	}
	match, err := ParseMatch(f.Match)
	if err != nil {
		return Config{}, fmt.Errorf("--journal_match: %w", err)
	}
	since, err := ParseSince(f.Since)
	if err != nil {
		return Config{}, fmt.Errorf("--journal_since: %w", err)
	}
	return Config{Path: f.Path, Units: units, Match: match, Since: since, MaxLine: f.MaxLine}, nil
}

// SinceKind is where a first start reads from.
type SinceKind int

const (
	SinceBoot SinceKind = iota // the current boot's first entry
	SinceAll                   // the oldest entry
	SinceNow                   // after the newest entry
	SinceTime                  // the first entry at or after Time
)

// Since is a parsed --journal_since.
type Since struct {
	Kind SinceKind
	Time time.Time // for SinceTime
}

// ParseSince parses boot, all (or head), now (or tail), an RFC 3339 time
// or unix seconds.
func ParseSince(s string) (Since, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "boot", "":
		return Since{Kind: SinceBoot}, nil
	case "all", "head":
		return Since{Kind: SinceAll}, nil
	case "now", "tail":
		return Since{Kind: SinceNow}, nil
	}
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > 1<<40 {
			return Since{}, fmt.Errorf("unix time %d out of range", n)
		}
		return Since{Kind: SinceTime, Time: time.Unix(n, 0)}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return Since{}, fmt.Errorf("%q is not boot, all, now, an RFC 3339 time or unix seconds", s)
	}
	return Since{Kind: SinceTime, Time: t}, nil
}

// ParseUnits splits a comma-separated unit list; a name without a '.'
// gets ".service", as systemctl and journalctl -u assume.
func ParseUnits(s string) ([]string, error) {
	var out []string
	for _, u := range strings.Split(s, ",") {
		u = strings.TrimSpace(u)
		if u == "" {
			continue
		}
		for i := 0; i < len(u); i++ {
			c := u[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(":-_.\\@", c) >= 0) {
				return nil, fmt.Errorf("unit name %q: invalid character %q", u, c)
			}
		}
		if !strings.Contains(u, ".") {
			u += ".service"
		}
		out = append(out, u)
	}
	return out, nil
}

// ParseMatch parses journalctl-style matches into groups that are ORed;
// the terms of a group are FIELD=value strings for sd_journal_add_match.
func ParseMatch(s string) ([][]string, error) {
	var groups [][]string
	var cur []string
	for _, term := range strings.Fields(s) {
		if term == "+" {
			if len(cur) == 0 {
				return nil, errors.New("'+' must stand between two groups of FIELD=value terms")
			}
			groups = append(groups, cur)
			cur = nil
			continue
		}
		name, _, ok := strings.Cut(term, "=")
		if !ok {
			return nil, fmt.Errorf("term %q is not FIELD=value", term)
		}
		if !validFieldName(name) {
			return nil, fmt.Errorf("term %q: %q is not a journal field name (A-Z, 0-9 and _, not starting with a digit or __, at most 64 characters)", term, name)
		}
		cur = append(cur, term)
	}
	if len(cur) == 0 && len(groups) > 0 {
		return nil, errors.New("'+' must stand between two groups of FIELD=value terms")
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups, nil
}

// validFieldName applies journald's rules for field names a match can use.
func validFieldName(n string) bool {
	if n == "" || len(n) > 64 || n[0] >= '0' && n[0] <= '9' || strings.HasPrefix(n, "__") {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
