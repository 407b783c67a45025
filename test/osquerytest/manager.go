// Package osquerytest is a fake osqueryd for tests: it plays the osquery
// core's side of the Thrift extension protocol (the ExtensionManager service
// on a unix socket, binary protocol over a buffered transport, as osqueryd
// serves it) and calls into registered extensions the way the core does
// (table generate with the exact query-context JSON, logger requests,
// shutdown).
//
// The manager-side rules follow osquery's extension manager: duplicate
// extension names are refused, registry items may not clash with osquery
// built-ins or with another live extension, uuids are random uint16 values,
// options() reports flags plus custom_* config options, and a watcher drops
// extensions whose socket stops answering. Restart and Forget simulate an
// osqueryd restart and a silent deregistration.
package osquerytest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/osquery/osquery-go/gen/osquery"
)

// Status codes of osquery's ExtensionCode enum.
const (
	CodeSuccess = 0
	CodeFailed  = 1
	CodeFatal   = 2
)

// NotSupported is the message of query() and getQueryColumns() when
// Options.Query is not set.
const NotSupported = "not supported by the test harness"

// OptionValue is one options() entry, as osqueryd reports a flag.
type OptionValue struct {
	Value   string
	Default string
	Type    string
}

// Options configures a Manager. The zero value behaves like osqueryd
// started without flags or config options.
type Options struct {
	// Flags are osqueryd flags reported by options(), merged over a
	// default set (extensions_*, logger_*, aws_*, syslog_*, ...).
	Flags map[string]OptionValue
	// Custom are the custom_* options of the osquery config. A key without
	// the custom_ prefix gets it. They are reported as {value, "", "string"}.
	Custom map[string]string
	// Builtins replaces DefaultBuiltins() (registry -> item names owned by
	// the core) when non-nil.
	Builtins map[string][]string
	// WatchInterval is osqueryd's --extensions_interval: how often every
	// registered extension's socket is checked and pinged; a failure drops
	// its registration. 0 means 3 s; a negative value disables the watcher.
	WatchInterval time.Duration
	// Timeout is osqueryd's --extensions_timeout: how long a freshly
	// registered extension may take before its socket must answer. 0 means 3 s.
	Timeout time.Duration
	// Query answers query(sql); nil answers code 1 NotSupported.
	Query func(sql string) ([]map[string]string, error)
	// Logf receives harness events (registrations, watcher removals), e.g.
	// t.Logf. Nil discards them.
	Logf func(format string, args ...any)
}

// ExtensionInfo is a registered extension.
type ExtensionInfo struct {
	UUID          int64
	Name          string
	Version       string
	SDKVersion    string
	MinSDKVersion string
	// Routes are the broadcast routes: registry -> item -> route entries
	// (for a table, one {"id":"column","name","type","op"} map per column).
	Routes     map[string]map[string][]map[string]string
	Registered time.Time
}

// Registration is one registerExtension call and its answer.
type Registration struct {
	Time    time.Time
	Name    string
	Code    int32
	Message string
	UUID    int64
}

// Manager is a running fake osqueryd extension manager.
type Manager struct {
	sock     string
	opts     Options
	builtins map[string]map[string]bool

	mu            sync.Mutex
	exts          map[int64]*ExtensionInfo
	history       []Registration
	changed       chan struct{} // closed and replaced when exts changes
	columnsOK     map[string]bool
	shutdownCalls int
	closed        bool
	srv           *server
	rng           *rand.Rand

	watchStop chan struct{}
	watchDone chan struct{}
}

// Start serves a fake osqueryd on sockPath (which must not exist or be a
// stale socket). Keep sockPath short: osquery-go refuses paths over 97
// characters (see ShortTempDir).
func Start(sockPath string, opts Options) (*Manager, error) {
	if opts.WatchInterval == 0 {
		opts.WatchInterval = 3 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 3 * time.Second
	}
	builtins := opts.Builtins
	if builtins == nil {
		builtins = DefaultBuiltins()
	}
	m := &Manager{
		sock:      sockPath,
		opts:      opts,
		builtins:  map[string]map[string]bool{},
		exts:      map[int64]*ExtensionInfo{},
		changed:   make(chan struct{}),
		columnsOK: map[string]bool{},
		rng:       rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid()))),
	}
	for reg, items := range builtins {
		m.builtins[reg] = map[string]bool{}
		for _, it := range items {
			m.builtins[reg][it] = true
		}
	}
	if err := m.listen(); err != nil {
		return nil, err
	}
	if opts.WatchInterval > 0 {
		m.watchStop = make(chan struct{})
		m.watchDone = make(chan struct{})
		go m.watch()
	}
	return m, nil
}

