package asl

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/tables/asl/aslfile"
)

// Numeric columns served from a record's fixed fields.
const (
	numTime = iota
	numNano
	numLevel
	numPID
	numUID
	numGID
	numRefPID
	numCols
)

var numColumn = map[string]int{
	"time": numTime, "time_nano_sec": numNano, "level": numLevel, "pid": numPID,
	"uid": numUID, "gid": numGID, "ref_pid": numRefPID,
}

// textColumns can be pushed down with = and LIKE; path is the file's.
var textColumns = map[string]bool{"host": true, "sender": true, "facility": true, "message": true, "ref_proc": true, "path": true}

// Condition is one constraint the table evaluates itself before building a
// row. SQLite (osqueryd's or the embedded engine's) re-checks every
// constraint, so conditions only save work: a row they keep may still be
// filtered, a row they drop could never have matched.
type Condition struct {
	Column string
	Op     string // =, >, >=, <, <=, LIKE
	Value  string // the constraint's expression
	Regexp string // LIKE only: the anchored expression it became
}

// Conditions returns the constraints of qc that the table pushes down,
// sorted by column then operator order of appearance. Left to SQLite alone:
// constraints on extra, operators other than =, <, <=, >, >= and LIKE (GLOB,
// REGEXP, !=, IS ...), range operators on text columns (osqueryd never sends
// them; SQLite compares those as text), LIKE on numeric columns, and
// numeric constraints whose expression is not a base-10 integer.
func Conditions(qc table.QueryContext) []Condition {
	var out []Condition
	for _, name := range slices.Sorted(maps.Keys(qc.Constraints)) {
		_, numeric := numColumn[name]
		if !numeric && !textColumns[name] {
			continue
		}
		for _, c := range qc.Constraints[name].Constraints {
			op := ""
			switch c.Operator {
			case table.OperatorEquals:
				op = "="
			case table.OperatorGreaterThan:
				op = ">"
			case table.OperatorGreaterThanOrEquals:
				op = ">="
			case table.OperatorLessThan:
				op = "<"
			case table.OperatorLessThanOrEquals:
				op = "<="
			case table.OperatorLike:
				op = "LIKE"
			default:
				continue
			}
			cond := Condition{Column: name, Op: op, Value: c.Expression}
			switch {
			case numeric && op == "LIKE":
				continue
			case numeric:
				if _, err := strconv.ParseInt(strings.TrimSpace(c.Expression), 10, 64); err != nil {
					continue
				}
			case op == "LIKE":
				if _, ok := compileLike(c.Expression); !ok {
					continue
				}
				cond.Regexp = LikeToRegexp(c.Expression)
			case op != "=":
				continue
			}
			out = append(out, cond)
		}
	}
	return out
}

// numRange is an inclusive range of allowed values.
type numRange struct {
	set    bool
	lo, hi int64
}

type textCond struct {
	eq   string
	like *likeMatcher
}

func (c textCond) match(s string) bool {
	if c.like != nil {
		return c.like.match(s)
	}
	return s == c.eq
}

// filter is the compiled form of the conditions.
type filter struct {
	num  [numCols]numRange
	text map[string][]textCond
	// none: the conditions contradict each other; no row can match.
	none bool
}

func newFilter(conds []Condition) *filter {
	f := &filter{text: map[string][]textCond{}}
	for _, c := range conds {
		if i, ok := numColumn[c.Column]; ok {
			v, err := strconv.ParseInt(strings.TrimSpace(c.Value), 10, 64)
			if err != nil {
				continue
			}
			f.narrow(i, c.Op, v)
			continue
		}
		tc := textCond{eq: c.Value}
		if c.Op == "LIKE" {
			m, ok := compileLike(c.Value)
			if !ok {
				continue
			}
			tc.like = m
		}
		f.text[c.Column] = append(f.text[c.Column], tc)
	}
	return f
}

func (f *filter) narrow(i int, op string, v int64) {
	r := &f.num[i]
	if !r.set {
		*r = numRange{set: true, lo: math.MinInt64, hi: math.MaxInt64}
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	switch op {
	case "=":
		lo, hi = v, v
	case ">":
		if v == math.MaxInt64 {
			f.none = true
			return
		}
		lo = v + 1
	case ">=":
		lo = v
	case "<":
		if v == math.MinInt64 {
			f.none = true
			return
		}
		hi = v - 1
	case "<=":
		hi = v
	}
	r.lo, r.hi = max(r.lo, lo), min(r.hi, hi)
	if r.lo > r.hi {
		f.none = true
	}
}

// numValue returns a record's value for a numeric column as the row shows
// it; null is true when the row leaves the column NULL, unknown when the
// value does not fit an int64 (the condition is then not applied).
func numValue(rec *aslfile.Record, i int) (v int64, null, unknown bool) {
	switch i {
	case numTime:
		if rec.Time > math.MaxInt64 {
			return 0, false, true
		}
		return int64(rec.Time), false, false
	case numNano:
		return int64(rec.Nano), false, false
	case numLevel:
		return int64(rec.Level), false, false
	case numPID:
		return int64(rec.PID), false, false
	case numUID:
		return int64(rec.UID), rec.UID == aslfile.Unset, false
	case numGID:
		return int64(rec.GID), rec.GID == aslfile.Unset, false
	case numRefPID:
		return int64(rec.RefPID), rec.RefPID == 0, false
	}
	return 0, false, true
}

// matchFixed applies the numeric conditions to a record's fixed fields.
func (f *filter) matchFixed(rec *aslfile.Record) bool {
	for i := range f.num {
		r := &f.num[i]
		if !r.set {
			continue
		}
		v, null, unknown := numValue(rec, i)
		if unknown {
			continue
		}
		if null || v < r.lo || v > r.hi {
			return false
		}
	}
	return true
}

// matchText applies the text conditions on column to s.
func (f *filter) matchText(column string, s string) bool {
	for _, c := range f.text[column] {
		if !c.match(s) {
			return false
		}
	}
	return true
}

// textRef returns the reference of a text column's string in rec.
func textRef(rec *aslfile.Record, column string) aslfile.Ref {
	switch column {
	case "host":
		return rec.Host
	case "sender":
		return rec.Sender
	case "facility":
		return rec.Facility
	case "message":
		return rec.Message
	case "ref_proc":
		return rec.RefProc
	}
	return 0
}

// timeBounds returns the time range the conditions allow.
func (f *filter) timeBounds() numRange { return f.num[numTime] }
