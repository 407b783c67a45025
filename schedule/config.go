// Package schedule runs osquery query packs without osqueryd: it parses an
// osquery-format configuration (options, schedule, packs, decorators), runs
// each query on its (splayed) interval over the embedded SQL engine, computes
// differential or snapshot results with osquery's semantics, keeps the
// previous results across restarts, and formats result lines byte for byte
// as osqueryd logs them.
package schedule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// DefaultInterval is the interval of a query that gives none (osquery's
// --schedule_default_interval).
const DefaultInterval = 3600

// Config is an osquery configuration, as far as the daemon uses it.
type Config struct {
	// Options are the "options" entries converted to strings the way osquery
	// converts them (bools true/false, integers in decimal, objects and
	// arrays as JSON); empty values are left out.
	Options map[string]string
	// Queries is the schedule and every pack's queries, sorted by name.
	Queries []Query
	// Decorators are the "decorators" queries.
	Decorators Decorators
}

// Query is one scheduled query.
type Query struct {
	// Name is the schedule key, or "pack<d><pack><d><query>" for a pack
	// query (d = the pack delimiter, "_" by default), as osquery names them.
	Name        string
	SQL         string
	Interval    uint64 // seconds, before splay
	Snapshot    bool
	Removed     bool // log removed rows (osquery's "removed", default true)
	Description string
	Pack        string // the pack's name, "" for the schedule
	// Platform is the query's (else its pack's) "platform": a comma list
	// of darwin, linux, windows, freebsd, posix, any, all; "" = any.
	Platform string
}

// Decorators are queries whose first row's columns decorate every result.
type Decorators struct {
	Load     []string            // run once, at start-up
	Always   []string            // run before every scheduled query
	Interval map[uint64][]string // run every N seconds
}

// ParseOptions tune Parse.
type ParseOptions struct {
	// BaseDir resolves relative pack paths (the config file's folder).
	BaseDir string
	// ReadFile reads a pack file; nil means os.ReadFile.
	ReadFile func(string) ([]byte, error)
	// PackDelimiter joins "pack", pack name and query name; "" means "_".
	PackDelimiter string
	// DefaultInterval for queries without one; 0 means DefaultInterval.
	DefaultInterval uint64
}

// rawConfig mirrors the JSON.
type rawConfig struct {
	Options    map[string]json.RawMessage `json:"options"`
	Schedule   map[string]rawQuery        `json:"schedule"`
	Packs      map[string]json.RawMessage `json:"packs"`
	Decorators *rawDecorators             `json:"decorators"`
}

type rawPack struct {
	Platform  string              `json:"platform"`
	Queries   map[string]rawQuery `json:"queries"`
	Discovery []string            `json:"discovery"`
}

type rawQuery struct {
	Query       *string         `json:"query"`
	Interval    json.RawMessage `json:"interval"`
	Snapshot    json.RawMessage `json:"snapshot"`
	Removed     json.RawMessage `json:"removed"`
	Description string          `json:"description"`
	Platform    string          `json:"platform"`
}

type rawDecorators struct {
	Load     []string            `json:"load"`
	Always   []string            `json:"always"`
	Interval map[string][]string `json:"interval"`
}

