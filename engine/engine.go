//go:build sqlite_vtable

package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// tableDef is a table as every connection registers it.
type tableDef struct {
	name   string
	cols   []column
	gen    table.GenerateFunc
	schema string // the CREATE TABLE given to sqlite3_declare_vtab
}

// Engine answers SQL over a fixed set of tables. It is safe for concurrent
// use.
//
// Connections: each is a private in-memory SQLite database on which every
// table is an eponymous virtual table (it exists without CREATE VIRTUAL
// TABLE). The database holds no data of its own, so connections are
// interchangeable: a query takes any idle one, or opens a new one, up to
// PoolSize. A connection on which a query changed state (a write, a temporary
// table, a transaction left open) is closed instead of reused, so every
// query starts from the same empty schema.
type Engine struct {
	defs  []*tableDef
	slots chan struct{} // one token per running query

	mu     sync.Mutex
	idle   []*conn
	closed bool
}

// New returns an engine serving tables. Table names must be unique (SQLite
// compares them without regard to case); each table needs a Generate
// function and at least one column. Tables are usually wrapped with
// tablekit.Wrap first, for its timeout, concurrency cap and panic recovery.
func New(tables []tablekit.Table) (*Engine, error) {
	defs, err := buildDefs(tables)
	if err != nil {
		return nil, err
	}
	e := &Engine{defs: defs, slots: make(chan struct{}, PoolSize)}
	// Open one connection now, and have SQLite parse every table's
	// declaration, so that a bad schema fails here and not in a query.
	c, err := openConn(defs)
	if err != nil {
		return nil, err
	}
	for _, d := range defs {
		r, err := c.query(context.Background(), "PRAGMA table_xinfo("+quoteIdent(d.name)+")")
		if err == nil && len(r.Rows) != len(d.cols) {
			err = fmt.Errorf("declared %d columns, SQLite sees %d", len(d.cols), len(r.Rows))
		}
		if err != nil {
			c.close()
			return nil, fmt.Errorf("engine: table %s: %w", d.name, err)
		}
	}
	c.dirty = false // PRAGMA table_xinfo changes nothing
	e.idle = append(e.idle, c)
	return e, nil
}

// Query runs sql, which may hold several statements, and returns the result
// of the last statement that returns columns (empty if none does). It waits
// for a free connection if PoolSize queries are already running. Cancelling
// ctx interrupts the query; ctx is also the context the tables' generate
// functions receive.
func (e *Engine) Query(ctx context.Context, sql string) (*Result, error) {
	select {
	case e.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-e.slots }()
	c, err := e.get()
	if err != nil {
		return nil, err
	}
	res, err := c.query(ctx, sql)
	e.put(c)
	return res, err
}

// Close closes the idle connections; connections in use close when their
// query ends. Query fails with ErrClosed afterwards.
func (e *Engine) Close() error {
	e.mu.Lock()
	idle := e.idle
	e.idle = nil
	e.closed = true
	e.mu.Unlock()
	var errs []error
	for _, c := range idle {
		errs = append(errs, c.close())
	}
	return errors.Join(errs...)
}

func (e *Engine) get() (*conn, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrClosed
	}
	if n := len(e.idle); n > 0 {
		c := e.idle[n-1]
		e.idle = e.idle[:n-1]
		e.mu.Unlock()
		return c, nil
	}
	e.mu.Unlock()
	return openConn(e.defs)
}

func (e *Engine) put(c *conn) {
	e.mu.Lock()
	if !e.closed && !c.dirty {
		e.idle = append(e.idle, c)
		c = nil
	}
	e.mu.Unlock()
	if c != nil {
		c.close()
	}
}

// knownTypes are the column types osquery knows.
var knownTypes = map[table.ColumnType]bool{
	table.ColumnTypeText:           true,
	table.ColumnTypeInteger:        true,
	table.ColumnTypeBigInt:         true,
	table.ColumnTypeUnsignedBigInt: true,
	table.ColumnTypeDouble:         true,
	table.ColumnTypeBlob:           true,
	table.ColumnTypeUnknown:        true,
}

func buildDefs(tables []tablekit.Table) ([]*tableDef, error) {
	seen := map[string]bool{}
	defs := make([]*tableDef, 0, len(tables))
	for _, t := range tables {
		if t.Name == "" {
			return nil, errors.New("engine: table without a name")
		}
		key := strings.ToLower(t.Name)
		if seen[key] {
			return nil, fmt.Errorf("engine: duplicate table %s", t.Name)
		}
		seen[key] = true
		if t.Generate == nil {
			return nil, fmt.Errorf("engine: table %s: no generate function", t.Name)
		}
		if len(t.Columns) == 0 {
			return nil, fmt.Errorf("engine: table %s: no columns", t.Name)
		}
		d := &tableDef{name: t.Name, gen: t.Generate}
		colSeen := map[string]bool{}
		var decl strings.Builder
		decl.WriteString("CREATE TABLE x(")
		for i, cd := range t.Columns {
			if cd.Name == "" {
				return nil, fmt.Errorf("engine: table %s: column %d has no name", t.Name, i)
			}
			if k := strings.ToLower(cd.Name); colSeen[k] {
				return nil, fmt.Errorf("engine: table %s: duplicate column %s", t.Name, cd.Name)
			} else {
				colSeen[k] = true
			}
			if !knownTypes[cd.Type] {
				return nil, fmt.Errorf("engine: table %s: column %s: unknown type %q", t.Name, cd.Name, cd.Type)
			}
			col := column{name: cd.Name, typ: cd.Type, opts: cd.Options(), kind: kindOf(cd.Type)}
			d.cols = append(d.cols, col)
			if i > 0 {
				decl.WriteString(", ")
			}
			decl.WriteString(quoteIdent(cd.Name))
			decl.WriteByte(' ')
			decl.WriteString(string(cd.Type))
			if col.opts&optHidden != 0 {
				decl.WriteString(" HIDDEN")
			}
		}
		decl.WriteByte(')')
		d.schema = decl.String()
		defs = append(defs, d)
	}
	return defs, nil
}

func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