// Socket is the manager's socket path (osqueryd's --extensions_socket).
func (m *Manager) Socket() string { return m.sock }

// ExtensionSocket is where the extension with uuid must serve.
func (m *Manager) ExtensionSocket(uuid int64) string { return fmt.Sprintf("%s.%d", m.sock, uuid) }

func (m *Manager) logf(format string, args ...any) {
	if m.opts.Logf != nil {
		m.opts.Logf("osquerytest: "+format, args...)
	}
}

// listen removes stale sockets (osqueryd deletes <socket>.* when its server
// starts and stops) and starts serving.
func (m *Manager) listen() error {
	m.removeStale()
	srv, err := newServer(m.sock, osquery.NewExtensionManagerProcessor(&handler{m: m}))
	if err != nil {
		return fmt.Errorf("serving extension manager on %s: %w", m.sock, err)
	}
	m.mu.Lock()
	m.srv = srv
	m.mu.Unlock()
	return nil
}

func (m *Manager) removeStale() {
	_ = os.Remove(m.sock)
	matches, _ := filepath.Glob(globEscape(m.sock) + ".*")
	for _, p := range matches {
		if fi, err := os.Lstat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
			_ = os.Remove(p)
		}
	}
}

func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(s)
}

// stopServing closes the listener and every open connection, like a dying
// osqueryd.
func (m *Manager) stopServing() {
	m.mu.Lock()
	srv := m.srv
	m.srv = nil
	m.mu.Unlock()
	if srv != nil {
		srv.close()
	}
}

// Close stops serving, drops every registration and removes the socket
// (and stale extension sockets). It does not call shutdown() on extensions;
// use ShutdownExtension for that.
func (m *Manager) Close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	m.mu.Unlock()
	if m.watchStop != nil {
		close(m.watchStop)
		<-m.watchDone
	}
	m.stopServing()
	m.mu.Lock()
	m.exts = map[int64]*ExtensionInfo{}
	m.notifyLocked()
	m.mu.Unlock()
	m.removeStale()
}

// Restart simulates an osqueryd restart: the listener and all connections
// drop, every registration is forgotten, stale sockets are removed and the
// socket is re-created. Extensions must re-register (and get new uuids).
func (m *Manager) Restart() error {
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return errors.New("restart: manager is closed")
	}
	m.stopServing()
	m.mu.Lock()
	m.exts = map[int64]*ExtensionInfo{}
	m.columnsOK = map[string]bool{}
	m.notifyLocked()
	m.mu.Unlock()
	m.logf("restart: registrations dropped")
	return m.listen()
}

// Forget drops an extension's registration without telling it, as osqueryd
// does when its watcher decides an extension has gone away. It reports
// whether uuid was registered.
func (m *Manager) Forget(uuid int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.exts[uuid]; !ok {
		return false
	}
	delete(m.exts, uuid)
	m.notifyLocked()
	m.logf("forgot extension uuid %d", uuid)
	return true
}

// Extensions returns the registered extensions, sorted by uuid.
func (m *Manager) Extensions() []ExtensionInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]ExtensionInfo, 0, len(m.exts))
	for _, e := range m.exts {
		out = append(out, e.clone())
	}
	slices.SortFunc(out, func(a, b ExtensionInfo) int { return int(a.UUID - b.UUID) })
	return out
}

// Registrations returns every registerExtension call so far, in order.
func (m *Manager) Registrations() []Registration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.history)
}

// ShutdownCalls counts shutdown() calls received by the manager itself.
func (m *Manager) ShutdownCalls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.shutdownCalls
}

