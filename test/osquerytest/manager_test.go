package osquerytest

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	osqueryext "github.com/osquery/osquery-go"
	"github.com/osquery/osquery-go/gen/osquery"
	"github.com/osquery/osquery-go/plugin/logger"
	"github.com/osquery/osquery-go/plugin/table"
)

// recordingTable wraps a real osquery-go table plugin and keeps every
// request it receives, so tests see the raw context JSON on the wire.
type recordingTable struct {
	*table.Plugin
	mu   sync.Mutex
	reqs []map[string]string
	qcs  []table.QueryContext
}

func (r *recordingTable) Call(ctx context.Context, req osquery.ExtensionPluginRequest) osquery.ExtensionResponse {
	r.mu.Lock()
	cp := map[string]string{}
	for k, v := range req {
		cp[k] = v
	}
	r.reqs = append(r.reqs, cp)
	r.mu.Unlock()
	return r.Plugin.Call(ctx, req)
}

func (r *recordingTable) lastGenerate(t *testing.T) (string, table.QueryContext) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.reqs) - 1; i >= 0; i-- {
		if r.reqs[i]["action"] == "generate" {
			if len(r.reqs[i]) != 2 {
				t.Errorf("generate request has keys %v, want exactly action and context", r.reqs[i])
			}
			return r.reqs[i]["context"], r.qcs[len(r.qcs)-1]
		}
	}
	t.Fatal("no generate request received")
	return "", table.QueryContext{}
}

func newDemoTable(name string) *recordingTable {
	r := &recordingTable{}
	cols := []table.ColumnDefinition{
		table.BigIntColumn("time"),
		table.TextColumn("host"),
		table.TextColumn("message"),
		table.IntegerColumn("severity", table.HiddenColumn()),
		table.BigIntColumn("eid", table.HiddenColumn(), table.AdditionalColumn()),
	}
	r.Plugin = table.NewPlugin(name, cols, func(ctx context.Context, qc table.QueryContext) ([]map[string]string, error) {
		r.mu.Lock()
		r.qcs = append(r.qcs, qc)
		r.mu.Unlock()
		// Deliberately not coerced: numbers as odd strings, a missing key.
		return []map[string]string{
			{"time": "1700000001", "host": "a", "message": "hello, \"world\"", "eid": "0000000001"},
			{"time": "0x10", "host": "b", "message": ""},
		}, nil
	})
	return r
}

