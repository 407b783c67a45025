#!/usr/bin/env bash
# run.sh (make run): the whole mission on this machine, in ./var, without
# touching the system's syslog or AWS:
#
#   logger -u var/log.sock ─▶ private rsyslogd (imuxsock; rsyslog/osquery-syslog.conf
#   with the pipe path replaced) ─ompipe─▶ var/syslog_pipe ─▶ osquery-syslog.ext daemon
#   --config_path examples/local-kinesis.conf (packs/syslog-security.conf on a schedule)
#   ─kinesis logger─▶ kinesis-mock (local Kinesis, stream osquery-syslog-results)
#   ─▶ tools/kinesis-tail prints every record read back from the stream
#
# It sends realistic sample traffic (sudo, su, ssh, new users, kernel errors,
# a segfault, a crashing service, a log flood), then a little more every 20 s,
# and runs until Ctrl-C. The pack's queries run every 60 s (at the full
# minute), so the first results arrive within about a minute.
#
# The daemon also reads this machine's systemd journal (since boot) into
# journal_messages; run.sh prints its newest entries with the query
# subcommand, or says why there are none (no libsystemd, no journal files).
# Needs rsyslogd, node and the emulator's npm packages (make deps).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
var=$root/var
bin=build/osquery-syslog.ext
tailbin=build/kinesis-tail
conf=examples/local-kinesis.conf
stream=osquery-syslog-results
mockdir=test/kinesismock
PATH=$PATH:/usr/sbin:/sbin

say() { printf '\n== %s\n' "$*"; }
die() {
	echo "run: $*" >&2
	exit 1
}

