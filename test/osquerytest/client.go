package osquerytest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/osquery/osquery-go/gen/osquery"
)

// SQLite constraint operators, passed through unchanged by osqueryd.
const (
	OpEquals              = 2
	OpGreaterThan         = 4
	OpLessThanOrEquals    = 8
	OpLessThan            = 16
	OpGreaterThanOrEquals = 32
	OpMatch               = 64
	OpLike                = 65
	OpGlob                = 66
	OpRegexp              = 67
	OpNotEquals           = 68
	OpIsNot               = 69
	OpIsNotNull           = 70
	OpIsNull              = 71
	OpIs                  = 72
)

// Column option bits of a table route's "op".
const (
	ColumnIndex      = 1
	ColumnRequired   = 2
	ColumnAdditional = 4
	ColumnOptimized  = 8
	ColumnHidden     = 16
)

// callTimeout is osqueryd's --thrift_timeout, used when ctx has no deadline.
const callTimeout = 300 * time.Second

// Constraint is one WHERE term as SQLite hands it to osquery's xBestIndex:
// the column, the SQLite operator and the right-hand side rendered as text.
type Constraint struct {
	Column string
	Op     int
	Expr   string
}

// Query describes the SQL whose generate call is simulated.
type Query struct {
	// Columns the query uses (SQLite's colUsed). Nil means SELECT *: every
	// non-hidden column, plus the columns named in constraints.
	Columns     []string
	Constraints []Constraint
}

// Column is a table column as the extension registered it.
type Column struct {
	Name string
	Type string // TEXT, INTEGER, BIGINT, UNSIGNED BIGINT, DOUBLE, BLOB
	Op   int    // option bits: ColumnIndex, ColumnRequired, ...
}

// Hidden reports the HIDDEN option.
func (c Column) Hidden() bool { return c.Op&ColumnHidden != 0 }

// receivesConstraints reports whether osqueryd passes WHERE constraints on
// the column: with --extensions_default_index (the default) an op of exactly
// 0 counts as INDEX; otherwise INDEX, REQUIRED or ADDITIONAL is needed.
func (c Column) receivesConstraints() bool {
	return c.Op == 0 || c.Op&(ColumnIndex|ColumnRequired|ColumnAdditional) != 0
}

// StatusError is a non-zero ExtensionStatus from the extension.
type StatusError struct {
	Code    int32
	Message string
}

func (e *StatusError) Error() string { return fmt.Sprintf("status %d: %s", e.Code, e.Message) }

// LaunchArgs returns argv exactly as osqueryd builds it for an autoloaded
// extension with default --extensions_timeout and --extensions_interval:
// [path, ("--verbose"), "--socket", sock, "--timeout", "3", "--interval", "3"].
func LaunchArgs(binPath, sock string, verbose bool) []string {
	args := []string{binPath}
	if verbose {
		args = append(args, "--verbose")
	}
	return append(args, "--socket", sock, "--timeout", "3", "--interval", "3")
}

// Columns returns the columns of a registered table, in declaration order.
func (m *Manager) Columns(table string) ([]Column, error) {
	_, routes, err := m.tableOwner(table)
	if err != nil {
		return nil, err
	}
	return parseColumns(table, routes)
}

func parseColumns(table string, routes []map[string]string) ([]Column, error) {
	var cols []Column
	for _, r := range routes {
		if r["id"] != "column" {
			continue // alias, columnAlias, attributes
		}
		op, err := strconv.Atoi(r["op"])
		if err != nil {
			return nil, fmt.Errorf("table %s column %s: bad op %q", table, r["name"], r["op"])
		}
		cols = append(cols, Column{Name: r["name"], Type: r["type"], Op: op})
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("table %s: no columns in its routes", table)
	}
	return cols, nil
}

// tableOwner finds the extension serving a table.
func (m *Manager) tableOwner(table string) (int64, []map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for uuid, e := range m.exts {
		if routes, ok := e.Routes["table"][table]; ok {
			return uuid, routes, nil
		}
	}
	return 0, nil, fmt.Errorf("no such table: %s", table)
}

// ContextJSON builds the generate context osqueryd sends for q against a
// registered table.
func (m *Manager) ContextJSON(table string, q Query) (string, error) {
	cols, err := m.Columns(table)
	if err != nil {
		return "", err
	}
	return BuildContext(table, cols, q)
}