// startExtension runs a real osquery-go extension server against m.
func startExtension(t *testing.T, m *Manager, name string, plugins ...osqueryext.OsqueryPlugin) (*osqueryext.ExtensionManagerServer, <-chan error) {
	t.Helper()
	srv, err := osqueryext.NewExtensionManagerServer(name, m.Socket(), osqueryext.ServerTimeout(10*time.Second))
	if err != nil {
		t.Fatalf("NewExtensionManagerServer: %v", err)
	}
	srv.RegisterPlugin(plugins...)
	done := make(chan error, 1)
	go func() { done <- srv.Start() }()
	t.Cleanup(func() {
		_ = srv.Shutdown(context.Background())
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("extension %s did not stop", name)
		}
	})
	return srv, done
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func managerClient(t *testing.T, m *Manager) *osqueryext.ExtensionManagerClient {
	t.Helper()
	c, err := osqueryext.NewClient(m.Socket(), 10*time.Second)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestRegisterListAndGenerate(t *testing.T) {
	m := New(t, Options{})
	demo := newDemoTable("harness_demo")
	startExtension(t, m, "demo-ext", demo)
	ctx := waitCtx(t)

	info, err := m.WaitExtension(ctx, "demo-ext")
	if err != nil {
		t.Fatal(err)
	}
	if info.UUID < 1 || info.UUID > 65535 {
		t.Errorf("uuid %d is not a non-zero uint16", info.UUID)
	}
	for _, reg := range []string{"table", "logger", "config", "distributed"} {
		if _, ok := info.Routes[reg]; !ok {
			t.Errorf("osquery-go broadcast lacks registry %q: %v", reg, info.Routes)
		}
	}
	wantRoutes := []map[string]string{
		{"id": "column", "name": "time", "type": "BIGINT", "op": "0"},
		{"id": "column", "name": "host", "type": "TEXT", "op": "0"},
		{"id": "column", "name": "message", "type": "TEXT", "op": "0"},
		{"id": "column", "name": "severity", "type": "INTEGER", "op": "16"},
		{"id": "column", "name": "eid", "type": "BIGINT", "op": "20"},
	}
	if got := info.Routes["table"]["harness_demo"]; !reflect.DeepEqual(got, wantRoutes) {
		t.Errorf("routes:\n got %v\nwant %v", got, wantRoutes)
	}

	// extensions() over Thrift, as the extension itself would ask.
	list, err := managerClient(t, m).Extensions()
	if err != nil {
		t.Fatal(err)
	}
	if e := list[osquery.ExtensionRouteUUID(info.UUID)]; e == nil || e.Name != "demo-ext" {
		t.Errorf("extensions() = %v, want uuid %d named demo-ext", list, info.UUID)
	}

	rows, err := m.Generate(ctx, "harness_demo",
		Constraint{Column: "host", Op: OpEquals, Expr: "a"},
		Constraint{Column: "time", Op: OpGreaterThan, Expr: "1700000000"},
		Constraint{Column: "message", Op: OpGreaterThan, Expr: "m"}, // TEXT range: never passed
		Constraint{Column: "message", Op: OpEquals, Expr: ""},       // empty: dropped
		Constraint{Column: "severity", Op: OpEquals, Expr: "3"},     // HIDDEN only: no pushdown
		Constraint{Column: "eid", Op: OpGreaterThanOrEquals, Expr: "5"},
		Constraint{Column: "host", Op: OpLike, Expr: "%b"},
	)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"constraints":[` +
		`{"name":"eid","list":[{"op":32,"expr":"5"}],"affinity":"BIGINT"},` +
		`{"name":"host","list":[{"op":2,"expr":"a"},{"op":65,"expr":"%b"}],"affinity":"TEXT"},` +
		`{"name":"message","list":[],"affinity":"TEXT"},` +
		`{"name":"severity","list":[],"affinity":"INTEGER"},` +
		`{"name":"time","list":[{"op":4,"expr":"1700000000"}],"affinity":"BIGINT"}],` +
		`"colsUsed":["eid","host","message","severity","time"],"colsUsedBitset":31}`
	gotJSON, qc := demo.lastGenerate(t)
	if gotJSON != wantJSON {
		t.Errorf("context JSON on the wire:\n got %s\nwant %s", gotJSON, wantJSON)
	}
	// osquery-go decodes it into the constraints the table sees.
	if c := qc.Constraints["host"].Constraints; len(c) != 2 || c[0].Operator != OpEquals || c[0].Expression != "a" || c[1].Operator != OpLike || c[1].Expression != "%b" {
		t.Errorf("host constraints seen by the table: %+v", c)
	}
	if cl := qc.Constraints["time"]; cl.Affinity != table.ColumnTypeBigInt || len(cl.Constraints) != 1 || cl.Constraints[0].Operator != OpGreaterThan {
		t.Errorf("time constraints seen by the table: %+v", cl)
	}
	if n := len(qc.Constraints["message"].Constraints) + len(qc.Constraints["severity"].Constraints); n != 0 {
		t.Errorf("message/severity got %d constraints, want 0", n)
	}
	// Rows come back raw: no coercion, no filling of missing keys.
	wantRows := []map[string]string{
		{"time": "1700000001", "host": "a", "message": "hello, \"world\"", "eid": "0000000001"},
		{"time": "0x10", "host": "b", "message": ""},
	}
	if !reflect.DeepEqual(rows, wantRows) {
		t.Errorf("rows:\n got %v\nwant %v", rows, wantRows)
	}

	// An explicit column list: colsUsed is just what the query names.
	if _, err := m.GenerateQuery(ctx, "harness_demo", Query{Columns: []string{"message"}}); err != nil {
		t.Fatal(err)
	}
	gotJSON, _ = demo.lastGenerate(t)
	if !strings.HasSuffix(gotJSON, `"colsUsed":["message"],"colsUsedBitset":4}`) {
		t.Errorf("explicit columns: %s", gotJSON)
	}

	// The columns action was asked once, as osqueryd does when attaching.
	demo.mu.Lock()
	ncols := 0
	for _, r := range demo.reqs {
		if r["action"] == "columns" {
			ncols++
		}
	}
	demo.mu.Unlock()
	if ncols != 1 {
		t.Errorf("columns action called %d times, want 1", ncols)
	}

	if _, err := m.Generate(ctx, "no_such_table"); err == nil {
		t.Error("generate on an unknown table succeeded")
	}
	if _, err := m.Generate(ctx, "harness_demo", Constraint{Column: "nope", Op: OpEquals, Expr: "x"}); err == nil {
		t.Error("constraint on an unknown column accepted")
	}
}

// The example of osquery-behavior §4.4, byte for byte.
func TestBuildContextReferenceExample(t *testing.T) {
	cols := []Column{{"time", "BIGINT", 0}, {"host", "TEXT", 0}, {"message", "TEXT", 0}}
	got, err := BuildContext("t", cols, Query{Constraints: []Constraint{
		{Column: "host", Op: OpEquals, Expr: "a"},
		{Column: "time", Op: OpGreaterThan, Expr: "1700000000"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"constraints":[{"name":"host","list":[{"op":2,"expr":"a"}],"affinity":"TEXT"},{"name":"message","list":[],"affinity":"TEXT"},{"name":"time","list":[{"op":4,"expr":"1700000000"}],"affinity":"BIGINT"}],"colsUsed":["host","message","time"],"colsUsedBitset":7}`
	if got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}

