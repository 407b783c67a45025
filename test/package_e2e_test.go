package test

// Tests of the packages make package builds: the .deb installed with the
// real dpkg into this machine (CI runs as root on a throwaway machine; the
// test purges the package and puts back what it changed), and the .rpm's
// contents read with rpm.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/osquery-syslog/osquery-syslog/schedule"
	"github.com/osquery-syslog/osquery-syslog/test/osquerytest"
)

// Where the packages put things (packaging/nfpm.yaml).
const (
	pkgName      = "osquery-syslog"
	pkgExt       = "/usr/local/lib/osquery-syslog/osquery-syslog.ext"
	pkgSnippet   = "/etc/rsyslog.d/60-osquery-syslog.conf"
	pkgShare     = "/usr/share/osquery-syslog"
	pkgState     = "/var/lib/osquery-syslog"
	pkgAutoload  = "/etc/osquery/extensions.load"
	pkgDebUnit   = "/lib/systemd/system/osquery-syslog.service"
	pkgRPMUnit   = "/usr/lib/systemd/system/osquery-syslog.service"
	pkgVersion1  = "1.0.0+test1"
	pkgVersion2  = "1.0.1+test2"
	pkgCommit    = "0123456789abcdef0123456789abcdef01234567"
	pkgBuildDate = "2026-12-01T00:00:00Z"
)

// TestPackages builds the .deb and .rpm twice, with two versions, as make
// package does, then checks them.
func TestPackages(t *testing.T) {
	needTools(t, "make")
	debs, rpms := buildPackages(t, t.TempDir())
	t.Run("RPMContents", func(t *testing.T) { testRPMContents(t, rpms) })
	t.Run("DebInstallUpgradeRemove", func(t *testing.T) { testDebInstallUpgradeRemove(t, debs) })
}

// needTools skips (outside CI) or fails (CI=true) when a command the test
// needs is missing; make deps installs them all.
func needTools(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if _, serr := os.Stat("/usr/sbin/" + n); serr == nil {
				continue
			}
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing (make deps installs it)", n)
			}
			t.Skipf("%s is missing (make deps installs it)", n)
		}
	}
}

// buildPackages runs make package for pkgVersion1 and pkgVersion2, for
// this machine's architecture, into dir.
func buildPackages(t *testing.T, dir string) (deb, rpm [2]string) {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	arch := runtime.GOARCH
	for i, v := range []string{pkgVersion1, pkgVersion2} {
		cmd := exec.Command("make", "--no-print-directory", "package",
			"VERSION="+v, "COMMIT="+pkgCommit, "BUILD_DATE="+pkgBuildDate,
			"PKG_ARCHES="+arch, "PKG_DIR="+dir, "GO="+goBin())
		cmd.Dir = root
		// Not the settings of a make that runs this test (make test).
		cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
			return strings.HasPrefix(kv, "MAKEFLAGS=") || strings.HasPrefix(kv, "MFLAGS=") || strings.HasPrefix(kv, "MAKELEVEL=")
		})
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make package VERSION=%s: %v\n%s", v, err, out)
		}
		t.Logf("make package VERSION=%s: %s", v, time.Since(start).Round(time.Second))
		deb[i] = filepath.Join(dir, fmt.Sprintf("%s_%s-1_%s.deb", pkgName, v, arch))
		rpm[i] = filepath.Join(dir, fmt.Sprintf("%s-%s-1.%s.rpm", pkgName, v, rpmArch(arch)))
	}
	for _, p := range append(deb[:], rpm[:]...) {
		if _, err := os.Stat(p); err != nil {
			entries, _ := os.ReadDir(dir)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Fatalf("make package made %v, not %s", names, filepath.Base(p))
		}
	}
	return deb, rpm
}

func rpmArch(goarch string) string {
	switch goarch {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	}
	return goarch
}