// SetCustom sets (or, with an empty value, removes) a custom_* option, as
// a config refresh would.
func (m *Manager) SetCustom(name, value string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !strings.HasPrefix(name, "custom_") {
		name = "custom_" + name
	}
	if m.opts.Custom == nil {
		m.opts.Custom = map[string]string{}
	}
	if value == "" {
		delete(m.opts.Custom, name)
		delete(m.opts.Custom, strings.TrimPrefix(name, "custom_"))
		return
	}
	m.opts.Custom[name] = value
}

// WaitExtension waits until an extension called name is registered and
// answers a ping on its own socket, then returns it.
func (m *Manager) WaitExtension(ctx context.Context, name string) (ExtensionInfo, error) {
	var lastErr error
	for {
		m.mu.Lock()
		changed := m.changed
		var found *ExtensionInfo
		for _, e := range m.exts {
			if e.Name == name {
				c := e.clone()
				found = &c
			}
		}
		m.mu.Unlock()
		if found != nil {
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			st, err := m.PingExtension(pctx, found.UUID)
			cancel()
			if err == nil && st.Code == CodeSuccess {
				return *found, nil
			}
			if err == nil {
				err = fmt.Errorf("ping status %d: %s", st.Code, st.Message)
			}
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return ExtensionInfo{}, fmt.Errorf("waiting for extension %q: %w (last ping: %v)", name, ctx.Err(), lastErr)
			}
			return ExtensionInfo{}, fmt.Errorf("waiting for extension %q: %w", name, ctx.Err())
		case <-changed:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (m *Manager) notifyLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

func (e *ExtensionInfo) clone() ExtensionInfo {
	c := *e
	c.Routes = cloneRegistry(e.Routes)
	return c
}

func cloneRegistry(r map[string]map[string][]map[string]string) map[string]map[string][]map[string]string {
	out := make(map[string]map[string][]map[string]string, len(r))
	for reg, items := range r {
		out[reg] = make(map[string][]map[string]string, len(items))
		for it, routes := range items {
			rs := make([]map[string]string, len(routes))
			for i, route := range routes {
				rs[i] = make(map[string]string, len(route))
				for k, v := range route {
					rs[i][k] = v
				}
			}
			out[reg][it] = rs
		}
	}
	return out
}

// watch is osqueryd's ExtensionManagerWatcher: every interval each
// extension's socket must exist and answer ping with a code other than 1,
// else its routes are removed ("Extension UUID <n> has gone away"). A new
// registration gets Options.Timeout to bring its socket up.
func (m *Manager) watch() {
	defer close(m.watchDone)
	t := time.NewTicker(m.opts.WatchInterval)
	defer t.Stop()
	for {
		select {
		case <-m.watchStop:
			return
		case <-t.C:
		}
		for _, e := range m.Extensions() {
			if time.Since(e.Registered) < m.opts.Timeout {
				continue
			}
			err := m.checkAlive(e.UUID)
			if err == nil {
				continue
			}
			m.mu.Lock()
			cur, ok := m.exts[e.UUID]
			if ok && cur.Registered.Equal(e.Registered) {
				delete(m.exts, e.UUID)
				m.notifyLocked()
				m.logf("Extension UUID %d (%s) has gone away: %v", e.UUID, e.Name, err)
			}
			m.mu.Unlock()
		}
	}
}

func (m *Manager) checkAlive(uuid int64) error {
	if _, err := os.Stat(m.ExtensionSocket(uuid)); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := m.PingExtension(ctx, uuid)
	if err != nil {
		return err
	}
	if st.Code == CodeFailed {
		return fmt.Errorf("ping status %d: %s", st.Code, st.Message)
	}
	return nil
}

// handler implements the generated osquery.ExtensionManager service.
type handler struct{ m *Manager }

var _ osquery.ExtensionManager = (*handler)(nil)

func status(code int32, msg string, uuid int64) *osquery.ExtensionStatus {
	return &osquery.ExtensionStatus{Code: code, Message: msg, UUID: osquery.ExtensionRouteUUID(uuid)}
}

func (h *handler) Ping(context.Context) (*osquery.ExtensionStatus, error) {
	return status(CodeSuccess, "pong", 0), nil
}

// Call on the manager would route to the core's own plugins, which the
// harness does not have.
func (h *handler) Call(_ context.Context, registry, item string, _ osquery.ExtensionPluginRequest) (*osquery.ExtensionResponse, error) {
	return &osquery.ExtensionResponse{
		Status:   status(CodeFailed, fmt.Sprintf("call %s/%s: %s", registry, item, NotSupported), 0),
		Response: osquery.ExtensionPluginResponse{},
	}, nil
}

func (h *handler) Shutdown(context.Context) error {
	h.m.mu.Lock()
	h.m.shutdownCalls++
	h.m.mu.Unlock()
	return nil
}

func (h *handler) Extensions(context.Context) (osquery.InternalExtensionList, error) {
	m := h.m
	m.mu.Lock()
	defer m.mu.Unlock()
	out := osquery.InternalExtensionList{}
	for uuid, e := range m.exts {
		out[osquery.ExtensionRouteUUID(uuid)] = &osquery.InternalExtensionInfo{
			Name: e.Name, Version: e.Version, SdkVersion: e.SDKVersion, MinSdkVersion: e.MinSDKVersion,
		}
	}
	return out, nil
}

func (h *handler) Options(context.Context) (osquery.InternalOptionList, error) {
	m := h.m
	m.mu.Lock()
	defer m.mu.Unlock()
	out := osquery.InternalOptionList{}
	for name, f := range defaultFlags(m.sock) {
		out[name] = &osquery.InternalOptionInfo{Value: f.Value, DefaultValue: f.Default, Type: f.Type}
	}
	for name, f := range m.opts.Flags {
		out[name] = &osquery.InternalOptionInfo{Value: f.Value, DefaultValue: f.Default, Type: f.Type}
	}
	for name, v := range m.opts.Custom {
		if !strings.HasPrefix(name, "custom_") {
			name = "custom_" + name
		}
		if v == "" {
			continue // osquery skips empty config values
		}
		out[name] = &osquery.InternalOptionInfo{Value: v, DefaultValue: "", Type: "string"}
	}
	return out, nil
}

// minSDK is the oldest extension SDK osquery accepts.
var minSDK = []int{1, 7, 7}

func sdkTooOld(v string) bool {
	if v == "" || v == "0.0.0" {
		return false
	}
	parts := strings.Split(v, ".")
	for i := range minSDK {
		n := 0
		if i < len(parts) {
			fmt.Sscanf(parts[i], "%d", &n)
		}
		if n != minSDK[i] {
			return n < minSDK[i]
		}
	}
	return false
}

func (h *handler) RegisterExtension(_ context.Context, info *osquery.InternalExtensionInfo, registry osquery.ExtensionRegistry) (*osquery.ExtensionStatus, error) {
	m := h.m
	if info == nil {
		info = &osquery.InternalExtensionInfo{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.registerLocked(info, registry)
	m.history = append(m.history, Registration{
		Time: time.Now(), Name: info.Name, Code: st.Code, Message: st.Message, UUID: int64(st.UUID),
	})
	if st.Code == CodeSuccess {
		m.logf("registered extension %q uuid %d", info.Name, st.UUID)
	} else {
		m.logf("refused extension %q: %s", info.Name, st.Message)
	}
	return st, nil
}

func (m *Manager) registerLocked(info *osquery.InternalExtensionInfo, registry osquery.ExtensionRegistry) *osquery.ExtensionStatus {
	for _, e := range m.exts {
		if e.Name == info.Name {
			return status(CodeFailed, "Duplicate extension registered", 0)
		}
	}
	if sdkTooOld(info.SdkVersion) {
		return status(CodeFailed, "Incompatible extension SDK version", 0)
	}
	// The broadcast is checked completely before anything is added.
	for _, reg := range slices.Sorted(maps.Keys(registry)) {
		if !slices.Contains(coreRegistries, reg) {
			return status(CodeFailed, "Failed adding registry: Unknown registry: "+reg, 0)
		}
		for _, item := range slices.Sorted(maps.Keys(registry[reg])) {
			if m.builtins[reg][item] {
				return status(CodeFailed, "Failed adding registry: Registry item "+item+" conflicts with another item of the same name.", 0)
			}
			for _, e := range m.exts {
				if _, ok := e.Routes[reg][item]; ok {
					return status(CodeFailed, "Failed adding registry: Registry item "+item+" conflicts with another item of the same name.", 0)
				}
			}
			if reg == "table" && len(registry[reg][item]) == 0 {
				return status(CodeFailed, "Failed adding registry: Invalid route info", 0)
			}
		}
	}
	var uuid int64
	for {
		uuid = int64(m.rng.IntN(1<<16-1)) + 1 // a random uint16; 0 is the core itself
		if _, taken := m.exts[uuid]; !taken {
			break
		}
	}
	routes := map[string]map[string][]map[string]string{}
	for reg, items := range registry {
		routes[reg] = map[string][]map[string]string{}
		for item, rs := range items {
			routes[reg][item] = []map[string]string(rs)
		}
	}
	m.exts[uuid] = &ExtensionInfo{
		UUID: uuid, Name: info.Name, Version: info.Version, SDKVersion: info.SdkVersion,
		MinSDKVersion: info.MinSdkVersion, Routes: cloneRegistry(routes), Registered: time.Now(),
	}
	m.notifyLocked()
	return status(CodeSuccess, "OK", uuid)
}

func (h *handler) DeregisterExtension(_ context.Context, uuid osquery.ExtensionRouteUUID) (*osquery.ExtensionStatus, error) {
	m := h.m
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.exts[int64(uuid)]
	if !ok {
		return status(CodeFailed, "No extension UUID found", 0), nil
	}
	delete(m.exts, int64(uuid))
	m.notifyLocked()
	m.logf("deregistered extension %q uuid %d", e.Name, uuid)
	return status(CodeSuccess, "OK", int64(uuid)), nil
}

func (h *handler) Query(_ context.Context, sql string) (*osquery.ExtensionResponse, error) {
	if h.m.opts.Query == nil {
		return &osquery.ExtensionResponse{Status: status(CodeFailed, NotSupported, 0), Response: osquery.ExtensionPluginResponse{}}, nil
	}
	rows, err := h.m.opts.Query(sql)
	if err != nil {
		return &osquery.ExtensionResponse{Status: status(CodeFailed, err.Error(), 0), Response: osquery.ExtensionPluginResponse{}}, nil
	}
	return &osquery.ExtensionResponse{Status: status(CodeSuccess, "OK", 0), Response: rows}, nil
}

func (h *handler) GetQueryColumns(context.Context, string) (*osquery.ExtensionResponse, error) {
	return &osquery.ExtensionResponse{Status: status(CodeFailed, NotSupported, 0), Response: osquery.ExtensionPluginResponse{}}, nil
}

// server is a threaded Thrift server on a unix socket, binary protocol over
// a buffered transport, that can drop all of its connections at once.
type server struct {
	ln        net.Listener
	processor thrift.TProcessor
	mu        sync.Mutex
	conns     map[net.Conn]struct{}
	closed    bool
	wg        sync.WaitGroup
}

// thriftConf lifts the Go library's message-size cap; osqueryd's
// --thrift_string_size_limit defaults to unlimited.
func thriftConf(timeout time.Duration) *thrift.TConfiguration {
	return &thrift.TConfiguration{
		MaxMessageSize: 1<<31 - 1,
		MaxFrameSize:   1<<31 - 1,
		SocketTimeout:  timeout,
		ConnectTimeout: timeout,
	}
}

func newServer(path string, p thrift.TProcessor) (*server, error) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	s := &server{ln: ln, processor: p, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

func (s *server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

func (s *server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	conf := thriftConf(0)
	trans := thrift.NewTBufferedTransport(thrift.NewTSocketFromConnConf(c, conf), 8192)
	proto := thrift.NewTBinaryProtocolConf(trans, conf)
	ctx := context.Background()
	for {
		ok, err := s.processor.Process(ctx, proto, proto)
		if err != nil {
			var tae thrift.TApplicationException
			if errors.As(err, &tae) && tae.TypeId() == thrift.UNKNOWN_METHOD {
				continue
			}
			return
		}
		if !ok {
			return
		}
	}
}

func (s *server) close() {
	s.mu.Lock()
	s.closed = true
	s.ln.Close() // unlinks the socket file
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
