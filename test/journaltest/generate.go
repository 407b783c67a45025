package journaltest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Message kinds that Generate mixes in, each at least once from n >= 8.
const (
	kindText      = iota // one line of ASCII
	kindUTF8             // one line with multi-byte UTF-8
	kindBinary           // invalid UTF-8, a NUL and control bytes
	kindMultiline        // several lines (a traceback)
	kindLarge            // 60 KiB of UTF-8 text
	kindEmpty            // MESSAGE= with an empty value
)

// LargeMessageSize is the size of Generate's large messages (60 KiB).
const LargeMessageSize = 60 << 10

type unit struct {
	name, comm, exe, cmdline, ident string
	uid, gid                        int
}

// units are the services Generate logs from: many, with the names systemd
// really uses (template instances, escaped names, scopes).
var units = []unit{
	{"sshd.service", "sshd", "/usr/sbin/sshd", "sshd: alice [priv]", "sshd", 0, 0},
	{"cron.service", "cron", "/usr/sbin/cron", "/usr/sbin/cron -f", "CRON", 0, 0},
	{"systemd-logind.service", "systemd-logind", "/lib/systemd/systemd-logind", "/lib/systemd/systemd-logind", "systemd-logind", 0, 0},
	{"nginx.service", "nginx", "/usr/sbin/nginx", "nginx: worker process", "nginx", 33, 33},
	{"docker.service", "dockerd", "/usr/bin/dockerd", "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock", "dockerd", 0, 0},
	{"containerd.service", "containerd", "/usr/bin/containerd", "/usr/bin/containerd", "containerd", 0, 0},
	{"session-3.scope", "sudo", "/usr/bin/sudo", "sudo -i", "sudo", 0, 1000},
	{"session-7.scope", "su", "/usr/bin/su", "su - postgres", "su", 0, 1000},
	{"user@1000.service", "systemd", "/lib/systemd/systemd", "/lib/systemd/systemd --user", "systemd", 1000, 1000},
	{"systemd-journald.service", "systemd-journal", "/lib/systemd/systemd-journald", "/lib/systemd/systemd-journald", "systemd-journald", 0, 0},
	{"NetworkManager.service", "NetworkManager", "/usr/sbin/NetworkManager", "/usr/sbin/NetworkManager --no-daemon", "NetworkManager", 0, 0},
	{"postfix@-.service", "smtpd", "/usr/lib/postfix/sbin/smtpd", "smtpd -n smtp -t inet -u -c", "postfix/smtpd", 107, 113},
	{"postgresql@15-main.service", "postgres", "/usr/lib/postgresql/15/bin/postgres", "postgres: 15/main: checkpointer", "postgres", 112, 120},
	{`systemd-fsck@dev-disk-by\x2duuid-4b1c\x2d9e.service`, "systemd-fsck", "/lib/systemd/systemd-fsck", "/lib/systemd/systemd-fsck /dev/disk/by-uuid/4b1c-9e", "systemd-fsck", 0, 0},
	{"kubelet.service", "kubelet", "/usr/bin/kubelet", "/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml", "kubelet", 0, 0},
	{"auditd.service", "auditd", "/sbin/auditd", "/sbin/auditd", "auditd", 0, 0},
	{"polkit.service", "polkitd", "/usr/lib/polkit-1/polkitd", "/usr/lib/polkit-1/polkitd --no-debug", "polkitd", 997, 997},
	{"dbus.service", "dbus-daemon", "/usr/bin/dbus-daemon", "/usr/bin/dbus-daemon --system --address=systemd: --nofork --nopidfile --systemd-activation --syslog-only", "dbus-daemon", 101, 101},
	{"systemd-resolved.service", "systemd-resolve", "/lib/systemd/systemd-resolved", "/lib/systemd/systemd-resolved", "systemd-resolved", 102, 103},
	{"rsyslog.service", "rsyslogd", "/usr/sbin/rsyslogd", "/usr/sbin/rsyslogd -n -iNONE", "rsyslogd", 0, 0},
	{"app-web.service", "python3", "/usr/bin/python3.11", "/usr/bin/python3 /srv/app/web.py --port 8080", "app-web", 1001, 1001},
	{"backup.service", "restic", "/usr/bin/restic", "restic backup /srv --tag nightly", "restic", 0, 0},
	{"systemd-udevd.service", "systemd-udevd", "/lib/systemd/systemd-udevd", "/lib/systemd/systemd-udevd", "systemd-udevd", 0, 0},
	{"init.scope", "systemd", "/lib/systemd/systemd", "/sbin/init", "systemd", 0, 0},
}