// Parse parses an osquery JSON configuration. Packs may be inline objects
// or paths of pack files (relative to o.BaseDir). Every error names the part
// of the configuration it is about.
func Parse(data []byte, o ParseOptions) (*Config, error) {
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
	if o.PackDelimiter == "" {
		o.PackDelimiter = "_"
	}
	if o.DefaultInterval == 0 {
		o.DefaultInterval = DefaultInterval
	}
	var raw rawConfig
	if err := decodeStrict(data, &raw); err != nil {
		return nil, fmt.Errorf("parsing config: %w", err)
	}
	cfg := &Config{Options: map[string]string{}}
	for name, v := range raw.Options {
		s, err := optionString(v)
		if err != nil {
			return nil, fmt.Errorf("options.%s: %w", name, err)
		}
		if s != "" {
			cfg.Options[name] = s
		}
	}
	for name, rq := range raw.Schedule {
		if name == "" {
			return nil, errors.New("schedule: a query with an empty name")
		}
		q, err := rq.query(name, "", o.DefaultInterval)
		if err != nil {
			return nil, fmt.Errorf("schedule.%s: %w", name, err)
		}
		cfg.Queries = append(cfg.Queries, q)
	}
	for pname, v := range raw.Packs {
		var rp rawPack
		var path string
		if err := json.Unmarshal(v, &path); err == nil {
			if !filepath.IsAbs(path) && o.BaseDir != "" {
				path = filepath.Join(o.BaseDir, path)
			}
			b, err := o.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("packs.%s: reading pack file: %w", pname, err)
			}
			if err := decodeStrict(b, &rp); err != nil {
				return nil, fmt.Errorf("packs.%s: parsing pack file %s: %w", pname, path, err)
			}
		} else if err := decodeStrict(v, &rp); err != nil {
			return nil, fmt.Errorf("packs.%s: %w", pname, err)
		}
		if len(rp.Discovery) > 0 {
			return nil, fmt.Errorf("packs.%s: discovery queries are not supported by the daemon", pname)
		}
		if pname == "" {
			return nil, errors.New("packs: a pack with an empty name")
		}
		for qname, rq := range rp.Queries {
			if qname == "" {
				return nil, fmt.Errorf("packs.%s: a query with an empty name", pname)
			}
			name := "pack" + o.PackDelimiter + pname + o.PackDelimiter + qname
			q, err := rq.query(name, pname, o.DefaultInterval)
			if err != nil {
				return nil, fmt.Errorf("packs.%s.queries.%s: %w", pname, qname, err)
			}
			if q.Platform == "" {
				q.Platform = rp.Platform
			}
			cfg.Queries = append(cfg.Queries, q)
		}
	}
	sort.Slice(cfg.Queries, func(i, j int) bool { return cfg.Queries[i].Name < cfg.Queries[j].Name })
	for i := 1; i < len(cfg.Queries); i++ {
		if cfg.Queries[i].Name == cfg.Queries[i-1].Name {
			return nil, fmt.Errorf("schedule: query name %s is used twice", cfg.Queries[i].Name)
		}
	}
	if d := raw.Decorators; d != nil {
		cfg.Decorators.Load = d.Load
		cfg.Decorators.Always = d.Always
		for k, qs := range d.Interval {
			n, err := strconv.ParseUint(k, 10, 64)
			if err != nil || n == 0 {
				return nil, fmt.Errorf("decorators.interval: %q is not a positive number of seconds", k)
			}
			if cfg.Decorators.Interval == nil {
				cfg.Decorators.Interval = map[uint64][]string{}
			}
			cfg.Decorators.Interval[n] = append(cfg.Decorators.Interval[n], qs...)
		}
		for _, list := range [][]string{d.Load, d.Always} {
			for _, s := range list {
				if strings.TrimSpace(s) == "" {
					return nil, errors.New("decorators: empty query")
				}
			}
		}
	}
	return cfg, nil
}

func (rq rawQuery) query(name, pack string, defInterval uint64) (Query, error) {
	q := Query{Name: name, Pack: pack, Description: rq.Description, Interval: defInterval, Removed: true, Platform: rq.Platform}
	if rq.Query == nil || strings.TrimSpace(*rq.Query) == "" {
		return q, errors.New(`missing "query"`)
	}
	q.SQL = *rq.Query
	if len(rq.Interval) > 0 {
		n, err := uintValue(rq.Interval)
		if err != nil || n == 0 {
			return q, fmt.Errorf(`"interval": want a positive number of seconds, got %s`, rq.Interval)
		}
		q.Interval = n
	}
	var err error
	if q.Snapshot, err = boolValue(rq.Snapshot, false); err != nil {
		return q, fmt.Errorf(`"snapshot": %w`, err)
	}
	if q.Removed, err = boolValue(rq.Removed, true); err != nil {
		return q, fmt.Errorf(`"removed": %w`, err)
	}
	return q, nil
}

// decodeStrict decodes one JSON object and rejects trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// uintValue accepts a JSON number or a string holding one (osquery accepts
// both for intervals).
func uintValue(v json.RawMessage) (uint64, error) {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	}
	return strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 64)
}

func boolValue(v json.RawMessage, def bool) (bool, error) {
	if len(v) == 0 || string(v) == "null" {
		return def, nil
	}
	var b bool
	if err := json.Unmarshal(v, &b); err == nil {
		return b, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		if p, err := strconv.ParseBool(s); err == nil {
			return p, nil
		}
	}
	return def, fmt.Errorf("want true or false, got %s", v)
}

// optionString converts an option value as osquery does: strings as-is,
// bools true/false, integers decimal, other numbers through uint64, objects
// and arrays as compact JSON.
func optionString(v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return "", nil
	}
	switch v[0] {
	case '"':
		var s string
		err := json.Unmarshal(v, &s)
		return s, err
	case 't', 'f':
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			return "", err
		}
		return strconv.FormatBool(b), nil
	case '{', '[':
		var buf bytes.Buffer
		if err := json.Compact(&buf, v); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err != nil {
		return "", err
	}
	if i, err := n.Int64(); err == nil {
		return strconv.FormatInt(i, 10), nil
	}
	f, err := n.Float64()
	if err != nil {
		return "", err
	}
	return strconv.FormatUint(uint64(f), 10), nil
}

// PlatformMatches reports whether a "platform" value admits goos (a
// runtime.GOOS value), as osquery's checkPlatform does.
func PlatformMatches(platform, goos string) bool {
	if strings.TrimSpace(platform) == "" {
		return true
	}
	for _, p := range strings.Split(platform, ",") {
		switch p = strings.TrimSpace(p); p {
		case "any", "all":
			return true
		case "posix":
			if goos == "linux" || goos == "darwin" || goos == "freebsd" {
				return true
			}
		case "ubuntu", "centos":
			if goos == "linux" {
				return true
			}
		default:
			if p == goos {
				return true
			}
		}
	}
	return false
}
