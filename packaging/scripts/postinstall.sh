#!/bin/sh
# osquery-syslog post-install: deb postinst ("configure" OLD-VERSION) and
# rpm %post (1 = install, 2 = upgrade). Never rewrites an admin's file: the
# autoload line is only appended, and only when no line names the binary.
set -e

ext=/usr/local/lib/osquery-syslog/osquery-syslog.ext
autoload=/etc/osquery/extensions.load
state=/var/lib/osquery-syslog

case "$1" in
configure | 1 | 2) ;;
*) exit 0 ;;
esac

# The daemon unit's buffer and queue live here (systemd also creates it, as
# StateDirectory); upgrades and removal keep it, purge deletes it.
[ -d "$state" ] || mkdir -m 0750 "$state"
# osqueryd's folder: the extension's default pipe, buffer and queue, and the
# pipe of the daemon unit (which may write only there and in $state). Made
# as the binary makes it: 0750, group syslog where that group exists (the
# group an unprivileged rsyslog writes the pipe as).
# The pipe too, so that rsyslog finds it whenever it (re)starts: rsyslog
# checks for the pipe only when it starts, and Debian's rsyslog restarts
# itself when /etc/rsyslog.d changes, right after this script.
syslog_group=
if getent group syslog >/dev/null 2>&1; then syslog_group=syslog; fi
if [ ! -d /var/osquery ]; then
	mkdir -m 0750 /var/osquery
	if [ -n "$syslog_group" ]; then chgrp "$syslog_group" /var/osquery; fi
fi
if [ ! -e /var/osquery/syslog_pipe ]; then
	mkfifo -m 0460 /var/osquery/syslog_pipe
	if [ -n "$syslog_group" ]; then chgrp "$syslog_group" /var/osquery/syslog_pipe; fi
fi

# Autoload by osqueryd. Any line naming the binary counts, a commented-out
# one too: that is how an admin opts out, and we leave it alone.
if ! grep -qF "$ext" "$autoload" 2>/dev/null; then
	[ -d "${autoload%/*}" ] || mkdir -p -m 0755 "${autoload%/*}"
	if [ -s "$autoload" ] && [ -n "$(tail -c 1 "$autoload")" ]; then
		echo >>"$autoload"
	fi
	echo "$ext" >>"$autoload"
	# Removal takes the line out again only if we added it.
	: >"$state/autoload-added"
	echo "osquery-syslog: added $ext to $autoload; restart osqueryd to load it"
fi

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
	# An upgrade restarts the daemon only if it runs; it is never enabled here.
	systemctl try-restart osquery-syslog.service || true
fi
exit 0
