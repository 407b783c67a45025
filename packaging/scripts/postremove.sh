#!/bin/sh
# osquery-syslog post-removal: deb postrm ("remove", "purge", "upgrade", ...)
# and rpm %postun (0 = erase, 1 = upgrade). Removal keeps the event buffers
# and the shipping queues; only a deb purge deletes them (rpm has no purge:
# see /usr/share/osquery-syslog/README.md).
set -e

ext=/usr/local/lib/osquery-syslog/osquery-syslog.ext
autoload=/etc/osquery/extensions.load
state=/var/lib/osquery-syslog

case "$1" in
remove | 0)
	# Take out the autoload line we added (and only that line), rewriting
	# the file in place so that its owner, mode and inode stay.
	if [ -e "$state/autoload-added" ] && [ -f "$autoload" ]; then
		tmp=$(mktemp)
		grep -vxF "$ext" "$autoload" >"$tmp" || true
		cat "$tmp" >"$autoload"
		rm -f "$tmp" "$state/autoload-added"
		# Left empty: it was only ours (rmdir fails where osquery has files).
		if [ ! -s "$autoload" ]; then
			rm -f "$autoload"
			rmdir "${autoload%/*}" 2>/dev/null || true
		fi
	fi
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload || true
	fi
	;;
purge)
	rm -rf "$state" /var/log/osquery-syslog
	# The extension's own files in osqueryd's folder (not the pipe, which
	# osquery's syslog_events shares, nor the folder itself).
	rm -f /var/osquery/osquery-syslog.db /var/osquery/osquery-syslog.db-wal /var/osquery/osquery-syslog.db-shm \
		/var/osquery/osquery-syslog-queue.db /var/osquery/osquery-syslog-queue.db-wal /var/osquery/osquery-syslog-queue.db-shm
	;;
esac
exit 0