func TestBuildContextRules(t *testing.T) {
	cols := []Column{
		{"path", "TEXT", ColumnRequired},
		{"size", "BIGINT", ColumnHidden},                     // no pushdown
		{"name", "TEXT", ColumnIndex},                        // pushdown, but no TEXT ranges
		{"mtime", "BIGINT", ColumnAdditional | ColumnHidden}, // pushdown
	}
	tests := []struct {
		name    string
		cons    []Constraint
		want    map[string][]Constraint
		wantErr string
	}{
		{name: "required missing", cons: []Constraint{{"name", OpEquals, "x"}}, wantErr: "without a required column"},
		{name: "required given by an empty expr is still missing", cons: []Constraint{{"path", OpEquals, ""}}, wantErr: "without a required column"},
		{
			name: "filters",
			cons: []Constraint{
				{"path", OpLike, "/tmp/%"}, {"size", OpGreaterThan, "1"}, {"name", OpLessThan, "z"},
				{"name", OpNotEquals, "y"}, {"mtime", OpLessThanOrEquals, "9"}, {"name", OpIsNull, ""},
			},
			want: map[string][]Constraint{
				"path":  {{"path", OpLike, "/tmp/%"}},
				"name":  {{"name", OpNotEquals, "y"}},
				"mtime": {{"mtime", OpLessThanOrEquals, "9"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BuildContext("files", cols, Query{Constraints: tt.cons})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Constraints []struct {
					Name string `json:"name"`
					List []struct {
						Op   int    `json:"op"`
						Expr string `json:"expr"`
					} `json:"list"`
					Affinity string `json:"affinity"`
				} `json:"constraints"`
				ColsUsed []string `json:"colsUsed"`
				Bitset   uint64   `json:"colsUsedBitset"`
			}
			if err := json.Unmarshal([]byte(got), &doc); err != nil {
				t.Fatalf("invalid JSON %s: %v", got, err)
			}
			var names []string
			for _, c := range doc.Constraints {
				names = append(names, c.Name)
				var list []Constraint
				for _, e := range c.List {
					list = append(list, Constraint{c.Name, e.Op, e.Expr})
				}
				if !reflect.DeepEqual(list, tt.want[c.Name]) {
					t.Errorf("%s: got %v, want %v", c.Name, list, tt.want[c.Name])
				}
			}
			if !slices.IsSorted(names) || len(names) != len(cols) {
				t.Errorf("constraint entries %v: want every column, sorted", names)
			}
			// SELECT *: non-hidden columns plus every column in WHERE.
			if want := []string{"mtime", "name", "path", "size"}; !reflect.DeepEqual(doc.ColsUsed, want) {
				t.Errorf("colsUsed %v, want %v", doc.ColsUsed, want)
			}
			if doc.Bitset != 15 {
				t.Errorf("colsUsedBitset %d, want 15", doc.Bitset)
			}
		})
	}
}

func TestContextJSONEscaping(t *testing.T) {
	cols := []Column{{"message", "TEXT", 0}}
	expr := "q\" b\\ s/ nl\n tab\t cr\r bell\x07 del\x7f é日本"
	got, err := BuildContext("t", cols, Query{Constraints: []Constraint{{"message", OpEquals, expr}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"constraints":[{"name":"message","list":[{"op":2,"expr":"q\" b\\ s/ nl\n tab\t cr\r bell\u0007 del` + "\x7f" + ` é日本"}],"affinity":"TEXT"}],"colsUsed":["message"],"colsUsedBitset":1}`
	if got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
	var v struct {
		Constraints []struct {
			List []struct{ Expr string } `json:"list"`
		} `json:"constraints"`
	}
	if err := json.Unmarshal([]byte(got), &v); err != nil || v.Constraints[0].List[0].Expr != expr {
		t.Errorf("round trip: %v %+v", err, v)
	}
}

func TestRegistrationRules(t *testing.T) {
	m := New(t, Options{})
	ctx := waitCtx(t)
	clash := "Failed adding registry: Registry item syslog_events conflicts with another item of the same name."

	// A real osquery-go extension with a table named like the built-in.
	srv, err := osqueryext.NewExtensionManagerServer("clash-ext", m.Socket(), osqueryext.ServerTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	srv.RegisterPlugin(newDemoTable("syslog_events"))
	err = srv.Start()
	if err == nil || !strings.Contains(err.Error(), clash) {
		t.Fatalf("Start with table syslog_events: err = %v, want %q", err, clash)
	}
	h := m.Registrations()
	if last := h[len(h)-1]; last.Code != CodeFailed || last.Message != clash || last.UUID != 0 {
		t.Errorf("registration record %+v", last)
	}
	if len(m.Extensions()) != 0 {
		t.Errorf("refused extension is listed: %v", m.Extensions())
	}

	startExtension(t, m, "first", newDemoTable("shared_table"))
	first, err := m.WaitExtension(ctx, "first")
	if err != nil {
		t.Fatal(err)
	}

	c := managerClient(t, m)
	reg := func(name string, registry osquery.ExtensionRegistry) *osquery.ExtensionStatus {
		t.Helper()
		st, err := c.RegisterExtension(&osquery.InternalExtensionInfo{Name: name}, registry)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	col := osquery.ExtensionPluginResponse{{"id": "column", "name": "a", "type": "TEXT", "op": "0"}}
	tests := []struct {
		name     string
		ext      string
		registry osquery.ExtensionRegistry
		want     string
	}{
		{"duplicate name", "first", osquery.ExtensionRegistry{"table": {"other": col}}, "Duplicate extension registered"},
		{"clash with another extension", "second", osquery.ExtensionRegistry{"table": {"shared_table": col}},
			"Failed adding registry: Registry item shared_table conflicts with another item of the same name."},
		{"builtin logger", "second", osquery.ExtensionRegistry{"logger": {"aws_kinesis": {}}},
			"Failed adding registry: Registry item aws_kinesis conflicts with another item of the same name."},
		{"builtin table alias", "second", osquery.ExtensionRegistry{"table": {"syslog": col}},
			"Failed adding registry: Registry item syslog conflicts with another item of the same name."},
		{"unknown registry", "second", osquery.ExtensionRegistry{"tables": {"x": col}}, "Unknown registry"},
		{"table without routes", "second", osquery.ExtensionRegistry{"table": {"empty": {}}}, "Invalid route info"},
		{"old sdk", "second", nil, "Incompatible extension SDK version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st *osquery.ExtensionStatus
			if tt.want == "Incompatible extension SDK version" {
				var err error
				st, err = c.RegisterExtension(&osquery.InternalExtensionInfo{Name: tt.ext, SdkVersion: "1.7.6"}, osquery.ExtensionRegistry{})
				if err != nil {
					t.Fatal(err)
				}
			} else {
				st = reg(tt.ext, tt.registry)
			}
			if st.Code != CodeFailed || !strings.Contains(st.Message, tt.want) || st.UUID != 0 {
				t.Errorf("status %+v, want code 1 with %q", st, tt.want)
			}
		})
	}

	// Success: a distinct random uuid; deregistration; unknown uuid.
	st := reg("second", osquery.ExtensionRegistry{"table": {"second_table": col}, "logger": {"kinesis": {}}})
	if st.Code != CodeSuccess || st.UUID == 0 || int64(st.UUID) == first.UUID || st.UUID > 65535 {
		t.Fatalf("register second: %+v", st)
	}
	if st, err := c.DeregisterExtension(st.UUID); err != nil || st.Code != CodeSuccess {
		t.Errorf("deregister: %+v %v", st, err)
	}
	if st, err := c.DeregisterExtension(st.UUID); err != nil || st.Code != CodeFailed || st.Message != "No extension UUID found" {
		t.Errorf("deregister twice: %+v %v", st, err)
	}
	if st, err := c.Ping(); err != nil || st.Code != 0 || st.Message != "pong" {
		t.Errorf("ping: %+v %v", st, err)
	}
	if resp, err := c.Query("SELECT 1"); err != nil || resp.Status.Code != CodeFailed || resp.Status.Message != NotSupported {
		t.Errorf("query: %+v %v", resp, err)
	}
}

func TestOptionsCustom(t *testing.T) {
	m := New(t, Options{
		Flags:  map[string]OptionValue{"aws_region": {Value: "eu-west-1", Default: "", Type: "string"}},
		Custom: map[string]string{"custom_syslog_pipe_path": "/tmp/p", "aws_kinesis_stream": "s", "custom_empty": ""},
	})
	m.SetCustom("late", "1")
	opts, err := managerClient(t, m).Options()
	if err != nil {
		t.Fatal(err)
	}
	check := func(name, value, def, typ string) {
		t.Helper()
		o := opts[name]
		if o == nil || o.Value != value || o.DefaultValue != def || o.Type != typ {
			t.Errorf("options()[%s] = %+v, want {%q %q %q}", name, o, value, def, typ)
		}
	}
	check("custom_syslog_pipe_path", "/tmp/p", "", "string")
	check("custom_aws_kinesis_stream", "s", "", "string")
	check("custom_late", "1", "", "string")
	check("aws_region", "eu-west-1", "", "string")
	check("extensions_interval", "3", "3", "string")
	check("extensions_socket", m.Socket(), "/var/osquery/osquery.em", "string")
	check("verbose", "false", "false", "bool")
	if _, ok := opts["custom_empty"]; ok {
		t.Error("empty custom option reported")
	}
}

func TestRestartDropsRegistrations(t *testing.T) {
	m := New(t, Options{})
	ctx := waitCtx(t)
	_, done := startExtension(t, m, "demo-ext", newDemoTable("harness_demo"))
	info, err := m.WaitExtension(ctx, "demo-ext")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	if n := len(m.Extensions()); n != 0 {
		t.Errorf("%d extensions after restart", n)
	}
	if _, err := os.Stat(m.ExtensionSocket(info.UUID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale extension socket not removed: %v", err)
	}
	if _, err := m.Generate(ctx, "harness_demo"); err == nil {
		t.Error("table still answers after restart")
	}
	list, err := managerClient(t, m).Extensions()
	if err != nil || len(list) != 0 {
		t.Errorf("extensions() after restart: %v %v", list, err)
	}
	select {
	case err := <-done:
		t.Errorf("extension server stopped on manager restart: %v", err)
	default:
	}
}

func TestForgetAndWatcher(t *testing.T) {
	m := New(t, Options{WatchInterval: 100 * time.Millisecond, Timeout: 300 * time.Millisecond})
	ctx := waitCtx(t)
	startExtension(t, m, "alive", newDemoTable("alive_table"))
	alive, err := m.WaitExtension(ctx, "alive")
	if err != nil {
		t.Fatal(err)
	}

	// Registered but never serving its socket: the watcher drops it.
	c := managerClient(t, m)
	st, err := c.RegisterExtension(&osquery.InternalExtensionInfo{Name: "ghost"}, osquery.ExtensionRegistry{})
	if err != nil || st.Code != 0 {
		t.Fatalf("register ghost: %+v %v", st, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		names := []string{}
		for _, e := range m.Extensions() {
			names = append(names, e.Name)
		}
		if !slices.Contains(names, "ghost") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("watcher kept the ghost: %v", names)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A healthy extension survives several watch rounds.
	time.Sleep(500 * time.Millisecond)
	if len(m.Extensions()) != 1 {
		t.Fatalf("extensions %v, want only alive", m.Extensions())
	}

	if !m.Forget(alive.UUID) || m.Forget(alive.UUID) {
		t.Error("Forget: want true once, then false")
	}
	list, err := c.Extensions()
	if err != nil || len(list) != 0 {
		t.Errorf("extensions() after Forget: %v %v", list, err)
	}
	// The process keeps serving; only osqueryd forgot it.
	if st, err := m.PingExtension(ctx, alive.UUID); err != nil || st.Code != 0 {
		t.Errorf("ping after Forget: %+v %v", st, err)
	}
}

func TestShutdownExtensionAndLogger(t *testing.T) {
	m := New(t, Options{})
	ctx := waitCtx(t)
	var mu sync.Mutex
	var got []string
	lp := logger.NewPlugin("harness_logger", func(_ context.Context, typ logger.LogType, s string) error {
		mu.Lock()
		got = append(got, typ.String()+":"+s)
		mu.Unlock()
		return nil
	})
	srv, err := osqueryext.NewExtensionManagerServer("log-ext", m.Socket(), osqueryext.ServerTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	srv.RegisterPlugin(lp)
	done := make(chan error, 1)
	go func() { done <- srv.Run() }()
	info, err := m.WaitExtension(ctx, "log-ext")
	if err != nil {
		t.Fatal(err)
	}

	code, msg, err := m.CallLogger(ctx, "harness_logger", map[string]string{"string": `{"name":"q"}`, "category": "event"})
	if err != nil || code != 0 {
		t.Errorf("string: %d %q %v", code, msg, err)
	}
	code, msg, err = m.CallLogger(ctx, "harness_logger", map[string]string{"status": "true", "log": `[{"s":0,"f":"a.cpp","i":1,"m":"x","h":"h","c":"c","u":1}]`})
	if err != nil || code != 0 {
		t.Errorf("status: %d %q %v", code, msg, err)
	}
	code, msg, err = m.CallLogger(ctx, "harness_logger", map[string]string{"action": "features"})
	if err != nil || code != 1 || msg != "unknown log request" {
		t.Errorf("features: %d %q %v (osquery-go answers 1)", code, msg, err)
	}
	mu.Lock()
	want := []string{`string:{"name":"q"}`, `status:{"s":0,"f":"a.cpp","i":1,"m":"x","h":"h","c":"c","u":1}`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("logged %q, want %q", got, want)
	}
	mu.Unlock()

	if err := m.ShutdownExtension(ctx, info.UUID); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after shutdown(): %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("extension did not stop after shutdown()")
	}
	if n := len(m.Extensions()); n != 0 {
		t.Errorf("extension still registered after shutdown: %v", m.Extensions())
	}
}

func TestLaunchArgsAndShortTempDir(t *testing.T) {
	if got, want := LaunchArgs("/x/e.ext", "/s.em", true), []string{"/x/e.ext", "--verbose", "--socket", "/s.em", "--timeout", "3", "--interval", "3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("verbose: %q", got)
	}
	if got, want := LaunchArgs("/x/e.ext", "/s.em", false), []string{"/x/e.ext", "--socket", "/s.em", "--timeout", "3", "--interval", "3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("quiet: %q", got)
	}
	dir := ShortTempDir(t)
	if p := filepath.Join(dir, "osquery.em.65535"); len(p) > osqueryext.MaxSocketPathCharacters+6 {
		t.Errorf("%s is too long for a socket path", p)
	}
}

func TestFilter(t *testing.T) {
	cols := []Column{{"n", "BIGINT", 0}, {"s", "TEXT", 0}}
	rows := []map[string]string{{"n": "10", "s": "b"}, {"n": "9", "s": "a"}, {"n": "", "s": "c"}, {"n": "x", "s": "10"}}
	got, err := Filter(rows, cols, Constraint{"n", OpGreaterThanOrEquals, "9"}, Constraint{"s", OpNotEquals, "a"})
	if err != nil {
		t.Fatal(err)
	}
	if want := rows[:1]; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	got, _ = Filter(rows, cols, Constraint{"s", OpLessThan, "b"})
	if want := []map[string]string{rows[1], rows[3]}; !reflect.DeepEqual(got, want) {
		t.Errorf("text compare: got %v, want %v", got, want)
	}
	if _, err := Filter(rows, cols, Constraint{"s", OpLike, "%"}); err == nil {
		t.Error("LIKE accepted")
	}
}
