package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/osquery-syslog/osquery-syslog/forwarder/awsconf"
	"github.com/osquery-syslog/osquery-syslog/tables/asl"
	"github.com/osquery-syslog/osquery-syslog/tables/journal"
	"github.com/osquery-syslog/osquery-syslog/tables/logfile"
	"github.com/osquery-syslog/osquery-syslog/tables/syslog"
	"github.com/osquery-syslog/osquery-syslog/tables/tablekit"
)

// The sources' flags, embedded in config under these names.
type (
	syslogFlags   = syslog.Flags
	aslFlags      = asl.Flags
	logfileConfig = logfile.Flags
)

// config is every setting of the binary. Flag names follow osquery's so that
// the options of an osquery config apply unchanged.
type config struct {
	// Passed by osqueryd when it autoloads the extension.
	Socket   string
	Timeout  int
	Interval int
	Verbose  bool

	DatabasePath     string
	TableTimeout     int
	TableConcurrency int

	// Each table's own flags (tables/*/flags.go), registered and
	// validated through tableRegistry.
	syslogFlags
	aslFlags
	logfileConfig
	Journal journal.Flags

	// Logger plugins.
	LoggerPlugin       string
	ForwarderQueuePath string
	AWS                awsconf.Flags

	JSON bool // query subcommand output

	daemon bool // the daemon subcommand: it runs more loggers (see loggers)
}

// launchFlags are set by osqueryd on the command line and never taken from
// its options().
var launchFlags = map[string]bool{"socket": true, "timeout": true, "interval": true, "verbose": true}

// osqueryMeansOther are our flags whose name osqueryd also uses for
// something else (its RocksDB directory, its filesystem logger's folder):
// osqueryd's value is never taken for them, only custom_<name>.
var osqueryMeansOther = map[string]bool{"database_path": true, "logger_path": true}

func newFlagSet(name string, c *config) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)

	fs.StringVar(&c.Socket, "socket", "/var/osquery/osquery.em", "Path of osqueryd's extensions socket (osqueryd passes it)")
	fs.IntVar(&c.Timeout, "timeout", 3, "Seconds to wait for the extensions socket to appear (osqueryd passes it)")
	fs.IntVar(&c.Interval, "interval", 3, "Seconds between health checks of the osqueryd connection (osqueryd passes it)")
	fs.BoolVar(&c.Verbose, "verbose", false, "Log debug messages (osqueryd passes it when it is verbose)")

	fs.StringVar(&c.DatabasePath, "database_path", "/var/osquery/osquery-syslog.db", "SQLite file of the durable event buffer")
	fs.IntVar(&c.TableTimeout, "table_timeout", int(tablekit.DefaultTimeout/time.Second), "Seconds one table query may run (must stay below osqueryd's 300 s Thrift timeout)")
	fs.IntVar(&c.TableConcurrency, "table_concurrency", tablekit.DefaultConcurrency, "Concurrent queries allowed per table; more fail at once")

	for _, t := range tableRegistry {
		if t.flags != nil {
			t.flags(c).Register(fs)
		}
	}
	fs.StringVar(&c.LoggerPlugin, "logger_plugin", "", "Comma-separated logger plugins to run: kinesis, firehose (under osqueryd, its own logger_plugin option; a plugin whose stream flag is set also runs)")
	fs.StringVar(&c.ForwarderQueuePath, "forwarder_queue_path", "/var/osquery/osquery-syslog-queue.db", "SQLite file of the logger plugins' durable shipping queue")
	c.AWS.Register(fs)
	return fs
}

func addQueryFlags(fs *flag.FlagSet, c *config) {
	fs.BoolVar(&c.JSON, "json", false, "Print rows as a JSON array of objects (like osqueryi --json)")
}