var hosts = []string{"web-1", "db-2.example.com", "build-runner-03"}

var transports = []string{"journal", "syslog", "stdout", "kernel", "audit", "driver"}

var textMessages = []string{
	"Accepted publickey for alice from 10.0.0.5 port 51234 ssh2: ED25519 SHA256:Xq2f9",
	"Failed password for invalid user admin from 203.0.113.7 port 40022 ssh2",
	"pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)",
	"alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt upgrade",
	"new user: name=mallory, UID=1002, GID=1002, home=/home/mallory, shell=/bin/bash",
	"(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
	"Started Session 7 of User alice.",
	"nginx.service: Main process exited, code=killed, status=11/SEGV",
	"app[4242]: segfault at 0 ip 00005581a2b4c3d2 sp 00007ffd1c2b3a40 error 4 in app[5581a2b40000+2000]",
	"Out of memory: Killed process 3121 (java) total-vm:8123456kB, anon-rss:4012345kB",
	"GET /healthz HTTP/1.1 200 2 \"-\" \"kube-probe/1.29\"",
	"checkpoint complete: wrote 1234 buffers (7.5%); 0 WAL file(s) added",
	"Reloading configuration; quotes \"double\" and 'single', commas, a, b; backslash \\ and = sign",
}

var utf8Messages = []string{
	"Überprüfung fehlgeschlagen für Benutzer „jürgen“ — Zugriff verweigert",
	"ошибка аутентификации пользователя «админ»",
	"ディスク容量が不足しています: /var (残り 3%)",
	"服务已启动 🚀 ready in 120 ms ✓",
	"café déjà vu: naïve façade, ½ done, € 12,50",
}

var traceback = []string{
	"Traceback (most recent call last):",
	"  File \"/srv/app/web.py\", line 42, in <module>",
	"    main()",
	"  File \"/srv/app/web.py\", line 37, in main",
	"\traise ValueError(\"bad value: %r\" % value)",
	"ValueError: bad value: 'ä'",
}

// clock keeps realtime timestamps increasing across Generate calls in one
// process, so that a second batch appended to a journal comes after the
// first one.
var clock struct {
	sync.Mutex
	last uint64 // the last realtime timestamp handed out, µs
}