// testRPMContents: the .rpm holds the files the .deb holds, with the same
// owners and modes, the rsyslog snippet as a config file that an upgrade
// does not replace, and the install and removal scriptlets.
func testRPMContents(t *testing.T, rpms [2]string) {
	needTools(t, "rpm")
	out := runOK(t, "rpm", "-qp", "--qf", "%{NAME} %{VERSION}-%{RELEASE} %{ARCH}\n", rpms[0])
	if want := fmt.Sprintf("%s %s-1 %s", pkgName, pkgVersion1, rpmArch(runtime.GOARCH)); strings.TrimSpace(out) != want {
		t.Errorf("rpm header %q, want %q", out, want)
	}
	// rpm -qlvp prints ls -l lines: mode, links, owner, group, size, date, path.
	files := map[string][]string{}
	for _, l := range strings.Split(runOK(t, "rpm", "-qlvp", rpms[0]), "\n") {
		f := strings.Fields(l)
		if len(f) >= 9 {
			files[f[len(f)-1]] = f
		}
	}
	want := map[string]string{
		pkgExt:                                           "-rwxr-xr-x",
		filepath.Dir(pkgExt):                             "drwxr-xr-x",
		pkgSnippet:                                       "-rw-r--r--",
		pkgRPMUnit:                                       "-rw-r--r--",
		pkgShare + "/README.md":                          "-rw-r--r--",
		pkgShare + "/osquery.example.conf":               "-rw-r--r--",
		pkgShare + "/daemon.example.conf":                "-rw-r--r--",
		pkgShare + "/packs/syslog-security.conf":         "-rw-r--r--",
		pkgShare + "/packs/journal-security.conf":        "-rw-r--r--",
		pkgShare + "/rsyslog/osquery-syslog-legacy.conf": "-rw-r--r--",
		pkgShare + "/rsyslog/syslog-ng.conf":             "-rw-r--r--",
	}
	for path, mode := range want {
		f, ok := files[path]
		if !ok {
			t.Errorf("rpm lacks %s", path)
			continue
		}
		if f[0] != mode || f[2] != "root" || f[3] != "root" {
			t.Errorf("rpm %s: %s %s:%s, want %s root:root", path, f[0], f[2], f[3], mode)
		}
	}
	if conf := runOK(t, "rpm", "-qcp", rpms[0]); strings.TrimSpace(conf) != pkgSnippet {
		t.Errorf("rpm config files %q, want only %s", conf, pkgSnippet)
	}
	// %config(noreplace): flag bit 16 (RPMFILE_NOREPLACE) besides 1 (CONFIG).
	flags := runOK(t, "rpm", "-qp", "--qf", "[%{FILENAMES} %{FILEFLAGS}\n]", rpms[0])
	if !strings.Contains(flags, pkgSnippet+" 17\n") {
		t.Errorf("%s is not %%config(noreplace):\n%s", pkgSnippet, flags)
	}
	scripts := runOK(t, "rpm", "-qp", "--scripts", rpms[0])
	for _, s := range []string{"postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet", pkgAutoload} {
		if !strings.Contains(scripts, s) {
			t.Errorf("rpm scriptlets lack %q:\n%s", s, scripts)
		}
	}
}

