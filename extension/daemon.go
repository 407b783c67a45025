package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/osquery-syslog/osquery-syslog/engine"
	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/forwarder"
	"github.com/osquery-syslog/osquery-syslog/forwarder/awsconf"
	"github.com/osquery-syslog/osquery-syslog/forwarder/pack"
	"github.com/osquery-syslog/osquery-syslog/fslog"
	"github.com/osquery-syslog/osquery-syslog/internal/uuid"
	"github.com/osquery-syslog/osquery-syslog/schedule"
)

// daemonFlags are the flags of the daemon subcommand only. Names and
// defaults follow osqueryd's.
type daemonFlags struct {
	ConfigPath              string
	LoggerPath              string
	HostIdentifier          string
	SpecifiedIdentifier     string
	SplayPercent            uint64
	Epoch                   uint64
	DefaultInterval         uint64
	LoggerEventType         bool
	LoggerSnapshotEventType bool
	DecorationsTopLevel     bool
	PackDelimiter           string
}

// daemonLoggers are the logger plugins the daemon can run.
var daemonLoggers = []string{"filesystem", awsconf.Kinesis, awsconf.Firehose}

func addDaemonFlags(fs *flag.FlagSet) *daemonFlags {
	d := &daemonFlags{}
	fs.StringVar(&d.ConfigPath, "config_path", "", "osquery-format JSON config (options, schedule, packs, decorators) to run; without it the daemon only ingests")
	fs.StringVar(&d.LoggerPath, "logger_path", "/var/log/osquery", "Folder of the filesystem logger: osqueryd.results.log, osqueryd.snapshots.log, osqueryd.INFO")
	fs.StringVar(&d.HostIdentifier, "host_identifier", "hostname", "hostIdentifier of result lines: hostname, uuid, instance, ephemeral or specified")
	fs.StringVar(&d.SpecifiedIdentifier, "specified_identifier", "", "hostIdentifier when --host_identifier=specified")
	fs.Uint64Var(&d.SplayPercent, "schedule_splay_percent", schedule.DefaultSplayPercent, "Percent by which each query's interval is randomly moved, either way (0 = none)")
	fs.Uint64Var(&d.Epoch, "schedule_epoch", 0, "epoch of result lines; changing it restarts every differential (all rows added, counter 0)")
	fs.Uint64Var(&d.DefaultInterval, "schedule_default_interval", schedule.DefaultInterval, "Interval in seconds of a scheduled query without one")
	fs.BoolVar(&d.LoggerEventType, "logger_event_type", true, "One result line per added/removed row (false: one diffResults line per run)")
	fs.BoolVar(&d.LoggerSnapshotEventType, "logger_snapshot_event_type", false, "One snapshot line per row instead of one per run")
	fs.BoolVar(&d.DecorationsTopLevel, "decorations_top_level", false, "Put decorations at the top level of result lines instead of a decorations object")
	fs.StringVar(&d.PackDelimiter, "pack_delimiter", "_", "Delimiter of pack query names: pack<d><pack><d><query>")
	return d
}

