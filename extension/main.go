// Command osquery-syslog.ext is an osquery extension serving the host's logs
// as tables (syslog, followed log files, macOS ASL stores, and its own
// counters) and osquery's kinesis and firehose logger plugins, and a
// standalone daemon and query tool over the same tables.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	osquery "github.com/osquery/osquery-go"

	"github.com/osquery-syslog/osquery-syslog/engine"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process exit, for tests. It returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if versionRequested(args) {
		printVersion(stdout)
		return 0
	}
	mode := "extension"
	if len(args) > 0 && (args[0] == "query" || args[0] == "daemon") {
		mode, args = args[0], args[1:]
	}
	cfg := &config{daemon: mode == "daemon"}
	fs := newFlagSet("osquery-syslog.ext", cfg)
	if mode == "query" {
		addQueryFlags(fs, cfg)
	}
	var dflags *daemonFlags
	if mode == "daemon" {
		dflags = addDaemonFlags(fs)
	}
	pos, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout, fs)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "osquery-syslog.ext: %v\n(run with --help for the list of flags)\n", err)
		return 2
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintf(stderr, "osquery-syslog.ext: %v\n", err)
		return 2
	}
	// --verbose is a launch flag, never taken from options: the level is
	// final here.
	level := slog.LevelInfo
	if cfg.Verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	switch mode {
	case "query":
		if len(pos) == 0 {
			fmt.Fprintln(stderr, `osquery-syslog.ext query: missing SQL, e.g. osquery-syslog.ext query "SELECT * FROM syslog_messages LIMIT 10"`)
			return 2
		}
		queryJournalSince(cfg, explicitFlags(fs))
		return runQuery(cfg, strings.Join(pos, " "), stdout, stderr, log)
	case "daemon":
		if len(pos) > 0 {
			fmt.Fprintf(stderr, "osquery-syslog.ext daemon: unexpected argument %q\n", pos[0])
			return 2
		}
		return runDaemon(cfg, dflags, fs, log, level, stderr)
	default:
		if len(pos) > 0 {
			fmt.Fprintf(stderr, "osquery-syslog.ext: unexpected argument %q (subcommands: query, daemon)\n", pos[0])
			return 2
		}
		return runExtension(cfg, fs, log, stderr)
	}
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// runExtension is the osqueryd-autoloaded mode.
func runExtension(cfg *config, fs *flag.FlagSet, log *slog.Logger, stderr io.Writer) int {
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "osquery-syslog.ext: %v\n", err)
		return code
	}
	ctx, stop := signalContext()
	defer stop()

	sup := &supervisor{
		socket:       cfg.Socket,
		timeout:      max(time.Duration(cfg.Timeout)*time.Second, 3*time.Second),
		interval:     time.Duration(cfg.Interval) * time.Second,
		version:      version,
		log:          log.With("component", "supervisor"),
		strikes:      3,
		reconnectFor: max(60*time.Second, 10*time.Duration(cfg.Interval)*time.Second),
		parentGone:   parentWatcher(),
	}

	// Options from osqueryd complete the configuration before anything opens.
	client, err := sup.connect(ctx, sup.timeout)
	if err != nil {
		if ctx.Err() != nil {
			return 0
		}
		return fail(1, err)
	}
	opts, err := fetchOptions(ctx, client)
	client.Close()
	if err != nil {
		log.Warn("reading osqueryd options; using flags and defaults", "err", err)
	}
	applied, err := applyOptions(fs, explicitFlags(fs), opts)
	if err == nil {
		err = cfg.validate()
	}
	if err != nil {
		return fail(2, err)
	}
	for _, a := range applied {
		log.Info("option from osqueryd", "option", a)
	}

	a, err := openApp(cfg, log, true)
	if err != nil {
		return fail(1, err)
	}
	loggers, _ := cfg.loggers() // validated above
	if err := a.openLoggers(ctx, loggers, ""); err != nil {
		a.close()
		return fail(2, err)
	}
	// Source problems do not stop the extension: its tables keep serving
	// the buffer and osquery_syslog_stats shows the error while it retries.
	_ = a.start(retrySetup)
	sup.plugins = a.plugins()
	log.Info("extension starting", "version", version, "socket", cfg.Socket, "database", cfg.DatabasePath)
	err = sup.run(ctx)
	if cerr := a.close(); cerr != nil {
		log.Warn("closing event buffer", "err", cerr)
	}
	switch {
	case err == nil, errors.Is(err, errShutdown):
		log.Info("extension stopped", "reason", fmt.Sprint(err))
		return 0
	default:
		return fail(1, err)
	}
}

// fetchOptions reads osqueryd's flags and custom_* config options.
func fetchOptions(ctx context.Context, client *osquery.ExtensionManagerClient) (map[string]option, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	list, err := client.OptionsContext(cctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]option, len(list))
	for name, o := range list {
		if o == nil {
			continue
		}
		out[name] = option{Value: o.Value, Default: o.DefaultValue}
	}
	return out, nil
}

// parentWatcher reports when the osqueryd that autoloaded us exits: osqueryd
// marks its extensions with OSQUERY_EXTENSION, and when it dies we are
// re-parented. A lingering copy would hold the pipe lock against the copy the
// next osqueryd starts.
func parentWatcher() func() bool {
	if os.Getenv("OSQUERY_EXTENSION") == "" {
		return nil
	}
	ppid := os.Getppid()
	return func() bool { return os.Getppid() != ppid }
}

// runQuery answers one SQL statement over the tables.
func runQuery(cfg *config, sql string, stdout, stderr io.Writer, log *slog.Logger) int {
	if _, err := os.Stat(cfg.DatabasePath); err != nil {
		// Tables read at query time (asl_messages over a store copied off
		// a Mac) need no buffer; the buffered ones are then just empty. An
		// empty buffer in a temporary folder keeps the user's path
		// untouched.
		empty := "syslog_messages, logfile_lines and journal_messages are"
		if cfg.Journal.Path != "" && !cfg.Journal.Disable {
			// journal_messages then reads --journal_path itself (queryJournal).
			empty = "syslog_messages and logfile_lines are"
		}
		log.Warn("no event buffer at --database_path; "+empty+" empty (is the extension or daemon running with this --database_path?)", "database_path", cfg.DatabasePath)
		dir, err := os.MkdirTemp("", "osquery-syslog-query-")
		if err != nil {
			fmt.Fprintf(stderr, "osquery-syslog.ext query: %v\n", err)
			return 1
		}
		defer os.RemoveAll(dir)
		cfg.DatabasePath = filepath.Join(dir, "empty.db")
	}
	a, err := openApp(cfg, log, false)
	if err != nil {
		fmt.Fprintf(stderr, "osquery-syslog.ext query: %v\n", err)
		return 1
	}
	defer a.close()
	eng, err := engine.New(a.tables)
	if err != nil {
		fmt.Fprintf(stderr, "osquery-syslog.ext query: %v\n", err)
		return 1
	}
	defer eng.Close()
	ctx, stop := signalContext()
	defer stop()
	res, err := eng.Query(ctx, sql)
	if err != nil {
		fmt.Fprintf(stderr, "osquery-syslog.ext query: %v\n", err)
		return 1
	}
	if cfg.JSON {
		err = engine.WriteJSON(stdout, res)
	} else {
		err = engine.WriteTable(stdout, res)
	}
	if err != nil {
		fmt.Fprintf(stderr, "osquery-syslog.ext query: writing output: %v\n", err)
		return 1
	}
	return 0
}
