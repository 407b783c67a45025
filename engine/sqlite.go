//go:build sqlite_vtable

package engine

/*
#include <stdlib.h>
#include "sqlite_min.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"runtime/cgo"
	"unsafe"

	// The SQLite library itself: go-sqlite3 compiles the amalgamation into
	// every binary importing it, and the engine's C code links against it.
	_ "github.com/mattn/go-sqlite3"

	"github.com/osquery/osquery-go/plugin/table"
)

// conn is one private in-memory database with every table registered as an
// eponymous virtual table. A conn is used by one query at a time.
type conn struct {
	db      *C.sqlite3
	handles []cgo.Handle
	pragma  *C.int // set by the authorizer when a statement runs a PRAGMA

	// Set for the duration of a query; read by the table callbacks, which
	// run on the querying goroutine (SQLite calls them from sqlite3_step).
	ctx     context.Context
	lastErr error // the generate error behind a failed step, if any
	dirty   bool  // a statement may have changed the connection's state
}

// vtabRef is one table as registered on one connection.
type vtabRef struct {
	c   *conn
	def *tableDef
}

// lazyCells makes every cell lazy, so tests can exercise engineColumn.
var lazyCells = false

// cursor holds the rows of the last xFilter of one SQLite cursor.
type cursor struct {
	ref  *vtabRef
	rows []map[string]string
	text []byte // scratch for materialize
}

func openConn(defs []*tableDef) (*conn, error) {
	name := C.CString(":memory:")
	defer C.free(unsafe.Pointer(name))
	var db *C.sqlite3
	rc := C.sqlite3_open_v2(name, &db, C.SQLITE_OPEN_READWRITE|C.SQLITE_OPEN_CREATE|C.SQLITE_OPEN_PRIVATECACHE, nil)
	if rc != C.SQLITE_OK {
		msg := "out of memory"
		if db != nil {
			msg = C.GoString(C.sqlite3_errmsg(db))
			C.sqlite3_close(db)
		}
		return nil, fmt.Errorf("engine: opening database: %s", msg)
	}
	c := &conn{db: db, pragma: (*C.int)(C.eng_malloc(C.size_t(unsafe.Sizeof(C.int(0)))))}
	if c.pragma == nil {
		C.sqlite3_close(db)
		return nil, errors.New("engine: opening database: out of memory")
	}
	*c.pragma = 0
	C.eng_watch_pragmas(db, c.pragma)
	// No ATTACH: queries must not reach files.
	C.sqlite3_limit(db, C.SQLITE_LIMIT_ATTACHED, 0)
	for _, d := range defs {
		h := cgo.NewHandle(&vtabRef{c: c, def: d})
		c.handles = append(c.handles, h)
		cname := C.CString(d.name)
		cschema := C.CString(d.schema)
		rc := C.eng_register(db, cname, C.uintptr_t(h), cschema)
		C.free(unsafe.Pointer(cname))
		C.free(unsafe.Pointer(cschema))
		if rc != C.SQLITE_OK {
			err := fmt.Errorf("engine: registering table %s: %s", d.name, C.GoString(C.sqlite3_errmsg(db)))
			c.close()
			return nil, err
		}
	}
	return c, nil
}

func (c *conn) close() error {
	var err error
	if rc := C.sqlite3_close(c.db); rc != C.SQLITE_OK {
		err = fmt.Errorf("engine: closing database: %s", C.GoString(C.sqlite3_errmsg(c.db)))
	}
	// SQLite has dropped its module and vtab references by now (all
	// statements are always finalized before a conn is closed).
	for _, h := range c.handles {
		h.Delete()
	}
	c.handles = nil
	C.free(unsafe.Pointer(c.pragma))
	c.pragma = nil
	return err
}

// query runs every statement of sql and returns the result of the last one
// that has columns.
func (c *conn) query(ctx context.Context, sql string) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.ctx = ctx
	defer func() { c.ctx = nil }()
	// Cancellation interrupts SQLite; generate functions see ctx themselves.
	// The interrupt must not outlive this query, since the conn is reused.
	interrupted := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(interrupted)
		C.sqlite3_interrupt(c.db)
	})
	defer func() {
		if !stop() {
			<-interrupted
		}
	}()

	csql := C.CString(sql)
	defer C.free(unsafe.Pointer(csql))
	var res *Result
	tail := csql
	for *tail != 0 {
		if err := ctx.Err(); err != nil {
			// Between statements an interrupt is forgotten (SQLite clears
			// it when the next one starts), so check here.
			return nil, fmt.Errorf("engine: query interrupted: %w", err)
		}
		var stmt *C.sqlite3_stmt
		var next *C.char
		c.lastErr = nil
		*c.pragma = 0
		if rc := C.sqlite3_prepare_v2(c.db, tail, -1, &stmt, &next); rc != C.SQLITE_OK {
			return nil, c.error(ctx)
		}
		if stmt == nil { // only white space or a comment left
			break
		}
		r, err := c.run(ctx, stmt)
		if C.sqlite3_stmt_readonly(stmt) == 0 || *c.pragma != 0 {
			c.dirty = true
		}
		C.sqlite3_finalize(stmt)
		if err != nil {
			return nil, err
		}
		if len(r.Columns) > 0 {
			res = r
		}
		tail = next
	}
	if C.sqlite3_get_autocommit(c.db) == 0 {
		c.dirty = true // a transaction left open
	}
	if res == nil {
		res = &Result{}
	}
	return res, nil
}

func (c *conn) run(ctx context.Context, stmt *C.sqlite3_stmt) (*Result, error) {
	n := int(C.sqlite3_column_count(stmt))
	res := &Result{Columns: make([]string, n)}
	for i := range n {
		res.Columns[i] = C.GoString(C.sqlite3_column_name(stmt, C.int(i)))
	}
	var (
		zs   []*C.uchar
		lens []C.int
		// Rows and their text are carved out of shared slabs: two
		// allocations per slab rather than one per row and one per cell.
		// Bytes of a text slab are never written after a string is made
		// of them.
		vals []Value
		text []byte
	)
	if n > 0 {
		zs = make([]*C.uchar, n)
		lens = make([]C.int, n)
	}
	for {
		switch rc := C.sqlite3_step(stmt); rc {
		case C.SQLITE_ROW:
			if n == 0 {
				continue
			}
			C.eng_row(stmt, C.int(n), &zs[0], &lens[0])
			if cap(vals)-len(vals) < n {
				vals = make([]Value, 0, n*rowsPerSlab)
			}
			row := vals[len(vals) : len(vals)+n : len(vals)+n]
			vals = vals[:len(vals)+n]
			size := 0
			for _, l := range lens {
				size += max(int(l), 0)
			}
			if cap(text)-len(text) < size {
				text = make([]byte, 0, max(size, textSlab))
			}
			for i, l := range lens {
				switch {
				case l < 0:
					row[i].Null = true
				case l > 0:
					start := len(text)
					text = append(text, unsafe.Slice((*byte)(unsafe.Pointer(zs[i])), int(l))...)
					row[i].Text = unsafe.String(&text[start], int(l))
				}
			}
			res.Rows = append(res.Rows, row)
		case C.SQLITE_DONE:
			return res, nil
		default:
			return nil, c.error(ctx)
		}
	}
}

const (
	rowsPerSlab = 64
	textSlab    = 16 << 10
)

// error turns the connection's last failure into an error: the context's
// error for an interrupt it caused, the generate error behind a failed
// xFilter (so errors.Is works on it), SQLite's message otherwise.
func (c *conn) error(ctx context.Context) error {
	msg := C.GoString(C.sqlite3_errmsg(c.db))
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("engine: query interrupted: %w", err)
	}
	if c.lastErr != nil {
		return c.lastErr
	}
	return errors.New(msg)
}

func setVtabError(vt *C.sqlite3_vtab, msg string) {
	C.eng_vtab_error(vt, (*C.char)(unsafe.Pointer(unsafe.StringData(msg))), C.int(len(msg)))
}

// recoverTo turns a panic in a callback into an SQLite error: a panic must
// never unwind through SQLite's C frames.
func recoverTo(vt *C.sqlite3_vtab, name string, rc *C.int) {
	if r := recover(); r != nil {
		setVtabError(vt, fmt.Sprintf("%s: internal error: %v", name, r))
		*rc = C.SQLITE_ERROR
	}
}

//export engineBestIndex
func engineBestIndex(h C.uintptr_t, vt *C.sqlite3_vtab, info *C.sqlite3_index_info) (rc C.int) {
	ref := cgo.Handle(h).Value().(*vtabRef)
	defer recoverTo(vt, ref.def.name, &rc)
	n := int(info.nConstraint)
	cs := make([]indexConstraint, n)
	var usage []C.struct_sqlite3_index_constraint_usage
	if n > 0 {
		for i, ic := range unsafe.Slice(info.aConstraint, n) {
			cs[i] = indexConstraint{col: int(ic.iColumn), op: int(ic.op), usable: ic.usable != 0}
		}
		usage = unsafe.Slice(info.aConstraintUsage, n)
	}
	p := bestIndex(ref.def.cols, cs, uint64(info.colUsed), func(i int) bool {
		return C.sqlite3_vtab_in(info, C.int(i), -1) != 0
	})
	for i := range usage {
		usage[i].argvIndex = C.int(p.argv[i])
		usage[i].omit = 0 // SQLite re-checks every constraint
		if p.argv[i] > 0 && p.slots[p.argv[i]-1].in {
			C.sqlite3_vtab_in(info, C.int(i), 1)
		}
	}
	s := encodePlan(p)
	info.idxStr = C.eng_strdup((*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.int(len(s)))
	if info.idxStr == nil {
		return C.SQLITE_NOMEM
	}
	info.needToFreeIdxStr = 1
	info.idxNum = 0
	info.estimatedCost = C.double(p.cost)
	return C.SQLITE_OK
}

//export engineFilter
func engineFilter(cur *C.eng_cursor, idxNum C.int, idxStr *C.char, argc C.int, argv **C.sqlite3_value) (rc C.int) {
	ref := cgo.Handle(C.eng_cursor_table(cur)).Value().(*vtabRef)
	vt := cur.base.pVtab
	def := ref.def
	defer recoverTo(vt, def.name, &rc)

	var idx string
	if idxStr != nil {
		idx = C.GoString(idxStr)
	}
	plan, err := decodePlan(idx, len(def.cols))
	if err != nil {
		setVtabError(vt, err.Error())
		return C.SQLITE_ERROR
	}
	if plan.missingRequired {
		err := requiredError(def.name)
		ref.c.lastErr = err
		setVtabError(vt, err.Error())
		return C.SQLITE_CONSTRAINT
	}

	// Like osqueryd's context JSON, the constraint map names every column,
	// with its type as affinity and an empty (non-nil) list when nothing
	// constrains it.
	qc := table.QueryContext{Constraints: make(map[string]table.ConstraintList, len(def.cols))}
	for _, col := range def.cols {
		qc.Constraints[col.name] = table.ConstraintList{Affinity: col.typ, Constraints: []table.Constraint{}}
	}
	add := func(col, op int, v *C.sqlite3_value) {
		var n C.int
		z := C.eng_value_text(v, &n)
		if z == nil || n <= 0 {
			return // osquery drops NULL and empty expressions
		}
		name := def.cols[col].name
		cl := qc.Constraints[name]
		cl.Constraints = append(cl.Constraints, table.Constraint{Operator: table.Operator(op), Expression: C.GoStringN(z, n)})
		qc.Constraints[name] = cl
	}
	var args []*C.sqlite3_value
	if argc > 0 {
		args = unsafe.Slice(argv, int(argc))
	}
	for i, s := range plan.slots {
		if i >= len(args) {
			break
		}
		if !s.in {
			add(s.col, s.op, args[i])
			continue
		}
		var v *C.sqlite3_value
		for r := C.eng_in_first(args[i], &v); r == C.SQLITE_OK && v != nil; r = C.eng_in_next(args[i], &v) {
			add(s.col, opEQ, v)
		}
	}

	ctx := ref.c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	rows, err := def.gen(ctx, qc)
	if err != nil {
		ref.c.lastErr = err
		setVtabError(vt, err.Error())
		return C.SQLITE_ERROR
	}
	if cur.h == 0 {
		cur.h = C.uintptr_t(cgo.NewHandle(&cursor{ref: ref}))
	}
	cr := cgo.Handle(cur.h).Value().(*cursor)
	cr.rows = rows
	if !cr.materialize(cur, plan.colUsed) {
		return C.SQLITE_NOMEM
	}
	cur.nrow = C.sqlite3_int64(len(rows))
	return C.SQLITE_OK
}

// materialize converts the columns the statement uses into C cells, so that
// SQLite reads them without calling into Go (a cgo callback per cell costs
// more than everything else in a scan). Other columns stay ENG_LAZY and go
// through engineColumn should SQLite ask for them anyway.
func (cr *cursor) materialize(cur *C.eng_cursor, colUsed uint64) bool {
	cols := cr.ref.def.cols
	n := len(cr.rows) * len(cols)
	cur.ncols = C.int(len(cols))
	if n == 0 {
		return true
	}
	cells := (*C.eng_cell)(C.eng_malloc(C.size_t(n) * C.size_t(unsafe.Sizeof(C.eng_cell{}))))
	if cells == nil {
		return false
	}
	cs := unsafe.Slice(cells, n)
	used := make([]bool, len(cols))
	for j := range cols {
		used[j] = usesColumn(colUsed, j) && !lazyCells
	}
	text := cr.text[:0]
	for r, row := range cr.rows {
		rc := cs[r*len(cols) : (r+1)*len(cols)]
		for j := range cols {
			cell := &rc[j]
			if !used[j] {
				cell.kind = C.ENG_LAZY
				continue
			}
			col := &cols[j]
			v := row[col.name] // a missing key reads as ""
			switch t, i, f := coerce(col.kind, v); t {
			case cellText:
				cell.kind = C.SQLITE_TEXT
				cell.i = C.sqlite3_int64(len(text))
				cell.n = C.int(len(v))
				text = append(text, v...)
			case cellInt:
				cell.kind, cell.i = C.SQLITE_INTEGER, C.sqlite3_int64(i)
			case cellFloat:
				cell.kind, cell.f = C.SQLITE_FLOAT, C.double(f)
			default:
				cell.kind = C.SQLITE_NULL
			}
		}
	}
	cur.cells = cells
	if len(text) > 0 {
		p := C.eng_malloc(C.size_t(len(text)))
		if p == nil {
			return false // eng_cursor_clear frees cells
		}
		copy(unsafe.Slice((*byte)(p), len(text)), text)
		cur.text = (*C.char)(p)
	}
	if cap(text) <= 1<<20 {
		cr.text = text // reused by the next filter of this cursor
	} else {
		cr.text = nil
	}
	return true
}

// engineColumn answers xColumn for a cell materialize left lazy.
//
//export engineColumn
func engineColumn(cur *C.eng_cursor, ctx *C.sqlite3_context, i C.int) (rc C.int) {
	vt := cur.base.pVtab
	if cur.h == 0 {
		setVtabError(vt, "engine: column read before filter")
		return C.SQLITE_ERROR
	}
	cr := cgo.Handle(cur.h).Value().(*cursor)
	defer recoverTo(vt, cr.ref.def.name, &rc)
	col := &cr.ref.def.cols[i]
	v := cr.rows[cur.row][col.name] // a missing key reads as ""
	switch t, n, f := coerce(col.kind, v); t {
	case cellText:
		C.eng_result_text(ctx, (*C.char)(unsafe.Pointer(unsafe.StringData(v))), C.int(len(v)))
	case cellInt:
		C.eng_result_int64(ctx, C.sqlite3_int64(n))
	case cellFloat:
		C.eng_result_double(ctx, C.double(f))
	default:
		C.eng_result_null(ctx)
	}
	return C.SQLITE_OK
}

// engineRowids computes the rowid of every row of the cursor's scan (see
// rowID) into cur.rowids.
//
//export engineRowids
func engineRowids(cur *C.eng_cursor) (rc C.int) {
	vt := cur.base.pVtab
	if cur.h == 0 {
		setVtabError(vt, "engine: rowid read before filter")
		return C.SQLITE_ERROR
	}
	cr := cgo.Handle(cur.h).Value().(*cursor)
	def := cr.ref.def
	defer recoverTo(vt, def.name, &rc)
	p := (*C.sqlite3_int64)(C.eng_malloc(C.size_t(max(len(cr.rows), 1)) * C.size_t(unsafe.Sizeof(C.sqlite3_int64(0)))))
	if p == nil {
		return C.SQLITE_NOMEM
	}
	ids := unsafe.Slice(p, len(cr.rows))
	for i, row := range cr.rows {
		id, err := rowID(def.cols, row)
		if err != nil {
			C.free(unsafe.Pointer(p))
			setVtabError(vt, def.name+": "+err.Error())
			return C.SQLITE_ERROR
		}
		ids[i] = C.sqlite3_int64(id)
	}
	cur.rowids = p
	return C.SQLITE_OK
}

//export engineCursorClose
func engineCursorClose(h C.uintptr_t) {
	cgo.Handle(h).Delete()
}