// runDaemon is standalone mode: ingestion, the schedule of --config_path
// and the logger plugins, without osqueryd. level is the level of log, which
// osqueryd.INFO gets too.
func runDaemon(cfg *config, d *daemonFlags, fs *flag.FlagSet, log *slog.Logger, level slog.Level, stderr io.Writer) int {
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "osquery-syslog.ext daemon: %v\n", err)
		return code
	}
	ctx, stop := signalContext()
	defer stop()

	sched, err := loadDaemonConfig(cfg, d, fs, log)
	if err != nil {
		return fail(2, err)
	}
	loggers, _ := cfg.loggers() // validated by loadDaemonConfig and run
	if sched != nil && len(loggers) == 0 {
		// osqueryd's default logger.
		loggers = []string{"filesystem"}
		log.Info("no --logger_plugin; using filesystem", "logger_path", d.LoggerPath)
	}

	var fsl *fslog.Logger
	if slices.Contains(loggers, "filesystem") {
		if fsl, err = fslog.Open(d.LoggerPath); err != nil {
			return fail(2, fmt.Errorf("--logger_path %s: %w", d.LoggerPath, err))
		}
		defer fsl.Close()
		log = slog.New(fslog.Tee(log.Handler(), fsl.StatusHandler(level)))
	}

	a, err := openApp(cfg, log, true)
	if err != nil {
		return fail(1, err)
	}
	closeApp := func() {
		if err := a.close(); err != nil {
			log.Warn("closing event buffer", "err", err)
		}
	}
	defer closeApp()
	// The host identifier is also the loggers' default partition key, as
	// in osquery.
	host, err := d.hostIdentifier(a.store)
	if err != nil {
		return fail(2, err)
	}
	if err := a.openLoggers(ctx, loggers, host); err != nil {
		return fail(2, err)
	}

	var sc *schedule.Scheduler
	if sched != nil {
		eng, err := engine.New(a.tables)
		if err != nil {
			return fail(1, err)
		}
		defer eng.Close()
		sink := &daemonSink{fs: fsl}
		for _, name := range slices.Sorted(maps.Keys(a.forwarders)) {
			sink.fwd = append(sink.fwd, a.forwarders[name])
		}
		// Status lines carry the scheduler's own attributes only.
		schedLog := slog.New(fslog.Tee(log.With("component", "schedule").Handler(), &statusHandler{host: host, fwd: sink.fwd}))
		sc, err = schedule.New(sched, eng, a.store, sink, schedule.Options{
			Host:                host,
			Epoch:               d.Epoch,
			SplayPercent:        d.SplayPercent,
			BatchFormat:         !d.LoggerEventType,
			SnapshotEventType:   d.LoggerSnapshotEventType,
			DecorationsTopLevel: d.DecorationsTopLevel,
			Log:                 schedLog,
		})
		if err == nil {
			err = sc.Check(ctx)
		}
		if err != nil {
			return fail(2, fmt.Errorf("--config_path %s: %w", d.ConfigPath, err))
		}
	}

	if err := a.start(failSetup); err != nil {
		return fail(1, err)
	}
	var wg sync.WaitGroup
	if sc != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = sc.Run(ctx)
		}()
		iv := sc.Intervals()
		for _, name := range slices.Sorted(maps.Keys(iv)) {
			log.Info("scheduled query", "query", name, "splayed_interval", iv[name])
		}
	}
	log.Info("daemon running", "version", version, "database", cfg.DatabasePath, "syslog_pipe", cfg.SyslogPipePath,
		"config", d.ConfigPath, "loggers", strings.Join(loggers, ","))
	<-ctx.Done()
	log.Info("daemon stopping")
	wg.Wait()
	return 0
}