// Generate returns n realistic journal entries. Everything but the timestamps
// is a function of n and seed. Realtime timestamps increase strictly (steps
// of 1 µs to 2 ms), ending near the current time, and continue after those
// of earlier Generate calls in the same process.
//
// The mix: every PRIORITY 0-7 and SYSLOG_FACILITY 0-23 (the first 24 entries
// cover all of them), messages in ASCII, multi-byte UTF-8, binary (invalid
// UTF-8 with a NUL), several lines, 60 KiB and empty (all of them among the
// first 8 entries); 24 units with their _PID, _UID, _GID, _COMM, _EXE and
// _CMDLINE; three hosts with their own _MACHINE_ID; several boots
// (_BOOT_ID, with __MONOTONIC_TIMESTAMP counting from each boot); the
// transports journal, syslog, stdout, kernel (no process fields, no unit),
// audit and driver; SYSLOG_IDENTIFIER and sometimes SYSLOG_PID; and extra
// fields: _SOURCE_REALTIME_TIMESTAMP, CODE_FILE/CODE_LINE/CODE_FUNC,
// MESSAGE_ID, ERRNO, _SYSTEMD_CGROUP, _SYSTEMD_SLICE,
// _SYSTEMD_INVOCATION_ID, _CAP_EFFECTIVE, application fields, and now and
// then a binary application field.
func Generate(n int, seed int64) []Entry {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6a6f75726e616c)) // "journal"

	// Timestamps: steps first, then the base, so the last entry lands near now.
	steps := make([]uint64, n)
	var span uint64
	for i := range steps {
		steps[i] = 1 + rng.Uint64N(2000)
		span += steps[i]
	}
	realtime := startTime(steps, span)

	machines := make([]string, len(hosts))
	for i := range machines {
		machines[i] = id128(rng)
	}
	// Boots: one per 1000 entries (at least one); monotonic time starts a
	// few seconds after each boot.
	boots := 1 + n/1000
	bootIDs := make([]string, boots)
	for i := range bootIDs {
		bootIDs[i] = id128(rng)
	}
	var boot int
	monotonic := 3_000_000 + rng.Uint64N(10_000_000)

	es := make([]Entry, n)
	for i := range es {
		realtime += steps[i]
		if b := i * boots / max(n, 1); b != boot {
			boot = b
			monotonic = 3_000_000 + rng.Uint64N(10_000_000)
		}
		monotonic += steps[i]
		h := rng.IntN(len(hosts))
		e := Entry{
			FieldRealtime:  itoa(realtime),
			FieldMonotonic: itoa(monotonic),
			FieldBootID:    []byte(bootIDs[boot]),
			"_MACHINE_ID":  []byte(machines[h]),
			"_HOSTNAME":    []byte(hosts[h]),
		}

		priority, facility := rng.IntN(8), rng.IntN(24)
		if i < 24 {
			priority, facility = i%8, i
		}
		transport := transports[rng.IntN(len(transports))]
		if i < 24 && transport == "kernel" {
			transport = "journal"
		}
		e["PRIORITY"] = itoa(priority)
		e["_TRANSPORT"] = []byte(transport)

		if transport == "kernel" {
			e["SYSLOG_FACILITY"] = itoa(0)
			e["SYSLOG_IDENTIFIER"] = []byte("kernel")
			e["_SOURCE_MONOTONIC_TIMESTAMP"] = itoa(monotonic - 50)
		} else {
			u := units[rng.IntN(len(units))]
			pid := 100 + rng.IntN(40000)
			e["SYSLOG_FACILITY"] = itoa(facility)
			e["SYSLOG_IDENTIFIER"] = []byte(u.ident)
			e["_SYSTEMD_UNIT"] = []byte(u.name)
			e["_PID"] = itoa(pid)
			e["_UID"] = itoa(u.uid)
			e["_GID"] = itoa(u.gid)
			e["_COMM"] = []byte(u.comm)
			e["_EXE"] = []byte(u.exe)
			e["_CMDLINE"] = []byte(u.cmdline)
			e["_CAP_EFFECTIVE"] = []byte("1ffffffffff")
			slice := "system.slice"
			if strings.HasPrefix(u.name, "session-") || strings.HasPrefix(u.name, "user@") {
				slice = "user-1000.slice"
			}
			e["_SYSTEMD_SLICE"] = []byte(slice)
			e["_SYSTEMD_CGROUP"] = []byte("/" + slice + "/" + u.name)
			e["_SYSTEMD_INVOCATION_ID"] = []byte(id128(rng))
			if transport == "syslog" || rng.IntN(4) == 0 {
				e["SYSLOG_PID"] = itoa(pid)
			}
			if transport == "journal" || transport == "syslog" {
				e["_SOURCE_REALTIME_TIMESTAMP"] = itoa(realtime - rng.Uint64N(500))
			}
			if transport == "journal" && rng.IntN(3) == 0 {
				e["CODE_FILE"] = []byte("src/" + u.comm + "/main.c")
				e["CODE_LINE"] = itoa(1 + rng.IntN(3000))
				e["CODE_FUNC"] = []byte("handle_request")
			}
		}
		if rng.IntN(10) == 0 {
			e["MESSAGE_ID"] = []byte(id128(rng))
		}
		if priority <= 3 && rng.IntN(2) == 0 {
			e["ERRNO"] = itoa(1 + rng.IntN(130))
		}
		if rng.IntN(8) == 0 {
			e["REQUEST_ID"] = []byte(fmt.Sprintf("req-%08x", rng.Uint32()))
			e["USER_NAME"] = []byte("jürgen")
		}
		if i == 5 || rng.IntN(200) == 0 {
			e["PAYLOAD"] = binaryValue(rng)
		}

		kind := messageKind(i, rng)
		e["MESSAGE"] = message(kind, i, rng)
		es[i] = e
	}
	return es
}

