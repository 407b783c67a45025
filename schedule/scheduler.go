package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"github.com/osquery-syslog/osquery-syslog/engine"
	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/internal/jsonstr"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// Querier runs SQL; *engine.Engine is one.
type Querier interface {
	Query(ctx context.Context, sql string) (*engine.Result, error)
}

// State is a durable key/value store; *eventstore.Store is one.
type State interface {
	PutState(key, value string) error
	States(prefix string) (map[string]string, error)
}

// Sink receives result lines (a logger plugin).
type Sink interface {
	LogResult(line []byte) error
	LogSnapshot(line []byte) error
}

// Options tune a Scheduler.
type Options struct {
	Host                string // hostIdentifier of every line
	Epoch               uint64 // --schedule_epoch
	SplayPercent        uint64 // --schedule_splay_percent (0: no splay)
	BatchFormat         bool   // one line per run (--logger_event_type=false)
	SnapshotEventType   bool   // one line per snapshot row (--logger_snapshot_event_type)
	DecorationsTopLevel bool   // --decorations_top_level
	Log                 *slog.Logger
	Now                 func() time.Time // nil: time.Now
	Rand                *rand.Rand       // splay; nil: seeded from the clock
}

// Scheduler runs the queries of a Config.
type Scheduler struct {
	cfg   *Config
	q     Querier
	st    State
	sink  Sink
	o     Options
	log   *slog.Logger
	tasks []*task

	loadDecorations     map[string]string
	intervalDecorations map[uint64]map[string]string
}

type task struct {
	Query
	splayed uint64
}

// queryState is what is kept per query between runs (key
// schedule/query/<name>), osquery's "previous results", epoch and counter,
// plus the eid cursor over evented tables.
type queryState struct {
	SQL     string           `json:"sql"`
	Epoch   uint64           `json:"epoch"`
	Counter uint64           `json:"counter"`
	Rows    []Row            `json:"rows"`
	Cursor  map[string]int64 `json:"cursor,omitempty"`
}

// stateNS holds the scheduler's state keys: "schedule/interval/<query>" (the
// splayed interval, splay.go) and "schedule/query/<query>" (queryState).
var stateNS = eventstore.NewNamespace("schedule")

func queryKey(name string) string { return stateNS.Key("query/" + name) }

// New returns a scheduler for cfg. It fixes every query's splayed interval,
// reusing the one stored for it when its interval is unchanged.
func New(cfg *Config, q Querier, st State, sink Sink, o Options) (*Scheduler, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		seed := uint64(time.Now().UnixNano())
		o.Rand = rand.New(rand.NewPCG(seed, seed>>7|1))
	}
	s := &Scheduler{cfg: cfg, q: q, st: st, sink: sink, o: o, log: o.Log}
	stored, err := st.States(stateNS.Key("interval/"))
	if err != nil {
		return nil, fmt.Errorf("reading splayed intervals: %w", err)
	}
	for _, qq := range cfg.Queries {
		if !PlatformMatches(qq.Platform, runtime.GOOS) {
			s.log.Info("skipping scheduled query for another platform", "query", qq.Name, "platform", qq.Platform)
			continue
		}
		t := &task{Query: qq}
		if n, ok := parseSplay(stored[splayKey(qq.Name)], qq.Interval); ok {
			t.splayed = n
		} else {
			t.splayed = SplayValue(qq.Interval, o.SplayPercent, o.Rand)
			if err := st.PutState(splayKey(qq.Name), formatSplay(qq.Interval, t.splayed)); err != nil {
				return nil, fmt.Errorf("storing splayed interval of %s: %w", qq.Name, err)
			}
		}
		s.tasks = append(s.tasks, t)
	}
	return s, nil
}

// Intervals returns each query's splayed interval in seconds.
func (s *Scheduler) Intervals() map[string]uint64 {
	out := make(map[string]uint64, len(s.tasks))
	for _, t := range s.tasks {
		out[t.Name] = t.splayed
	}
	return out
}