// testDebInstallUpgradeRemove installs the .deb with dpkg -i into this
// machine as an admin would, checks what it installed, runs the installed
// binary under the osqueryd harness, upgrades to the second build and
// checks that the buffered rows and queued lines survived, then removes and
// purges it.
func testDebInstallUpgradeRemove(t *testing.T, debs [2]string) {
	if os.Getuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("installing the .deb needs root; CI runs as root")
		}
		t.Skip("installing the .deb needs root (CI runs it)")
	}
	needTools(t, "dpkg", "dpkg-query", "systemd-analyze", "rsyslogd")
	guardMachine(t)

	// An admin's autoload file, without a final newline: the package must
	// append to it and keep its line.
	const adminLine = "/opt/admin/other.ext"
	if err := os.MkdirAll(filepath.Dir(pkgAutoload), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pkgAutoload, []byte(adminLine), 0o640); err != nil {
		t.Fatal(err)
	}

	runOK(t, "dpkg", "-i", debs[0])
	checkInstalled(t, pkgVersion1)
	if got := readLines(t, pkgAutoload); !slices.Equal(got, []string{adminLine, pkgExt}) {
		t.Errorf("%s after install: %q, want the admin's line and ours", pkgAutoload, got)
	}
	if fi, err := os.Stat(pkgAutoload); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("%s mode changed: %v %v", pkgAutoload, fi.Mode(), err)
	}
	checkUnit(t)
	checkRsyslogSnippet(t)
	checkExampleConfigs(t)

	// Run the installed binary as osqueryd would, with the buffer and queue
	// where the systemd unit keeps them, and fill both.
	argv, flags := unitCommand(t, pkgDebUnit)
	checkUnitCommand(t, argv, flags)
	st := stateRun{
		mgr:  osquerytest.New(t, osquerytest.Options{}),
		pipe: filepath.Join(osquerytest.ShortTempDir(t), "syslog_pipe"),
		argv: []string{"--database_path", flags["database_path"], "--forwarder_queue_path", flags["forwarder_queue_path"]},
	}
	if !strings.HasPrefix(flags["database_path"], pkgState+"/") || !strings.HasPrefix(flags["forwarder_queue_path"], pkgState+"/") {
		t.Fatalf("the unit keeps its state outside %s: %v", pkgState, flags)
	}
	p := st.start(t, pkgVersion1)
	f := openPipe(t, st.pipe)
	for i := range 3 {
		writeLines(t, f, csvLine("2026-12-01T10:00:0"+fmt.Sprint(i)+".000000+00:00", "pkghost", "6", "auth", "pkgtest:", fmt.Sprintf("before upgrade %d", i)))
	}
	ctx := callCtx(t)
	for i := range 5 {
		code, msg, err := st.mgr.CallLogger(ctx, "kinesis", map[string]string{"string": resultLine(i), "category": "event"})
		if err != nil || code != 0 {
			t.Fatalf("logger call %d: code %d %q %v\n%s", i, code, msg, err, p.logs())
		}
	}
	var eids []int64
	eventually(t, time.Minute, "3 rows and 5 queued lines before the upgrade", func() error {
		var err error
		eids, err = st.check(t, 3, 5)
		return err
	})
	if code := p.terminate(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}

	// Upgrade: the state stays, the admin's file is not touched again.
	runOK(t, "dpkg", "-i", debs[1])
	checkInstalled(t, pkgVersion2)
	if got := readLines(t, pkgAutoload); !slices.Equal(got, []string{adminLine, pkgExt}) {
		t.Errorf("%s after the upgrade: %q", pkgAutoload, got)
	}
	p = st.start(t, pkgVersion2)
	eventually(t, time.Minute, "the same rows and queued lines after the upgrade", func() error {
		after, err := st.check(t, 3, 5)
		if err == nil && !slices.Equal(after, eids) {
			return fmt.Errorf("eids %v after the upgrade, %v before", after, eids)
		}
		return err
	})
	if code := p.terminate(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}

	// Removal keeps the state and the conffile and takes out our autoload
	// line; purge deletes them.
	runOK(t, "dpkg", "-r", pkgName)
	for _, gone := range []string{pkgExt, pkgDebUnit, pkgShare} {
		if _, err := os.Lstat(gone); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s still there after dpkg -r (%v)", gone, err)
		}
	}
	for _, kept := range []string{flags["database_path"], flags["forwarder_queue_path"], pkgSnippet} {
		if _, err := os.Stat(kept); err != nil {
			t.Errorf("dpkg -r removed %s: %v", kept, err)
		}
	}
	if got := readLines(t, pkgAutoload); !slices.Equal(got, []string{adminLine}) {
		t.Errorf("%s after dpkg -r: %q, want only the admin's line", pkgAutoload, got)
	}
	runOK(t, "dpkg", "-P", pkgName)
	if fi, err := os.Lstat("/var/osquery/syslog_pipe"); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("dpkg -P removed the pipe osquery shares: %v", err)
	}
	for _, gone := range []string{pkgState, flags["logger_path"], pkgSnippet} {
		if _, err := os.Lstat(gone); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s still there after dpkg -P (%v)", gone, err)
		}
	}
}

