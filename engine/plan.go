package engine

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/osquery/osquery-go/plugin/table"
)

// Column options, as osquery encodes them (osquery/core/sql/column.h).
const (
	optIndex      = 1
	optRequired   = 2
	optAdditional = 4
	optOptimized  = 8
	optHidden     = 16
)

// SQLite constraint operators (SQLITE_INDEX_CONSTRAINT_*) the engine names.
// Every operator SQLite reports reaches the table unchanged (MATCH 64, LIKE
// 65, GLOB 66, REGEXP 67, != 68, IS NOT 69, IS NOT NULL 70, IS NULL 71,
// IS 72 included), except LIMIT and OFFSET.
const (
	opEQ     = 2
	opGT     = 4
	opLE     = 8
	opLT     = 16
	opGE     = 32
	opLIMIT  = 73
	opOFFSET = 74
)

// column is a table column as the engine sees it.
type column struct {
	name string
	typ  table.ColumnType
	opts uint8
	kind valueKind
}

// indexed reports whether constraints on c reach the table. An extension
// column whose options are exactly 0 is INDEX under osqueryd's
// --extensions_default_index=true (the default); otherwise only INDEX,
// REQUIRED and ADDITIONAL columns receive constraints.
func (c column) indexed() bool {
	return c.opts == 0 || c.opts&(optIndex|optRequired|optAdditional) != 0
}

// sensible is osquery's sensibleComparison: range operators on a TEXT column
// are never passed.
func sensible(typ table.ColumnType, op int) bool {
	if typ != table.ColumnTypeText {
		return true
	}
	return op != opGT && op != opGE && op != opLT && op != opLE
}

// indexConstraint is one entry of sqlite3_index_info.aConstraint.
type indexConstraint struct {
	col    int // -1 for the rowid
	op     int
	usable bool
}

// slot is one filter argument of a plan: the constraint behind argv[i].
type slot struct {
	col int
	op  int
	in  bool // argv[i] is a whole IN list (sqlite3_vtab_in), OPTIMIZED columns only
}

// indexPlan is what bestIndex decides for one xBestIndex call.
type indexPlan struct {
	argv    []int  // per constraint: its 1-based argvIndex, 0 if not passed
	slots   []slot // per argvIndex-1: what it carries
	cost    float64
	colUsed uint64 // the columns the statement may read (colUsed)
	// missingRequired: the table has REQUIRED columns and the plan passes
	// no constraint on any of them. osquery lets SQLite pick such a plan (at
	// the maximum cost) and fails in xFilter, so does the engine.
	missingRequired bool
}

// maxIndexCost is osquery's kMaxIndexCost.
const maxIndexCost = 1e6