// Check compiles every scheduled and decorator query without running it, so
// that a bad query fails the start-up with its name.
func (s *Scheduler) Check(ctx context.Context) error {
	var errs []error
	check := func(what, sql string) {
		if _, err := s.q.Query(ctx, "EXPLAIN "+sql); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	for _, t := range s.tasks {
		check("query "+t.Name, t.SQL)
	}
	for i, d := range s.cfg.Decorators.Load {
		check(fmt.Sprintf("decorators.load[%d]", i), d)
	}
	for i, d := range s.cfg.Decorators.Always {
		check(fmt.Sprintf("decorators.always[%d]", i), d)
	}
	for n, list := range s.cfg.Decorators.Interval {
		for i, d := range list {
			check(fmt.Sprintf("decorators.interval.%d[%d]", n, i), d)
		}
	}
	return errors.Join(errs...)
}

// maxCatchUp is how many missed seconds Run still visits.
const maxCatchUp = 60

// Run runs the schedule until ctx ends: every second (unix time i), each
// query with i % splayed_interval == 0 runs, one after the other, like
// osqueryd's scheduler. Seconds a long query made it miss are caught up, so
// no due query is skipped. A failing query is logged and the schedule goes
// on.
func (s *Scheduler) Run(ctx context.Context) error {
	s.loadDecorations = s.decorate(ctx, s.cfg.Decorators.Load)
	last := s.o.Now().Unix() - 1
	for {
		now := s.o.Now().Unix()
		// Catch up at most a minute: after a suspend or a clock jump, due
		// queries run once, not once per missed second.
		for i := max(last+1, now-maxCatchUp); i <= now; i++ {
			s.tick(ctx, i)
			if ctx.Err() != nil {
				return nil
			}
		}
		last = max(last, now)
		next := time.Unix(last+1, 0)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Until(next)):
		}
	}
}

func (s *Scheduler) tick(ctx context.Context, i int64) {
	for n, list := range s.cfg.Decorators.Interval {
		if uint64(i)%n == 0 {
			if s.intervalDecorations == nil {
				s.intervalDecorations = map[uint64]map[string]string{}
			}
			s.intervalDecorations[n] = s.decorate(ctx, list)
		}
	}
	for _, t := range s.tasks {
		if t.splayed > 0 && uint64(i)%t.splayed == 0 {
			if err := s.run(ctx, t); err != nil && ctx.Err() == nil {
				s.log.Error("scheduled query failed", "query", t.Name, "err", err)
			}
		}
	}
}

// RunQuery runs the named query once now, as the schedule would.
func (s *Scheduler) RunQuery(ctx context.Context, name string) error {
	if s.loadDecorations == nil {
		s.loadDecorations = s.decorate(ctx, s.cfg.Decorators.Load)
	}
	for _, t := range s.tasks {
		if t.Name == name {
			return s.run(ctx, t)
		}
	}
	return fmt.Errorf("no scheduled query named %s", name)
}

// decorate runs decorator queries; the columns of each one's first row
// become decorations (a later query overrides an earlier one's column).
func (s *Scheduler) decorate(ctx context.Context, queries []string) map[string]string {
	out := map[string]string{}
	for _, q := range queries {
		res, err := s.q.Query(ctx, q)
		if err != nil {
			s.log.Warn("decorator query failed", "query", q, "err", err)
			continue
		}
		if len(res.Rows) == 0 {
			continue
		}
		for i, c := range res.Columns {
			out[c] = res.Rows[0][i].Text
		}
	}
	return out
}

func (s *Scheduler) decorations(ctx context.Context) map[string]string {
	out := map[string]string{}
	for k, v := range s.loadDecorations {
		out[k] = v
	}
	for _, n := range slices.Sorted(maps.Keys(s.intervalDecorations)) {
		for k, v := range s.intervalDecorations[n] {
			out[k] = v
		}
	}
	if len(s.cfg.Decorators.Always) > 0 {
		for k, v := range s.decorate(ctx, s.cfg.Decorators.Always) {
			out[k] = v
		}
	}
	return out
}

