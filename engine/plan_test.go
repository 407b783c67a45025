package engine

import (
	"reflect"
	"testing"

	"github.com/osquery/osquery-go/plugin/table"
)

func testColumns() []column {
	return []column{
		{name: "time", typ: table.ColumnTypeBigInt, opts: 0},
		{name: "name", typ: table.ColumnTypeText, opts: 0},
		{name: "eid", typ: table.ColumnTypeBigInt, opts: optHidden | optAdditional},
		{name: "note", typ: table.ColumnTypeText, opts: optHidden},
		{name: "path", typ: table.ColumnTypeText, opts: optRequired},
		{name: "host", typ: table.ColumnTypeText, opts: optIndex | optOptimized},
	}
}

func TestBestIndex(t *testing.T) {
	const (
		timeCol = iota
		nameCol
		eidCol
		noteCol
		pathCol
		hostCol
	)
	all := ^uint64(0)
	tests := []struct {
		name     string
		cs       []indexConstraint
		colUsed  uint64
		in       map[int]bool
		argv     []int
		slots    []slot
		cost     float64
		required bool
	}{
		{name: "no constraints", colUsed: 1 << timeCol,
			cost: missingRequiredCost, required: true},
		{name: "required satisfied",
			cs:      []indexConstraint{{pathCol, opEQ, true}, {timeCol, opGT, true}},
			colUsed: all, argv: []int{1, 2}, slots: []slot{{pathCol, opEQ, false}, {timeCol, opGT, false}}, cost: 1},
		{name: "unusable constraint skipped",
			cs:      []indexConstraint{{pathCol, opEQ, false}, {pathCol, 65, true}},
			colUsed: all, argv: []int{0, 1}, slots: []slot{{pathCol, 65, false}}, cost: 1},
		{name: "text range adds 10 and is not passed",
			cs:      []indexConstraint{{pathCol, opEQ, true}, {nameCol, opGT, true}},
			colUsed: all, argv: []int{1, 0}, slots: []slot{{pathCol, opEQ, false}}, cost: 11},
		{name: "hidden-only column not passed, additional is",
			cs:      []indexConstraint{{pathCol, opEQ, true}, {noteCol, opEQ, true}, {eidCol, opGE, true}},
			colUsed: all, argv: []int{1, 0, 2}, slots: []slot{{pathCol, opEQ, false}, {eidCol, opGE, false}}, cost: 1},
		{name: "rowid, limit and offset never passed",
			cs:      []indexConstraint{{-1, opEQ, true}, {timeCol, opLIMIT, true}, {timeCol, opOFFSET, true}, {pathCol, opEQ, true}},
			colUsed: all, argv: []int{0, 0, 0, 1}, slots: []slot{{pathCol, opEQ, false}}, cost: 1},
		{name: "IN list on an optimized column",
			cs:      []indexConstraint{{pathCol, opEQ, true}, {hostCol, opEQ, true}, {timeCol, opEQ, true}},
			in:      map[int]bool{1: true, 2: true}, // time is not OPTIMIZED: SQLite loops
			colUsed: all, argv: []int{1, 2, 3}, slots: []slot{{pathCol, opEQ, false}, {hostCol, opEQ, true}, {timeCol, opEQ, false}}, cost: 1},
		{name: "required missing is never preferred",
			cs:      []indexConstraint{{timeCol, opEQ, true}},
			colUsed: 1 << timeCol, argv: []int{1}, slots: []slot{{timeCol, opEQ, false}}, cost: missingRequiredCost, required: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := bestIndex(testColumns(), tt.cs, tt.colUsed, func(i int) bool { return tt.in[i] })
			if tt.argv == nil {
				tt.argv = []int{}
			}
			if !reflect.DeepEqual(p.argv, tt.argv) || !reflect.DeepEqual(p.slots, tt.slots) || p.cost != tt.cost || p.missingRequired != tt.required {
				t.Errorf("got argv %v slots %v cost %v missing %v\nwant argv %v slots %v cost %v missing %v",
					p.argv, p.slots, p.cost, p.missingRequired, tt.argv, tt.slots, tt.cost, tt.required)
			}
			// The plan survives the trip through idxStr.
			d, err := decodePlan(encodePlan(p), len(testColumns()))
			if err != nil || !reflect.DeepEqual(d.slots, p.slots) || d.missingRequired != p.missingRequired || d.colUsed != tt.colUsed {
				t.Errorf("decodePlan(%q) = %+v, %v", encodePlan(p), d, err)
			}
		})
	}
}

func TestBestIndexCostWithoutRequiredColumns(t *testing.T) {
	cols := testColumns()[:2]
	if p := bestIndex(cols, nil, ^uint64(0), nil); p.cost != maxIndexCost || p.missingRequired {
		t.Errorf("scan: cost %v missing %v", p.cost, p.missingRequired)
	}
	p := bestIndex(cols, []indexConstraint{{0, opEQ, true}}, ^uint64(0), nil)
	if p.cost != 1 {
		t.Errorf("constrained: cost %v", p.cost)
	}
}

func TestDecodePlanRejectsGarbage(t *testing.T) {
	for _, s := range []string{"", "x", "1", "f|1", "f|1:", "f|:2", "f|9:2", "f|-1:2", "f|1:2,", "f|1:zi", "!|1:2", "g|"} {
		if _, err := decodePlan(s, 3); err == nil {
			t.Errorf("decodePlan(%q) accepted", s)
		}
	}
}