// guardMachine refuses to run where the package or its state already is
// (an admin's install), and puts back the autoload file and /var/osquery
// as they were when the test ends, purging the package whatever happened.
func guardMachine(t *testing.T) {
	t.Helper()
	status, _ := exec.Command("dpkg-query", "-W", "-f", "${db:Status-Status}", pkgName).Output()
	if s := string(status); s != "" && s != "not-installed" {
		msg := fmt.Sprintf("package %s is on this machine (%s); the test installs and purges it, so it runs only where it is not", pkgName, s)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if _, err := os.Lstat(pkgState); err == nil {
		t.Skipf("%s exists; the test would purge it", pkgState)
	}
	autoload, autoloadErr := os.ReadFile(pkgAutoload)
	var autoloadMode fs.FileMode = 0o644
	if fi, err := os.Stat(pkgAutoload); err == nil {
		autoloadMode = fi.Mode().Perm()
	}
	_, etcErr := os.Stat(filepath.Dir(pkgAutoload))
	_, varErr := os.Stat("/var/osquery")
	t.Cleanup(func() {
		if out, err := exec.Command("dpkg", "-P", pkgName).CombinedOutput(); err != nil {
			t.Errorf("dpkg -P %s: %v\n%s", pkgName, err, out)
		}
		switch {
		case autoloadErr == nil:
			if err := os.WriteFile(pkgAutoload, autoload, autoloadMode); err != nil {
				t.Error(err)
			}
			os.Chmod(pkgAutoload, autoloadMode)
		default:
			os.Remove(pkgAutoload)
		}
		if etcErr != nil {
			os.Remove(filepath.Dir(pkgAutoload))
		}
		if varErr != nil {
			os.RemoveAll("/var/osquery") // the pipe the package made
		}
	})
}

// checkInstalled checks the installed files: owners, modes, the conffile,
// the state folder, and the binary's --version.
func checkInstalled(t *testing.T, version string) {
	t.Helper()
	if v := runOK(t, "dpkg-query", "-W", "-f", "${Version}", pkgName); v != version+"-1" {
		t.Errorf("installed version %q, want %s-1", v, version)
	}
	want := []struct {
		path string
		mode fs.FileMode
	}{
		{pkgExt, 0o755},
		{filepath.Dir(pkgExt), fs.ModeDir | 0o755},
		{pkgSnippet, 0o644},
		{pkgDebUnit, 0o644},
		{pkgShare + "/README.md", 0o644},
		{pkgShare + "/osquery.example.conf", 0o644},
		{pkgShare + "/daemon.example.conf", 0o644},
		{pkgShare + "/packs/syslog-security.conf", 0o644},
		{pkgShare + "/packs/journal-security.conf", 0o644},
		{pkgShare + "/rsyslog/osquery-syslog-legacy.conf", 0o644},
		{pkgShare + "/rsyslog/syslog-ng.conf", 0o644},
		{pkgState, fs.ModeDir | 0o750},
		{"/var/osquery", fs.ModeDir | 0o750},
		{"/var/osquery/syslog_pipe", fs.ModeNamedPipe | 0o460},
	}
	for _, w := range want {
		fi, err := os.Lstat(w.path)
		if err != nil {
			t.Errorf("installed: %v", err)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode() != w.mode || st.Uid != 0 {
			t.Errorf("%s: %v uid %d, want %v uid 0", w.path, fi.Mode(), st.Uid, w.mode)
		}
		if st.Gid != 0 && !strings.HasPrefix(w.path, "/var/osquery") { // group syslog where it exists
			t.Errorf("%s: gid %d, want 0", w.path, st.Gid)
		}
	}
	if conf := runOK(t, "dpkg-query", "-W", "-f", "${Conffiles}", pkgName); !strings.Contains(conf, pkgSnippet+" ") {
		t.Errorf("conffiles %q lack %s", conf, pkgSnippet)
	}
	out := runOK(t, pkgExt, "--version")
	for _, s := range []string{"osquery-syslog.ext " + version + " ", "commit " + pkgCommit, "built " + pkgBuildDate} {
		if !strings.Contains(out, s) {
			t.Errorf("%s --version: %q lacks %q", pkgExt, out, s)
		}
	}
}

// checkUnit runs systemd-analyze verify on the installed unit (which also
// checks that ExecStart's binary exists and is executable) and has systemd
// rate its hardening.
func checkUnit(t *testing.T) {
	t.Helper()
	out, err := exec.Command("systemd-analyze", "verify", pkgDebUnit).CombinedOutput()
	if err != nil || bytes.Contains(out, []byte("osquery-syslog.service")) {
		t.Errorf("systemd-analyze verify %s: %v\n%s", pkgDebUnit, err, out)
	}
	// systemd's own rating of the sandbox, read from the file alone.
	out, err = exec.Command("systemd-analyze", "security", "--offline=true", pkgDebUnit).CombinedOutput()
	if _, level, ok := strings.Cut(string(out), "Overall exposure level for osquery-syslog.service: "); !ok || err != nil {
		t.Errorf("systemd-analyze security --offline=true %s: %v\n%s", pkgDebUnit, err, out)
	} else if f := strings.Fields(level); len(f) < 2 || (f[1] != "OK" && f[1] != "SAFE") {
		t.Errorf("systemd-analyze security rates the unit %q, want OK or SAFE", strings.Join(f[:min(2, len(f))], " "))
	} else {
		t.Logf("systemd-analyze security: exposure %s %s", f[0], f[1])
	}
	unit, err := os.ReadFile(pkgDebUnit)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"ProtectSystem=strict", "NoNewPrivileges=true", "Restart=on-failure", "StateDirectory=osquery-syslog"} {
		if !strings.Contains(string(unit), "\n"+d+"\n") {
			t.Errorf("the unit lacks %s", d)
		}
	}
}

// checkRsyslogSnippet validates the installed snippet with rsyslogd -N1,
// on its own and as the system's rsyslog.conf includes it.
func checkRsyslogSnippet(t *testing.T) {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "rsyslog.conf")
	own := "module(load=\"imuxsock\" SysSock.Use=\"off\")\ninclude(file=\"" + pkgSnippet + "\")\n"
	if err := os.WriteFile(conf, []byte(own), 0o644); err != nil {
		t.Fatal(err)
	}
	args := [][]string{{"-N1", "-f", conf}}
	if _, err := os.Stat("/etc/rsyslog.conf"); err == nil {
		args = append(args, []string{"-N1"})
	}
	for _, a := range args {
		out, err := exec.Command(rsyslogd(), a...).CombinedOutput()
		if err != nil || bytes.Contains(bytes.ToLower(out), []byte("error")) {
			t.Errorf("rsyslogd %s: %v\n%s", strings.Join(a, " "), err, out)
		}
	}
}