// run is one execution of t with osquery's semantics (osquery's
// Query::addNewResults and the scheduler's launchQuery):
//   - a query never run before, or run under another epoch, logs all its
//     rows as "added" with counter 0;
//   - otherwise rows are compared with the previous run's (as a multiset):
//     new ones are "added", vanished ones "removed", and counter goes up by
//     one (back to 0 if the SQL changed); nothing is logged if nothing
//     changed;
//   - a query that read an evented table through its eid cursor only sees
//     events appended since its last run: every row is "added", counter 0,
//     as osquery does for event-based queries with --events_optimize;
//   - a snapshot query logs all its rows every time.
//
// The state is written after the sink took the lines, so a crash in between
// repeats a run's lines rather than losing them.
func (s *Scheduler) run(ctx context.Context, t *task) error {
	prev, exists, err := s.loadState(t.Name)
	if err != nil {
		return err
	}
	cur := tablekit.NewCursor(prev.Cursor)
	now := s.o.Now()
	res, err := s.q.Query(tablekit.WithCursor(ctx, cur), t.SQL)
	if err != nil {
		return fmt.Errorf("running query: %w", err)
	}
	rows := toRows(res)
	it := &Item{
		Name: t.Name, Host: s.o.Host, Time: now, Epoch: s.o.Epoch,
		Decorations: s.decorations(ctx), DecorationsTopLevel: s.o.DecorationsTopLevel,
	}
	next := prev
	next.SQL = t.SQL
	next.Cursor = cur.Next()

	if t.Snapshot {
		it.Snapshot = rows
		if s.o.SnapshotEventType {
			for _, l := range EventSnapshotLines(it) {
				if err := s.sink.LogSnapshot(l); err != nil {
					return fmt.Errorf("logging snapshot: %w", err)
				}
			}
		} else if err := s.sink.LogSnapshot(SnapshotLine(it)); err != nil {
			return fmt.Errorf("logging snapshot: %w", err)
		}
		next.Rows = nil
		return s.saveState(t.Name, next)
	}

	escapeRows(rows)
	fresh := !exists || prev.Epoch != s.o.Epoch
	newQuery := exists && !fresh && prev.SQL != t.SQL
	event := cur.Used()
	if fresh || event {
		it.Added = rows
	} else {
		it.Added, it.Removed = diff(prev.Rows, rows)
	}
	if fresh || newQuery || event {
		it.Counter = 0
	} else {
		it.Counter = prev.Counter + 1
	}
	if !t.Removed {
		it.Removed = nil
	}
	next.Counter = it.Counter
	next.Epoch = s.o.Epoch
	if !event {
		next.Rows = rows
	} else {
		next.Rows = nil
	}
	if len(it.Added)+len(it.Removed) > 0 {
		if s.o.BatchFormat {
			err = s.sink.LogResult(BatchLine(it))
		} else {
			for _, l := range EventLines(it) {
				if err = s.sink.LogResult(l); err != nil {
					break
				}
			}
		}
		if err != nil {
			return fmt.Errorf("logging results: %w", err)
		}
	}
	return s.saveState(t.Name, next)
}

func (s *Scheduler) loadState(name string) (queryState, bool, error) {
	m, err := s.st.States(queryKey(name))
	if err != nil {
		return queryState{}, false, fmt.Errorf("reading previous results: %w", err)
	}
	v, ok := m[queryKey(name)]
	if !ok {
		return queryState{}, false, nil
	}
	var qs queryState
	if err := json.Unmarshal([]byte(v), &qs); err != nil {
		// Unreadable previous results: start again as a new query.
		s.log.Warn("previous results unreadable; starting over", "query", name, "err", err)
		return queryState{}, false, nil
	}
	return qs, true, nil
}

func (s *Scheduler) saveState(name string, qs queryState) error {
	b, err := json.Marshal(qs)
	if err != nil {
		return fmt.Errorf("encoding results: %w", err)
	}
	if err := s.st.PutState(queryKey(name), string(b)); err != nil {
		return fmt.Errorf("storing results: %w", err)
	}
	return nil
}

func toRows(res *engine.Result) []Row {
	rows := make([]Row, 0, len(res.Rows))
	for _, r := range res.Rows {
		m := make(Row, len(res.Columns))
		for i, c := range res.Columns {
			if i < len(r) {
				m[c] = r[i].Text
			}
		}
		rows = append(rows, m)
	}
	return rows
}

// diff compares two multisets of rows: added are the rows of cur beyond
// their count in prev (in cur's order), removed the rows of prev beyond
// their count in cur (in prev's order).
func diff(prev, cur []Row) (added, removed []Row) {
	prevKeys := make([]string, len(prev))
	count := make(map[string]int, len(prev))
	for i, r := range prev {
		prevKeys[i] = rowKey(r)
		count[prevKeys[i]]++
	}
	for _, r := range cur {
		k := rowKey(r)
		if count[k] > 0 {
			count[k]--
			continue
		}
		added = append(added, r)
	}
	for i, r := range prev {
		if k := prevKeys[i]; count[k] > 0 {
			count[k]--
			removed = append(removed, r)
		}
	}
	return added, removed
}

func rowKey(r Row) string {
	b := make([]byte, 0, 128)
	keys := slices.AppendSeq(make([]string, 0, len(r)), maps.Keys(r)) // sized: this runs per row
	slices.Sort(keys)
	for _, k := range keys {
		b = jsonstr.Append(b, k, jsonstr.Rapid)
		b = append(b, ':')
		b = jsonstr.Append(b, r[k], jsonstr.Rapid)
		b = append(b, ',')
	}
	return string(b)
}