// BuildContext renders osqueryd's query-context JSON (rapidjson, compact):
//
//	{"constraints":[{"name":C,"list":[{"op":N,"expr":S},...],"affinity":T},...],
//	 "colsUsed":[...],"colsUsedBitset":N}
//
// with one constraints entry per column sorted by name (empty lists for
// unconstrained columns), affinity = column type, and only the constraints
// osqueryd passes: on columns that receive constraints, no <, <=, >, >= on
// TEXT columns, no empty (or NULL) right-hand sides. colsUsed is sorted by
// name; bit i of colsUsedBitset is column i in declaration order.
func BuildContext(table string, cols []Column, q Query) (string, error) {
	byName := map[string]int{}
	for i, c := range cols {
		byName[c.Name] = i
	}
	lists := make(map[string][]Constraint, len(cols))
	referenced := map[string]bool{}
	for _, c := range q.Constraints {
		i, ok := byName[c.Column]
		if !ok {
			return "", fmt.Errorf("no such column: %s.%s", table, c.Column)
		}
		referenced[c.Column] = true
		col := cols[i]
		if !col.receivesConstraints() {
			continue
		}
		if col.Type == "TEXT" && (c.Op == OpGreaterThan || c.Op == OpLessThanOrEquals || c.Op == OpLessThan || c.Op == OpGreaterThanOrEquals) {
			continue
		}
		if c.Expr == "" {
			continue
		}
		lists[c.Column] = append(lists[c.Column], c)
	}
	for _, col := range cols {
		if col.Op&ColumnRequired != 0 && len(lists[col.Name]) == 0 {
			return "", fmt.Errorf("Table %s was queried without a required column in the WHERE clause", table)
		}
	}

	var used []string
	if q.Columns == nil {
		for _, col := range cols {
			if !col.Hidden() || referenced[col.Name] {
				used = append(used, col.Name)
			}
		}
	} else {
		for _, name := range q.Columns {
			if _, ok := byName[name]; !ok {
				return "", fmt.Errorf("no such column: %s.%s", table, name)
			}
			if !slices.Contains(used, name) {
				used = append(used, name)
			}
		}
		for name := range referenced {
			if !slices.Contains(used, name) {
				used = append(used, name)
			}
		}
	}
	slices.Sort(used)
	var bitset uint64
	for _, name := range used {
		bitset |= 1 << min(byName[name], 63) // SQLite: bit 63 stands for columns 63 and above
	}

	sorted := slices.Clone(cols)
	slices.SortFunc(sorted, func(a, b Column) int { return strings.Compare(a.Name, b.Name) })
	var b strings.Builder
	b.WriteString(`{"constraints":[`)
	for i, col := range sorted {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"name":`)
		writeJSONString(&b, col.Name)
		b.WriteString(`,"list":[`)
		for j, c := range lists[col.Name] {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"op":`)
			b.WriteString(strconv.Itoa(c.Op))
			b.WriteString(`,"expr":`)
			writeJSONString(&b, c.Expr)
			b.WriteByte('}')
		}
		b.WriteString(`],"affinity":`)
		writeJSONString(&b, col.Type)
		b.WriteByte('}')
	}
	b.WriteString(`],"colsUsed":[`)
	for i, name := range used {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, name)
	}
	b.WriteString(`],"colsUsedBitset":`)
	b.WriteString(strconv.FormatUint(bitset, 10))
	b.WriteByte('}')
	return b.String(), nil
}

// writeJSONString escapes like rapidjson's default Writer: quote, backslash
// and control characters only (\b \t \n \f \r short forms, \u00XX with
// upper-case hex otherwise); '/' and non-ASCII bytes are written as they are.
func writeJSONString(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\f':
			b.WriteString(`\f`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xF])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// Generate runs a table's generate as osqueryd does for
// SELECT * FROM table WHERE <cons>: it builds the exact context JSON and
// returns the rows as the extension sent them (no coercion). A non-zero
// status is a *StatusError.
func (m *Manager) Generate(ctx context.Context, table string, cons ...Constraint) ([]map[string]string, error) {
	return m.GenerateQuery(ctx, table, Query{Constraints: cons})
}

// GenerateQuery is Generate with an explicit colsUsed.
func (m *Manager) GenerateQuery(ctx context.Context, table string, q Query) ([]map[string]string, error) {
	uuid, routes, err := m.tableOwner(table)
	if err != nil {
		return nil, err
	}
	if err := m.checkColumnsAction(ctx, uuid, table, routes); err != nil {
		return nil, err
	}
	cols, err := parseColumns(table, routes)
	if err != nil {
		return nil, err
	}
	js, err := BuildContext(table, cols, q)
	if err != nil {
		return nil, err
	}
	return m.generate(ctx, uuid, table, js)
}

// GenerateContext sends a hand-made context JSON.
func (m *Manager) GenerateContext(ctx context.Context, table, contextJSON string) ([]map[string]string, error) {
	uuid, _, err := m.tableOwner(table)
	if err != nil {
		return nil, err
	}
	return m.generate(ctx, uuid, table, contextJSON)
}