// validate checks values the flag package cannot; every message names the flag.
func (c *config) validate() error {
	var errs []error
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("--timeout: must be >= 0, got %d", c.Timeout))
	}
	if c.Interval <= 0 {
		errs = append(errs, fmt.Errorf("--interval: must be > 0, got %d", c.Interval))
	}
	if c.DatabasePath == "" {
		errs = append(errs, errors.New("--database_path: must not be empty"))
	}
	if c.TableTimeout <= 0 || time.Duration(c.TableTimeout)*time.Second > tablekit.MaxTimeout {
		errs = append(errs, fmt.Errorf("--table_timeout: must be between 1 and %d seconds (osqueryd gives up after 300), got %d", int(tablekit.MaxTimeout/time.Second), c.TableTimeout))
	}
	if c.TableConcurrency <= 0 {
		errs = append(errs, fmt.Errorf("--table_concurrency: must be > 0, got %d", c.TableConcurrency))
	}
	for _, t := range tableRegistry {
		if t.flags == nil {
			continue
		}
		if err := t.flags(c).Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	names, err := c.loggers()
	if err != nil {
		errs = append(errs, err)
	}
	for _, svc := range names {
		if svc != awsconf.Kinesis && svc != awsconf.Firehose {
			continue
		}
		if err := c.AWS.Validate(svc); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// osqueryLoggers are osqueryd's built-in logger plugins: osqueryd runs them
// itself, so the extension skips them in --logger_plugin.
var osqueryLoggers = []string{"filesystem", "tls", "syslog", "stdout", "aws_kinesis", "aws_firehose", "kafka_producer", "windows_event_log"}

// loggers parses --logger_plugin, the one place it is parsed: the logger
// plugins this process runs, in order, those named first, then those whose
// stream flag is set. The extension runs kinesis and firehose and skips
// osqueryd's own loggers; the daemon runs filesystem, kinesis and firehose.
// Any other name is an error naming the flag.
func (c *config) loggers() ([]string, error) {
	provided := []string{awsconf.Kinesis, awsconf.Firehose}
	what := "this extension provides kinesis and firehose"
	if c.daemon {
		provided = daemonLoggers
		what = "the daemon provides " + strings.Join(daemonLoggers, ", ")
	}
	var out []string
	var errs []error
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, p := range strings.Split(c.LoggerPlugin, ",") {
		switch p = strings.TrimSpace(p); {
		case p == "":
		case slices.Contains(provided, p):
			add(p)
		case !c.daemon && slices.Contains(osqueryLoggers, p):
		default:
			errs = append(errs, fmt.Errorf("--logger_plugin: unknown logger %q (%s)", p, what))
		}
	}
	if c.AWS.KinesisStream != "" {
		add(awsconf.Kinesis)
	}
	if c.AWS.FirehoseStream != "" {
		add(awsconf.Firehose)
	}
	return out, errors.Join(errs...)
}

// option is one entry of osqueryd's options() answer.
type option struct {
	Value, Default string
}

// applyOptions fills every flag not given on the command line from osqueryd's
// options, in precedence order: an osqueryd option of the same name (only
// when osqueryd's value differs from its default, i.e. someone set it), then
// a custom_<name> option of the osquery config. explicit holds the flags set
// on our command line, which win over both. It returns what it applied.
func applyOptions(fs *flag.FlagSet, explicit map[string]bool, opts map[string]option) ([]string, error) {
	var applied []string
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if explicit[f.Name] || launchFlags[f.Name] {
			return
		}
		source, value := "", ""
		if o, ok := opts[f.Name]; ok && !osqueryMeansOther[f.Name] && o.Value != "" && o.Value != o.Default {
			source, value = "osqueryd option "+f.Name, o.Value
		} else if o, ok := opts["custom_"+f.Name]; ok && o.Value != "" {
			source, value = "osquery config option custom_"+f.Name, o.Value
		}
		if source == "" {
			return
		}
		if err := fs.Set(f.Name, value); err != nil {
			errs = append(errs, fmt.Errorf("--%s: invalid value %q from %s: %v", f.Name, value, source, err))
			return
		}
		applied = append(applied, f.Name+"="+value+" ("+source+")")
	})
	sort.Strings(applied)
	return applied, errors.Join(errs...)
}

// explicitFlags returns the names of the flags set on the command line.
func explicitFlags(fs *flag.FlagSet) map[string]bool {
	m := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { m[f.Name] = true })
	return m
}

// parseArgs parses args, allowing flags before and after positional
// arguments (`query "SQL" --json`). It returns the positional arguments.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// printUsage lists every flag with its default, including zero defaults
// that flag.PrintDefaults would hide.
func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, `osquery-syslog.ext: syslog and log files as osquery tables.

Usage:
  osquery-syslog.ext [flags]                 run as an osquery extension (osqueryd passes --socket --timeout --interval [--verbose])
  osquery-syslog.ext daemon [flags]          run ingestion without osqueryd, and with --config_path the
                                             schedule/packs of an osquery config through the logger plugins
  osquery-syslog.ext query [flags] "SQL"     run SQL over the tables, reading the buffer a running extension or daemon writes

Flags (own command-line flag > osqueryd option of the same name > custom_<name> in the osquery config > default):
`)
	fs.VisitAll(func(f *flag.Flag) {
		typ, _ := flag.UnquoteUsage(f)
		if typ == "" {
			typ = "bool"
		}
		def := f.DefValue
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(w, "  --%s %s (default %s)\n      %s\n", f.Name, typ, def, strings.ReplaceAll(f.Usage, "\n", "\n      "))
	})
}
