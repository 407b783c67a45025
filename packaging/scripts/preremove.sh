#!/bin/sh
# osquery-syslog pre-removal: deb prerm ("remove", "upgrade" NEW-VERSION, ...)
# and rpm %preun (0 = erase, 1 = upgrade). Only a removal stops the daemon.
set -e

case "$1" in
remove | 0) ;;
*) exit 0 ;;
esac

if [ -d /run/systemd/system ]; then
	systemctl disable --now osquery-syslog.service >/dev/null 2>&1 || true
fi
exit 0