func rsyslogd() string {
	if p, err := exec.LookPath("rsyslogd"); err == nil {
		return p
	}
	return "/usr/sbin/rsyslogd"
}

// checkExampleConfigs parses the installed example configurations as the
// daemon does, packs included; osqueryd's may carry // comments, which
// osqueryd skips, so they are removed first.
func checkExampleConfigs(t *testing.T) {
	t.Helper()
	for _, name := range []string{"osquery.example.conf", "daemon.example.conf"} {
		path := filepath.Join(pkgShare, name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, l := range strings.Split(string(data), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "//") {
				b.WriteString(l + "\n")
			}
		}
		cfg, err := schedule.Parse([]byte(b.String()), schedule.ParseOptions{BaseDir: pkgShare})
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if len(cfg.Queries) < 5 {
			t.Errorf("%s: %d queries, want the pack's too", path, len(cfg.Queries))
		}
	}
}

// unitCommand reads the unit's ExecStart: the argv and its --name value
// flags.
func unitCommand(t *testing.T, unit string) (argv []string, flags map[string]string) {
	t.Helper()
	data, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.ReplaceAll(string(data), "\\\n", " ")
	sc := bufio.NewScanner(strings.NewReader(joined))
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "ExecStart="); ok {
			argv = strings.Fields(line)
		}
	}
	if len(argv) < 2 || argv[0] != pkgExt || argv[1] != "daemon" {
		t.Fatalf("ExecStart=%s, want %s daemon ...", strings.Join(argv, " "), pkgExt)
	}
	flags = map[string]string{}
	for i := 2; i+1 < len(argv); i += 2 {
		flags[strings.TrimPrefix(argv[i], "--")] = argv[i+1]
	}
	return argv, flags
}