func (m *Manager) generate(ctx context.Context, uuid int64, table, contextJSON string) ([]map[string]string, error) {
	resp, err := m.Call(ctx, uuid, "table", table, map[string]string{"action": "generate", "context": contextJSON})
	if err != nil {
		return nil, fmt.Errorf("generate %s: %w", table, err)
	}
	if st := resp.GetStatus(); st == nil || st.Code != CodeSuccess {
		return nil, fmt.Errorf("generate %s: %w", table, statusErr(st))
	}
	rows := make([]map[string]string, len(resp.Response))
	copy(rows, resp.Response)
	return rows, nil
}

func statusErr(st *osquery.ExtensionStatus) error {
	if st == nil {
		return &StatusError{Code: -1, Message: "no status in response"}
	}
	return &StatusError{Code: st.Code, Message: st.Message}
}

// checkColumnsAction asks the extension for its columns once per
// registration, as osqueryd does when it creates the virtual table, and
// checks the answer matches the broadcast routes.
func (m *Manager) checkColumnsAction(ctx context.Context, uuid int64, table string, routes []map[string]string) error {
	key := fmt.Sprintf("%d/%s", uuid, table)
	m.mu.Lock()
	done := m.columnsOK[key]
	m.mu.Unlock()
	if done {
		return nil
	}
	resp, err := m.Call(ctx, uuid, "table", table, map[string]string{"action": "columns"})
	if err != nil {
		return fmt.Errorf("columns %s: %w", table, err)
	}
	if st := resp.GetStatus(); st == nil || st.Code != CodeSuccess {
		return fmt.Errorf("columns %s: %w", table, statusErr(st))
	}
	got, err := parseColumns(table, resp.Response)
	if err != nil {
		return err
	}
	want, err := parseColumns(table, routes)
	if err != nil {
		return err
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("table %s: columns action %v disagrees with registered routes %v", table, got, want)
	}
	m.mu.Lock()
	m.columnsOK[key] = true
	m.mu.Unlock()
	return nil
}

// CallLogger sends a logger request, as osqueryd's logger relay does, to
// the extension that registered the logger plugin.
func (m *Manager) CallLogger(ctx context.Context, plugin string, req map[string]string) (code int, msg string, err error) {
	var uuid int64 = -1
	m.mu.Lock()
	for u, e := range m.exts {
		if _, ok := e.Routes["logger"][plugin]; ok {
			uuid = u
		}
	}
	m.mu.Unlock()
	if uuid < 0 {
		return 0, "", fmt.Errorf("no logger plugin %s registered", plugin)
	}
	resp, err := m.Call(ctx, uuid, "logger", plugin, req)
	if err != nil {
		return 0, "", err
	}
	st := resp.GetStatus()
	if st == nil {
		return 0, "", errors.New("logger call: no status in response")
	}
	return int(st.Code), st.Message, nil
}

// Call sends call(registry, item, req) to the extension with uuid over a
// fresh connection to its socket, as osqueryd does per call.
func (m *Manager) Call(ctx context.Context, uuid int64, registry, item string, req map[string]string) (*osquery.ExtensionResponse, error) {
	var resp *osquery.ExtensionResponse
	err := m.withExtension(ctx, uuid, func(c *osquery.ExtensionClient) error {
		var err error
		resp, err = c.Call(ctx, registry, item, req)
		return err
	})
	return resp, err
}

// PingExtension calls ping() on the extension's socket.
func (m *Manager) PingExtension(ctx context.Context, uuid int64) (*osquery.ExtensionStatus, error) {
	var st *osquery.ExtensionStatus
	err := m.withExtension(ctx, uuid, func(c *osquery.ExtensionClient) error {
		var err error
		st, err = c.Ping(ctx)
		return err
	})
	return st, err
}

// ShutdownExtension calls the extension's shutdown(), as osqueryd does for
// every extension when it stops.
func (m *Manager) ShutdownExtension(ctx context.Context, uuid int64) error {
	return m.withExtension(ctx, uuid, func(c *osquery.ExtensionClient) error {
		return c.Shutdown(ctx)
	})
}

func (m *Manager) withExtension(ctx context.Context, uuid int64, f func(*osquery.ExtensionClient) error) error {
	timeout := callTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
		if timeout <= 0 {
			return context.DeadlineExceeded
		}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", m.ExtensionSocket(uuid))
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	conf := thriftConf(timeout)
	trans := thrift.NewTBufferedTransport(thrift.NewTSocketFromConnConf(conn, conf), 8192)
	client := osquery.NewExtensionClientFactory(trans, thrift.NewTBinaryProtocolFactoryConf(conf))
	err = f(client)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}
