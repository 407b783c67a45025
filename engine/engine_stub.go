//go:build !sqlite_vtable

package engine

import (
	"context"

	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// Engine is unavailable in this build; see ErrNoVTable.
type Engine struct{}

// New returns ErrNoVTable: this binary was built without the sqlite_vtable
// tag.
func New(tables []tablekit.Table) (*Engine, error) { return nil, ErrNoVTable }

// Query returns ErrNoVTable.
func (e *Engine) Query(ctx context.Context, sql string) (*Result, error) { return nil, ErrNoVTable }

// Close does nothing.
func (e *Engine) Close() error { return nil }