// bestIndex mirrors osqueryd's xBestIndex for an extension table
// (osquery/sql/virtual_table.cpp):
//
//   - each usable constraint on an indexed column gets the next argvIndex,
//     unless it is a range on a TEXT column; omit is never set, so SQLite
//     re-checks every row;
//   - the cost starts at kMaxIndexCost, drops to 1 as soon as one constraint
//     is passed, grows by 10 for each TEXT range constraint met, and is
//     kMaxIndexCost again when the query uses a REQUIRED column (colUsed)
//     without constraining one; SQLite keeps its default row estimate;
//   - the one deviation: a plan that cannot satisfy a REQUIRED column costs
//     missingRequiredCost, see below.
//
// canIn(i) says whether constraint i is an IN list SQLite can hand over all
// at once; it is asked only for equalities on OPTIMIZED columns, whose IN
// lists osquery expands into one equality per value.
func bestIndex(cols []column, cs []indexConstraint, colUsed uint64, canIn func(i int) bool) indexPlan {
	p := indexPlan{argv: make([]int, len(cs)), cost: maxIndexCost, colUsed: colUsed}
	hasRequiredConstraint := false
	for i, c := range cs {
		if !c.usable || c.col < 0 || c.col >= len(cols) || c.op == opLIMIT || c.op == opOFFSET {
			continue
		}
		col := cols[c.col]
		if !sensible(col.typ, c.op) {
			p.cost += 10
			continue
		}
		if !col.indexed() {
			continue
		}
		if col.opts&optRequired != 0 {
			hasRequiredConstraint = true
		}
		p.cost = 1
		s := slot{col: c.col, op: c.op}
		if c.op == opEQ && col.opts&optOptimized != 0 && canIn != nil && canIn(i) {
			s.in = true
		}
		p.slots = append(p.slots, s)
		p.argv[i] = len(p.slots)
	}
	hasRequired, usesRequired := false, false
	for i, col := range cols {
		if col.opts&optRequired == 0 {
			continue
		}
		hasRequired = true
		if usesColumn(colUsed, i) {
			usesRequired = true
		}
	}
	if usesRequired && !hasRequiredConstraint {
		p.cost = maxIndexCost
	}
	p.missingRequired = hasRequired && !hasRequiredConstraint
	if p.missingRequired {
		// Deviation: osquery leaves such a plan at kMaxIndexCost, the cost
		// of any unconstrained scan, so in a join SQLite may pick it even
		// though the other loop order would give the table its required
		// constraint ("FROM file JOIN src ON file.path = src.p" fails under
		// osqueryd, depending on its SQLite). Here it is never preferred
		// to a plan that can run.
		p.cost = missingRequiredCost
	}
	return p
}

// missingRequiredCost prices a plan that can only fail.
const missingRequiredCost = 1e18

// encodePlan renders a plan as the idxStr SQLite hands back to xFilter:
// an optional "!" when a required constraint is missing, the colUsed mask in
// hex, "|", then "col:op" per argument ("i" appended for an IN list), comma
// separated.
func encodePlan(p indexPlan) string {
	var b strings.Builder
	if p.missingRequired {
		b.WriteByte('!')
	}
	b.WriteString(strconv.FormatUint(p.colUsed, 16))
	b.WriteByte('|')
	for i, s := range p.slots {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(s.col))
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(s.op))
		if s.in {
			b.WriteByte('i')
		}
	}
	return b.String()
}

// decodePlan parses encodePlan's output (argv, cost are not carried); ncols
// bounds the column indexes.
func decodePlan(s string, ncols int) (indexPlan, error) {
	var p indexPlan
	bad := func() (indexPlan, error) { return indexPlan{}, fmt.Errorf("bad index plan %q", s) }
	rest := s
	if strings.HasPrefix(rest, "!") {
		p.missingRequired = true
		rest = rest[1:]
	}
	used, rest, ok := strings.Cut(rest, "|")
	if !ok {
		return bad()
	}
	var err error
	if p.colUsed, err = strconv.ParseUint(used, 16, 64); err != nil {
		return bad()
	}
	if rest == "" {
		return p, nil
	}
	for part := range strings.SplitSeq(rest, ",") {
		colStr, opStr, ok := strings.Cut(part, ":")
		if !ok {
			return bad()
		}
		var sl slot
		if strings.HasSuffix(opStr, "i") {
			sl.in = true
			opStr = opStr[:len(opStr)-1]
		}
		col, err1 := strconv.Atoi(colStr)
		op, err2 := strconv.Atoi(opStr)
		if err1 != nil || err2 != nil || col < 0 || col >= ncols {
			return bad()
		}
		sl.col, sl.op = col, op
		p.slots = append(p.slots, sl)
	}
	return p, nil
}

// usesColumn reports whether colUsed (sqlite3_index_info.colUsed) has
// column i: one bit per column for the first 63, bit 63 for all others.
func usesColumn(colUsed uint64, i int) bool {
	return colUsed&(1<<uint(min(i, 63))) != 0
}

// requiredError is osquery's message for a REQUIRED column left out.
func requiredError(tableName string) error {
	// osquery's exact wording, capital letter included.
	return fmt.Errorf("Table %s was queried without a required column in the WHERE clause", tableName)
}