command -v rsyslogd >/dev/null || die "rsyslogd not found; run make deps first"
command -v logger >/dev/null || die "logger not found; run make deps first"
command -v node >/dev/null || die "node not found; run make deps first"
if [[ ! -f $mockdir/node_modules/kinesis-local/main.js ]]; then
	(cd "$mockdir" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in $mockdir failed"
fi

say "building $bin and $tailbin"
make --no-print-directory build
go build -o "$tailbin" ./tools/kinesis-tail

mkdir -p "$var/rsyslog-work" "$var/log"
if [[ -f $var/rsyslog.pid ]] && kill -0 "$(cat "$var/rsyslog.pid")" 2>/dev/null; then
	die "an earlier make run is still running (rsyslogd pid $(cat "$var/rsyslog.pid")); stop it first"
fi
rm -f "$var/log.sock" "$var/rsyslog.pid"

daemon_pid='' rsyslog_pid='' mock_pid='' tail_pid='' traffic_pid=''
# shellcheck disable=SC2317 # called through the trap
cleanup() {
	trap - INT TERM EXIT
	echo
	echo "run: stopping"
	# Stop the writers first, then the reader, so nothing is left in flight.
	for pid in "$traffic_pid" "$rsyslog_pid" "$daemon_pid" "$tail_pid" "$mock_pid"; do
		if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			# kinesis-mock takes seconds to honour SIGTERM and keeps nothing.
			[[ $pid == "$mock_pid" ]] && { sleep 1; kill -KILL "$pid" 2>/dev/null || true; }
			wait "$pid" 2>/dev/null || true
		fi
	done
	rm -f "$var/log.sock" "$var/rsyslog.pid"
	echo "run: stopped; state stays in var/ (make clean removes it)"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- kinesis-mock: a local Kinesis with the stream the example config names ---
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=4567
while ! port_free "$port" || ! port_free $((port + 1)); do
	port=$((port + 2))
	((port < 4700)) || die "no free port for kinesis-mock between 4567 and 4700"
done
endpoint=http://127.0.0.1:$port
say "starting kinesis-mock on $endpoint, stream $stream (log: var/kinesis-mock.log)"
(
	cd "$mockdir/node_modules/kinesis-local"
	exec env KINESIS_MOCK_PLAIN_PORT="$port" KINESIS_MOCK_TLS_PORT=$((port + 1)) \
		INITIALIZE_STREAMS="$stream:1" AWS_REGION=us-east-1 SHOULD_PERSIST_DATA=false \
		LOAD_DATA_IF_EXISTS=false CREATE_STREAM_DURATION=100ms LOG_LEVEL=WARN node main.js
) >"$var/kinesis-mock.log" 2>&1 &
mock_pid=$!

# --- the reader: every record that reaches the stream, as it arrives ----------
export AWS_ACCESS_KEY_ID=AKIDLOCALKINESIS AWS_SECRET_ACCESS_KEY=local-kinesis-mock-secret AWS_REGION=us-east-1
"$tailbin" --stream "$stream" --endpoint "$endpoint" --wait 120s --prefix 'kinesis> ' &
tail_pid=$!

# --- the daemon: the example config, its kinesis logger pointed at the mock ---
say "starting: $bin daemon --config_path $conf --aws_kinesis_endpoint $endpoint (log: var/daemon.log)"
"$bin" daemon --config_path "$conf" --aws_kinesis_endpoint "$endpoint" >"$var/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do
	[[ -p $var/syslog_pipe ]] && break
	kill -0 "$daemon_pid" 2>/dev/null || { cat "$var/daemon.log" >&2; die "the daemon exited"; }
	sleep 0.1
done
[[ -p $var/syslog_pipe ]] || { cat "$var/daemon.log" >&2; die "the daemon did not create var/syslog_pipe"; }

# --- a private rsyslogd: its own socket in, the shipped ompipe config out ------
cat >"$var/rsyslog.conf" <<EOC
# Written by scripts/run.sh: a private rsyslogd for make run.
global(workDirectory="$var/rsyslog-work" maxMessageSize="256k")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$var/log.sock" RateLimit.Interval="0")

EOC
sed "s#/var/osquery/syslog_pipe#$var/syslog_pipe#" rsyslog/osquery-syslog.conf >>"$var/rsyslog.conf"
say "starting rsyslogd -n -f var/rsyslog.conf (log: var/rsyslog.log)"
rsyslogd -n -f "$var/rsyslog.conf" -i "$var/rsyslog.pid" >"$var/rsyslog.log" 2>&1 &
rsyslog_pid=$!
for _ in $(seq 100); do
	[[ -S $var/log.sock ]] && break
	kill -0 "$rsyslog_pid" 2>/dev/null || { cat "$var/rsyslog.log" >&2; die "rsyslogd exited"; }
	sleep 0.1
done
[[ -S $var/log.sock ]] || { cat "$var/rsyslog.log" >&2; die "rsyslogd did not create var/log.sock"; }

# --- sample traffic ------------------------------------------------------------
send() { logger -u "$var/log.sock" "$@"; }
samples() {
	local n=$1
	send -t sshd --id=$((2200 + n)) -p auth.info "Accepted publickey for alice from 203.0.113.7 port $((52000 + n)) ssh2: ED25519 SHA256:Zm9vYmFyYmF6cXV4"
	send -t sshd --id=$((2300 + n)) -p auth.info "Failed password for invalid user admin from 198.51.100.23 port $((40000 + n)) ssh2"
	send -t sshd --id=$((2300 + n)) -p auth.info "Invalid user admin from 198.51.100.23 port $((40000 + n))"
	send -t sudo -p authpriv.notice "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx"
	send -t sudo -p authpriv.alert "  mallory : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/mallory ; USER=root ; COMMAND=/bin/bash"
	send -t su --id=$((4100 + n)) -p auth.notice "(to root) alice on pts/0"
	send -t su --id=$((4200 + n)) -p auth.warning "FAILED SU (to root) mallory on pts/1"
	send -t useradd --id=$((5100 + n)) -p authpriv.info "new group: name=backup$n, GID=$((1100 + n))"
	send -t useradd --id=$((5100 + n)) -p authpriv.info "new user: name=backup$n, UID=$((1100 + n)), GID=$((1100 + n)), home=/home/backup$n, shell=/bin/bash, from=/dev/pts/0"
	# Sent as kern.*; rsyslog files kernel-facility messages that arrive on a
	# local socket under "user" (real ones come in through imklog); the
	# pack matches the kernel tag too.
	send -t kernel -p kern.err "[$((86400 + n)).123456] blk_update_request: I/O error, dev sda, sector $((123456 + n)) op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0"
	send -t kernel -p kern.info "[$((86400 + n)).500000] nginx[$((4242 + n))]: segfault at 0 ip 00007f3a2b1c4d5e sp 00007ffd1e2f3a40 error 4 in libc.so.6[7f3a2b000000+195000]"
	send -t systemd --id=1 -p daemon.notice "nginx.service: Main process exited, code=killed, status=11/SEGV"
	send -t systemd --id=1 -p daemon.err "nginx.service: Failed with result 'signal'."
	send -t systemd-coredump --id=$((4250 + n)) -p daemon.crit "Process $((4242 + n)) (nginx) of user 33 dumped core."
	send -t CRON --id=$((16538 + n)) -p cron.info "(root) CMD (   cd / && run-parts --report /etc/cron.hourly)"
}
flood() {
	for i in $(seq 120); do
		send -t chatty --id=77 -p user.warning "retrying connection to 10.0.0.5:5432 (attempt $i)"
	done
}
say "sending sample syslog traffic to var/log.sock (and a little more every 20 s)"
samples 0
flood
(
	n=1
	while sleep 20; do
		samples "$n"
		((n % 3)) || flood
		n=$((n + 1))
	done
) &
traffic_pid=$!

# --- journald: this machine's journal in journal_messages ----------------------
# The daemon reads the system journal (/var/log/journal, else
# /run/log/journal) from the current boot on, through libsystemd.so.0.
journal_why=''
if ! ldconfig -p 2>/dev/null | grep -q 'libsystemd\.so\.0 '; then
	journal_why="this machine has no libsystemd.so.0, which the journal reader loads at run time"
elif [[ -z $(find /var/log/journal /run/log/journal -name '*.journal' -print -quit 2>/dev/null) ]]; then
	journal_why="this machine has no journal files in /var/log/journal or /run/log/journal (journald is not running here)"
fi
dbq() { "$bin" query --database_path var/osquery-syslog.db "$@" 2>/dev/null; }
if [[ -z $journal_why ]]; then
	say "journal_messages: the newest entries of this machine's journal (the daemon reads it from this boot on)"
	for _ in $(seq 50); do
		n=$(dbq --json "SELECT count(*) AS n FROM journal_messages" | grep -o '[0-9]\+' | head -1 || true)
		[[ ${n:-0} -gt 0 ]] && break
		sleep 0.2
	done
	if [[ ${n:-0} -gt 0 ]]; then
		dbq "SELECT datetime(event_time, 'unixepoch') AS event_time, tag, systemd_unit, substr(replace(message, char(10), ' '), 1, 70) AS message FROM journal_messages ORDER BY eid DESC LIMIT 8" || true
	else
		echo "no journal entries read yet; the journal row of osquery_syslog_stats says:"
		dbq "SELECT state, lines_read, last_error FROM osquery_syslog_stats WHERE source = 'journal'" || true
	fi
else
	say "journal_messages stays empty: $journal_why"
fi

cat <<EOF

== running: rsyslogd (pid $rsyslog_pid) -> var/syslog_pipe -> daemon (pid $daemon_pid)
   -> kinesis-mock $endpoint stream $stream (pid $mock_pid) -> kinesis-tail (below)

The pack's queries run every 60 s, at the full minute: records read back from
the stream appear below as "kinesis> {...}" (results also go to var/log/osqueryd.results.log).

Send more, from another terminal in $(basename "$root")/:
  logger -u var/log.sock -t sshd --id=4242 -p auth.info "Failed password for root from 192.0.2.1 port 22 ssh2"
Query the buffer:
  $bin query --database_path var/osquery-syslog.db "SELECT datetime, tag, message FROM syslog_messages ORDER BY eid DESC LIMIT 10"
  $bin query --database_path var/osquery-syslog.db "SELECT event_time, tag, systemd_unit, message FROM journal_messages ORDER BY eid DESC LIMIT 10"
Logs: var/daemon.log, var/rsyslog.log, var/kinesis-mock.log, var/log/osqueryd.INFO. Press Ctrl-C to stop.
EOF

# Wait for Ctrl-C, or for a process to exit on its own.
while kill -0 "$daemon_pid" 2>/dev/null && kill -0 "$rsyslog_pid" 2>/dev/null && kill -0 "$mock_pid" 2>/dev/null; do
	sleep 1 &
	wait $! || true
done
for p in daemon:"$daemon_pid":var/daemon.log rsyslogd:"$rsyslog_pid":var/rsyslog.log kinesis-mock:"$mock_pid":var/kinesis-mock.log; do
	IFS=: read -r name pid log <<<"$p"
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "run: $name exited; its log:" >&2
		tail -n 20 "$log" >&2
	fi
done
exit 1