// startTime returns the timestamp before the first entry's, so that the last
// one lands at the current time at the latest: systemd-journal-remote refuses
// to append to a file whose last entry is later than now (see WriteJournal).
// Entries also come after the previous call's; when the time since then is
// shorter than the steps add up to, the steps are scaled down (to 1 µs at
// least) and, if still needed, it waits.
func startTime(steps []uint64, span uint64) uint64 {
	clock.Lock()
	defer clock.Unlock()
	n := uint64(len(steps))
	for {
		now := uint64(time.Now().UnixMicro())
		avail := now - clock.last
		if clock.last == 0 || span <= avail {
			break
		}
		if n < avail {
			// Scale the part of each step above 1 µs.
			var scaled uint64
			for i := range steps {
				steps[i] = 1 + (steps[i]-1)*(avail-n)/(span-n)
				scaled += steps[i]
			}
			span = scaled
			continue
		}
		time.Sleep(time.Duration(n-avail+1) * time.Microsecond)
	}
	start := uint64(time.Now().UnixMicro()) - span
	clock.last = start + span
	return start
}

// messageKind picks the message kind: each kind once among the first
// entries, then a realistic mix.
func messageKind(i int, rng *rand.Rand) int {
	switch i {
	case 0:
		return kindText
	case 1:
		return kindBinary
	case 2:
		return kindMultiline
	case 3:
		return kindLarge
	case 4:
		return kindUTF8
	case 6:
		return kindEmpty
	}
	switch r := rng.IntN(1000); {
	case r < 3:
		return kindLarge
	case r < 5:
		return kindEmpty
	case r < 35:
		return kindBinary
	case r < 85:
		return kindMultiline
	case r < 235:
		return kindUTF8
	}
	return kindText
}

func message(kind, i int, rng *rand.Rand) []byte {
	switch kind {
	case kindUTF8:
		return []byte(utf8Messages[rng.IntN(len(utf8Messages))])
	case kindBinary:
		return binaryValue(rng)
	case kindMultiline:
		return []byte(strings.Join(traceback[:2+rng.IntN(len(traceback)-1)], "\n"))
	case kindLarge:
		return largeMessage(i)
	case kindEmpty:
		return []byte{}
	}
	return []byte(textMessages[rng.IntN(len(textMessages))])
}

// binaryValue: text around invalid UTF-8, a NUL and control bytes.
func binaryValue(rng *rand.Rand) []byte {
	b := []byte("bin\x00ary \xff\xfe\x01\x7f payload \xc3\x28 end")
	for range rng.IntN(16) {
		b = append(b, byte(rng.UintN(256)))
	}
	return b
}

// largeMessage is LargeMessageSize bytes of numbered chunks of text with
// multi-byte UTF-8 characters, on one line.
func largeMessage(i int) []byte {
	var b strings.Builder
	b.Grow(LargeMessageSize + 64)
	for n := 0; b.Len() <= LargeMessageSize; n++ {
		fmt.Fprintf(&b, "entry %d chunk %05d: Größe ✓ lorem ipsum dolor sit amet; ", i, n)
	}
	s := b.String()
	// Cut to exactly LargeMessageSize bytes on a rune boundary, padding with
	// ASCII.
	cut := LargeMessageSize
	for cut > 0 && s[cut]&0xc0 == 0x80 {
		cut--
	}
	return []byte(s[:cut] + strings.Repeat(".", LargeMessageSize-cut))
}

func id128(rng *rand.Rand) string {
	return fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
}

func itoa[T int | uint64](v T) []byte {
	return strconv.AppendUint(nil, uint64(v), 10)
}