// loadDaemonConfig reads --config_path (nil without one) and applies its
// options to the flags not given on the command line: our flag > the
// config's option of the same name > its custom_<name> option > default.
// database_path in an osquery config names osqueryd's RocksDB folder, so only
// custom_database_path sets ours.
func loadDaemonConfig(cfg *config, d *daemonFlags, fs *flag.FlagSet, log *slog.Logger) (*schedule.Config, error) {
	if d.ConfigPath == "" {
		return nil, nil
	}
	data, err := os.ReadFile(d.ConfigPath)
	if err != nil {
		return nil, fmt.Errorf("--config_path: %w", err)
	}
	explicit := explicitFlags(fs)
	// Options first: pack_delimiter and schedule_default_interval shape
	// the parse.
	pre, err := schedule.Parse(data, schedule.ParseOptions{ReadFile: func(string) ([]byte, error) { return []byte(`{"queries":{}}`), nil }})
	if err != nil {
		return nil, fmt.Errorf("--config_path %s: %w", d.ConfigPath, err)
	}
	opts := map[string]option{}
	for name, v := range pre.Options {
		switch {
		case name == "logger_path":
			// Same meaning as osqueryd's filesystem logger folder.
			if _, ok := pre.Options["custom_logger_path"]; !ok {
				opts["custom_logger_path"] = option{Value: v}
			}
		case name == "config_path":
			log.Warn("ignoring config option config_path")
			continue
		case strings.HasPrefix(name, "custom_"):
		case fs.Lookup(name) == nil:
			log.Warn("Cannot set unknown or invalid flag", "option", name)
			continue
		}
		opts[name] = option{Value: v}
	}
	applied, err := applyOptions(fs, explicit, opts)
	if err != nil {
		return nil, fmt.Errorf("--config_path %s: options: %w", d.ConfigPath, err)
	}
	for _, a := range applied {
		log.Info("option from config", "option", strings.Replace(a, "(osqueryd option ", "(config option ", 1))
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	sc, err := schedule.Parse(data, schedule.ParseOptions{
		BaseDir:         filepath.Dir(d.ConfigPath),
		PackDelimiter:   d.PackDelimiter,
		DefaultInterval: d.DefaultInterval,
	})
	if err != nil {
		return nil, fmt.Errorf("--config_path %s: %w", d.ConfigPath, err)
	}
	return sc, nil
}

// instanceIDKey is the event-store state key of the daemon's instance id
// (--host_identifier=instance).
var instanceIDKey = eventstore.NewNamespace("daemon").Key("instance_id")

// hostIdentifier resolves --host_identifier as osqueryd does. uuid uses the
// machine's DMI product UUID, else a random one kept in the event buffer;
// instance is always that kept random one; ephemeral is new per process.
func (d *daemonFlags) hostIdentifier(store *eventstore.Store) (string, error) {
	switch d.HostIdentifier {
	case "hostname":
		h, err := os.Hostname()
		if err != nil {
			return "", fmt.Errorf("--host_identifier: reading hostname: %w", err)
		}
		return h, nil
	case "specified":
		if d.SpecifiedIdentifier == "" {
			return "", errors.New("--specified_identifier: required with --host_identifier=specified")
		}
		return d.SpecifiedIdentifier, nil
	case "ephemeral":
		return rand.Text(), nil
	case "uuid":
		if b, err := os.ReadFile("/sys/class/dmi/id/product_uuid"); err == nil && len(strings.TrimSpace(string(b))) > 0 {
			return strings.ToUpper(strings.TrimSpace(string(b))), nil
		}
		fallthrough
	case "instance":
		m, err := store.States(instanceIDKey)
		if err != nil {
			return "", fmt.Errorf("--host_identifier: %w", err)
		}
		if id := m[instanceIDKey]; id != "" {
			return id, nil
		}
		id := strings.ToUpper(uuid.NewV4())
		if err := store.PutState(instanceIDKey, id); err != nil {
			return "", fmt.Errorf("--host_identifier: %w", err)
		}
		return id, nil
	}
	return "", fmt.Errorf("--host_identifier: unknown value %q (hostname, uuid, instance, ephemeral, specified)", d.HostIdentifier)
}

// daemonSink hands result lines to every logger plugin.
type daemonSink struct {
	fs  *fslog.Logger
	fwd []*forwarder.Forwarder
}

func (s *daemonSink) LogResult(line []byte) error { return s.log(pack.Result, line) }

func (s *daemonSink) LogSnapshot(line []byte) error { return s.log(pack.Snapshot, line) }

func (s *daemonSink) log(kind pack.Kind, line []byte) error {
	var errs []error
	if s.fs != nil {
		if kind == pack.Snapshot {
			errs = append(errs, s.fs.LogSnapshot(line))
		} else {
			errs = append(errs, s.fs.LogResult(line))
		}
	}
	for _, f := range s.fwd {
		errs = append(errs, f.Log(kind, line))
	}
	return errors.Join(errs...)
}