// checkUnitCommand runs the unit's command line, with the daemon example
// installed as the config the unit names, until it reads the pipe the
// package made and runs the pack's schedule, and stops it as systemd would
// (SIGTERM).
func checkUnitCommand(t *testing.T, argv []string, flags map[string]string) {
	t.Helper()
	conf := flags["config_path"]
	if _, err := os.Stat(filepath.Dir(conf)); err == nil {
		t.Fatalf("%s exists; the test would remove it", filepath.Dir(conf))
	}
	if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(conf)) })
	example, err := os.ReadFile(filepath.Join(pkgShare, "daemon.example.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, example, 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProcess(t, t.TempDir(), argv)
	eventually(t, time.Minute, "the daemon running its schedule", func() error {
		if !p.running() {
			t.Fatalf("the unit's command exited:\n%s", p.logs())
		}
		logs := p.logs()
		for _, want := range []string{"daemon running", "query=pack_syslog-security_", `msg="reading syslog pipe" component=syslog path=` + flags["syslog_pipe_path"]} {
			if !strings.Contains(logs, want) {
				return fmt.Errorf("no %q in its log yet", want)
			}
		}
		return nil
	})
	if logs := p.logs(); strings.Contains(logs, "level=ERROR") || strings.Contains(logs, "level=WARN") {
		t.Errorf("the unit's command logged errors or warnings:\n%s", logs)
	}
	if code := p.terminate(30 * time.Second); code != 0 {
		t.Fatalf("the unit's command: exit code %d after SIGTERM", code)
	}
}

// stateRun runs the installed binary under the osqueryd harness with the
// kinesis logger pointed at a closed port, so logged lines stay queued.
type stateRun struct {
	mgr  *osquerytest.Manager
	pipe string
	argv []string
}

func (s stateRun) start(t *testing.T, version string) *process {
	t.Helper()
	argv := osquerytest.LaunchArgs(pkgExt, s.mgr.Socket(), true)
	argv = append(argv, s.argv...)
	argv = append(argv, "--syslog_pipe_path", s.pipe,
		"--aws_kinesis_stream", "pkgtest", "--aws_kinesis_endpoint", "http://127.0.0.1:9",
		"--aws_region", "us-east-1", "--aws_access_key_id", "AKIDOSQUERYSYSLOG", "--aws_secret_access_key", "secret")
	p := startProcess(t, filepath.Dir(s.pipe), argv)
	info := waitRegistered(t, s.mgr, p, 90*time.Second)
	if info.Version != version {
		t.Errorf("registered with version %q, want %q", info.Version, version)
	}
	waitFIFO(t, s.pipe)
	return p
}

// check wants rows syslog_messages rows of the test and queued lines in the
// kinesis queue, and returns the rows' eids.
func (s stateRun) check(t *testing.T, rows, queued int) ([]int64, error) {
	ctx := callCtx(t)
	got, err := withEid(ctx, env{mgr: s.mgr}, "pkgtest")
	if err != nil {
		return nil, err
	}
	if len(got) != rows {
		return nil, fmt.Errorf("%d syslog_messages rows, want %d", len(got), rows)
	}
	eids := eidsOf(t, got)
	stats, err := s.mgr.Select(ctx, "osquery_syslog_stats", osquerytest.Constraint{Column: "source", Op: osquerytest.OpEquals, Expr: "kinesis"})
	if err != nil {
		return nil, err
	}
	if len(stats) != 1 || stats[0]["queue_depth"] != fmt.Sprint(queued) {
		return nil, fmt.Errorf("kinesis stats %v, want queue_depth %d", stats, queued)
	}
	return eids, nil
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(data), "\n"), "\n")
}

// runOK runs a command and returns its output, failing the test on error.
func runOK(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
