// Package tablekit is the one way every table of this extension is built:
// a Table (name, columns, generate function) becomes an osquery-go plugin or
// an embedded-engine virtual table only through Wrap, which bounds its run
// time below osquery's 300 s Thrift limit, caps concurrent calls and turns a
// panic into an error.
package tablekit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/osquery/osquery-go/plugin/table"
)

// Table is a table definition independent of how it is served.
type Table struct {
	Name        string
	Description string
	Columns     []table.ColumnDefinition
	Generate    table.GenerateFunc
}

// Options tune Wrap.
type Options struct {
	// Timeout bounds one generate call. osqueryd's Thrift client gives up after
	// 300 s (--thrift_timeout) and then poisons the connection, so a table
	// must answer well before that. Zero means DefaultTimeout.
	Timeout time.Duration
	// MaxConcurrent caps simultaneous generate calls of one table; extra
	// calls fail at once rather than pile up. Zero means DefaultConcurrency.
	MaxConcurrent int
	Logger        *slog.Logger
}

// Defaults for Options.
const (
	DefaultTimeout     = 240 * time.Second
	MaxTimeout         = 299 * time.Second
	DefaultConcurrency = 4
)

// ErrBusy is returned when a table already runs MaxConcurrent generate calls.
var ErrBusy = errors.New("table busy: too many concurrent queries")

// Wrap returns t with its Generate guarded by a timeout, a concurrency cap
// and panic recovery.
func Wrap(t Table, o Options) Table {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = DefaultConcurrency
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	gen := t.Generate
	slots := make(chan struct{}, o.MaxConcurrent)
	name := t.Name
	t.Generate = func(ctx context.Context, qc table.QueryContext) ([]map[string]string, error) {
		select {
		case slots <- struct{}{}:
		default:
			return nil, fmt.Errorf("%s: %w", name, ErrBusy)
		}
		ctx, cancel := context.WithTimeout(ctx, o.Timeout)
		// Cancelled only here, after the select: cancelling in the
		// goroutine would race its result against ctx.Done.
		defer cancel()
		type result struct {
			rows []map[string]string
			err  error
		}
		done := make(chan result, 1)
		go func() {
			// The slot is released when generate really returns, not at the
			// timeout, so a stuck generate keeps counting against the cap.
			defer func() { <-slots }()
			defer func() {
				if r := recover(); r != nil {
					o.Logger.Error("table generate panicked", "table", name, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
					done <- result{err: fmt.Errorf("%s: internal error: %v", name, r)}
				}
			}()
			rows, err := gen(ctx, qc)
			done <- result{rows, err}
		}()
		select {
		case r := <-done:
			return r.rows, r.err
		case <-ctx.Done():
			o.Logger.Warn("table generate timed out", "table", name, "timeout", o.Timeout.String(), "constraints", describe(qc))
			return nil, fmt.Errorf("%s: query timed out after %s", name, o.Timeout)
		}
	}
	return t
}

// Plugin returns the osquery-go table plugin serving t, which the caller
// has wrapped (Wrap) once for every way it is served.
func Plugin(t Table) *table.Plugin {
	return table.NewPlugin(t.Name, t.Columns, t.Generate, table.WithDescription(t.Description))
}

func describe(qc table.QueryContext) string {
	s := ""
	for col, cl := range qc.Constraints {
		for _, c := range cl.Constraints {
			s += fmt.Sprintf("%s op%d %q; ", col, c.Operator, c.Expression)
		}
	}
	return s
}
