#!/usr/bin/env bash
# run.sh (make run): the whole pipeline on this machine, in ./var, without
# touching the system's syslog:
#
#   logger -u var/log.sock ─▶ private rsyslogd (imuxsock; rsyslog/osquery-syslog.conf
#   with the pipe path replaced) ─ompipe─▶ var/syslog_pipe ─▶ osquery-syslog.ext daemon
#   ─▶ var/osquery-syslog.db ◀─ osquery-syslog.ext query "SELECT ... FROM syslog_messages"
#
# It sends a few sample messages, shows them, prints how to send and query
# more, and runs until Ctrl-C, which stops rsyslogd and the daemon.
# Needs rsyslogd (make deps installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
var=$root/var
bin=build/osquery-syslog.ext
PATH=$PATH:/usr/sbin:/sbin

say() { printf '\n== %s\n' "$*"; }
die() {
	echo "run: $*" >&2
	exit 1
}

command -v rsyslogd >/dev/null || die "rsyslogd not found; run make deps first"
command -v logger >/dev/null || die "logger not found; run make deps first"

say "building $bin"
make --no-print-directory build

mkdir -p "$var/rsyslog-work"
if [[ -f $var/rsyslog.pid ]] && kill -0 "$(cat "$var/rsyslog.pid")" 2>/dev/null; then
	die "an earlier make run is still running (rsyslogd pid $(cat "$var/rsyslog.pid")); stop it first"
fi
rm -f "$var/log.sock" "$var/rsyslog.pid"

daemon_pid='' rsyslog_pid=''
# shellcheck disable=SC2317 # called through the trap
cleanup() {
	trap - INT TERM EXIT
	echo
	echo "run: stopping"
	# Stop the writer first, then the reader, so nothing is left in flight.
	if [[ -n $rsyslog_pid ]] && kill -0 "$rsyslog_pid" 2>/dev/null; then
		kill -TERM "$rsyslog_pid" 2>/dev/null || true
		wait "$rsyslog_pid" 2>/dev/null || true
	fi
	if [[ -n $daemon_pid ]] && kill -0 "$daemon_pid" 2>/dev/null; then
		kill -TERM "$daemon_pid" 2>/dev/null || true
		wait "$daemon_pid" 2>/dev/null || true
	fi
	rm -f "$var/log.sock" "$var/rsyslog.pid"
	echo "run: stopped; the buffer stays in var/osquery-syslog.db (make clean removes var/)"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the daemon: creates var/syslog_pipe and buffers what it reads -------------
say "starting the daemon (log: var/daemon.log)"
"$bin" daemon --database_path var/osquery-syslog.db --syslog_pipe_path var/syslog_pipe \
	>"$var/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do
	[[ -p $var/syslog_pipe ]] && break
	kill -0 "$daemon_pid" 2>/dev/null || { cat "$var/daemon.log" >&2; die "the daemon exited"; }
	sleep 0.1
done
[[ -p $var/syslog_pipe ]] || { cat "$var/daemon.log" >&2; die "the daemon did not create var/syslog_pipe"; }

# --- a private rsyslogd: its own socket in, the shipped ompipe config out ------
cat >"$var/rsyslog.conf" <<EOF
# Written by scripts/run.sh: a private rsyslogd for make run.
global(workDirectory="$var/rsyslog-work" maxMessageSize="256k")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$var/log.sock" RateLimit.Interval="0")

EOF
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

# --- sample messages -------------------------------------------------------------
say "sending sample messages to var/log.sock"
send() { logger -u "$var/log.sock" "$@"; }
send -t sshd --id=2201 -p auth.info "Accepted publickey for alice from 203.0.113.7 port 52814 ssh2: ED25519 SHA256:Zm9vYmFyYmF6cXV4"
send -t sshd --id=2207 -p auth.info "Failed password for invalid user admin from 198.51.100.23 port 40022 ssh2"
send -t sudo -p authpriv.notice "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx"
# Sent as kern.warning; rsyslog files kernel-facility messages that arrive on
# a local socket under "user" (real kernel messages come in through imklog).
send -t kernel -p kern.warning "[86400.123456] usb 1-1: new high-speed USB device number 3 using xhci_hcd"
send -t CRON --id=16538 -p cron.info "(root) CMD (   cd / && run-parts --report /etc/cron.hourly)"
send -t deploy -p user.err 'config "app.yml", line 3: unknown key "colour"'

# --- show them ---------------------------------------------------------------------
sql="SELECT datetime, host, severity, facility, tag, message FROM syslog_messages"
query() { "$bin" query --database_path var/osquery-syslog.db "$@"; }
say "$bin query --database_path var/osquery-syslog.db \"$sql\""
shown=
for _ in $(seq 20); do
	if out=$(query "$sql" 2>&1) && grep -q "Accepted publickey" <<<"$out" && grep -q "run-parts" <<<"$out"; then
		echo "$out"
		shown=1
		break
	fi
	sleep 0.5
done
if [[ -z $shown ]]; then
	echo "run: the sample rows did not show up within 10 s; last answer:" >&2
	echo "$out" >&2
	echo "run: see var/daemon.log and var/rsyslog.log" >&2
fi

cat <<EOF

== running: rsyslogd (pid $rsyslog_pid) -> var/syslog_pipe -> daemon (pid $daemon_pid) -> var/osquery-syslog.db

Send more, from another terminal in $(basename "$root")/:
  logger -u var/log.sock -t myapp -p user.warning "something happened"
  logger -u var/log.sock -t sshd --id=4242 -p auth.info "Failed password for root from 192.0.2.1 port 22 ssh2"

Query them:
  $bin query --database_path var/osquery-syslog.db "SELECT datetime, severity, facility, tag, message FROM syslog_messages ORDER BY eid DESC LIMIT 10"
  $bin query --database_path var/osquery-syslog.db --json "SELECT * FROM syslog_messages WHERE facility = 'auth'"
  $bin query --database_path var/osquery-syslog.db "SELECT * FROM osquery_syslog_stats"

Logs: var/daemon.log, var/rsyslog.log. Press Ctrl-C to stop.
EOF

# Wait for Ctrl-C, or for either process to exit on its own.
while kill -0 "$daemon_pid" 2>/dev/null && kill -0 "$rsyslog_pid" 2>/dev/null; do
	sleep 1 &
	wait $! || true
done
if ! kill -0 "$daemon_pid" 2>/dev/null; then
	echo "run: the daemon exited; its log:" >&2
	tail -n 20 "$var/daemon.log" >&2
	exit 1
fi
echo "run: rsyslogd exited; its log:" >&2
tail -n 20 "$var/rsyslog.log" >&2
exit 1
