package test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/osquery-syslog/osquery-syslog/test/osquerytest"
)

// TestOptionsFromOsqueryd: settings reach the extension through osqueryd's
// options() with the documented precedence: an osqueryd option set to a
// non-default value, then custom_<name>; never osqueryd's own database_path.
func TestOptionsFromOsqueryd(t *testing.T) {
	dir := osquerytest.ShortTempDir(t)
	mgr := osquerytest.New(t, osquerytest.Options{
		Flags: map[string]osquerytest.OptionValue{
			// osquery's own flag, set by the admin: applies.
			"syslog_events_max": {Value: "7", Default: "100000", Type: "uint64"},
			// osquery's RocksDB folder: must never become our buffer.
			"database_path": {Value: filepath.Join(dir, "osquery.db"), Default: "/var/osquery/osquery.db", Type: "string"},
		},
		Custom: map[string]string{
			"custom_syslog_events_max": "3", // loses to the osqueryd option above
			"custom_database_path":     filepath.Join(dir, "custom.db"),
		},
	})
	e := env{mgr: mgr, dir: dir, db: filepath.Join(dir, "unused.db"), pipe: filepath.Join(dir, "syslog_pipe")}
	// No --database_path on the command line, as under osqueryd.
	argv := osquerytest.LaunchArgs(extBin, mgr.Socket(), true)
	argv = append(argv, "--syslog_pipe_path", e.pipe)
	p := startProcess(t, dir, argv)
	defer p.terminate(30 * time.Second)
	waitRegistered(t, mgr, p, 90*time.Second)
	waitFIFO(t, e.pipe)
	f := openPipe(t, e.pipe)
	var lines []string
	for i := range 20 {
		lines = append(lines, csvLine("2024-01-02T03:04:05.123456+00:00", "opt-host", "6", "user", "opt[1]:", fmt.Sprintf("m%02d", i)))
	}
	writeLines(t, f, lines...)
	ctx := callCtx(t)
	eventually(t, time.Minute, "the last line", func() error {
		rows, err := tagged(ctx, mgr, "opt[1]")
		if err != nil {
			return err
		}
		if len(rows) == 0 || rows[len(rows)-1]["message"] != "m19" {
			return fmt.Errorf("%d rows", len(rows))
		}
		if len(rows) != 7 {
			return fmt.Errorf("%d rows, want syslog_events_max=7 from osqueryd's option", len(rows))
		}
		return nil
	})
	if _, err := os.Stat(filepath.Join(dir, "custom.db")); err != nil {
		t.Errorf("custom_database_path not used: %v\n%s", err, p.logs())
	}
	if _, err := os.Stat(filepath.Join(dir, "osquery.db")); err == nil {
		t.Errorf("osqueryd's database_path was taken as the event buffer")
	}
}
