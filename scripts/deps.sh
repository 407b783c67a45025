#!/usr/bin/env bash
# deps.sh (make deps): install what building and testing need, only where it
# is missing, so a second run is quiet and quick. Runs as root on Debian.
#
#   Debian packages  rsyslog (the real rsyslogd the tests and make run start),
#                    tinyproxy (proxy tests), gcc (cgo), journalctl (systemd,
#                    which brings libsystemd0, the library journal_messages
#                    loads at run time; building needs no systemd headers),
#                    systemd-journal-remote (the journal tests write real
#                    journal files with it and read them back with
#                    journalctl), and for make package and its test: rpm
#                    (rpm -qlp), systemd (systemd-analyze verify), the other
#                    architecture's C cross compiler (gcc-aarch64-linux-gnu
#                    on amd64) - apt-get update runs once, and only when
#                    something has to be installed
#   syslog-ng        unpacked under build/tools/syslog-ng, not installed
#                    (Debian's syslog-ng conflicts with rsyslog); see
#                    scripts/fetch-syslog-ng.sh
#   Go modules       go mod download
#   npm              the Kinesis emulator under test/ (npm ci), once it exists
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}

have() { command -v "$1" >/dev/null 2>&1 || [[ -x /usr/sbin/$1 || -x /sbin/$1 ]]; }

# --- Debian packages --------------------------------------------------------
# command name -> package
declare -A packages=(
	[rsyslogd]=rsyslog
	[tinyproxy]=tinyproxy
	[gcc]=gcc
	[logger]=bsdutils
	[journalctl]=systemd
	[rpm]=rpm
	[systemd-analyze]=systemd
)
# make package builds amd64 and arm64: cgo needs the other one's C compiler.
case $(uname -m) in
x86_64) packages[aarch64-linux-gnu-gcc]=gcc-aarch64-linux-gnu ;;
aarch64) packages[x86_64-linux-gnu-gcc]=gcc-x86-64-linux-gnu ;;
esac
missing=()
for cmd in "${!packages[@]}"; do
	have "$cmd" || missing+=("${packages[$cmd]}")
done
# systemd-journal-remote is not on PATH. It is built from systemd's source
# and requires exactly the installed systemd's version: it is pinned to that
# below, so that make deps never upgrades the host's systemd as a side effect.
if [[ ! -x /lib/systemd/systemd-journal-remote && ! -x /usr/lib/systemd/systemd-journal-remote ]]; then
	missing+=(systemd-journal-remote)
fi
# npm for the emulator, once test/ has a lock file.
mapfile -t npm_locks < <(find test -name package-lock.json -not -path '*/node_modules/*' 2>/dev/null | sort)
if ((${#npm_locks[@]})); then
	have npm || missing+=(npm)
fi
if ((${#missing[@]})); then
	if [[ $(id -u) != 0 ]]; then
		echo "deps: missing ${missing[*]}; run make deps as root (or install them)" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Pin systemd-journal-remote to the installed systemd when the archive
	# still has that version; otherwise take the candidate.
	sdver=$(dpkg-query -W -f='${Version}' systemd 2>/dev/null || true)
	for i in "${!missing[@]}"; do
		if [[ ${missing[$i]} == systemd-journal-remote && -n $sdver ]] &&
			apt-cache madison systemd-journal-remote | awk -F' [|] ' '{print $2}' | grep -qxF "$sdver"; then
			missing[$i]="systemd-journal-remote=$sdver"
		fi
	done
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian package enables rsyslog as the system logger; the tests start
# private instances and do not need it running.

# --- syslog-ng, unpacked ------------------------------------------------------
if ! command -v syslog-ng >/dev/null 2>&1; then
	scripts/fetch-syslog-ng.sh build/tools/syslog-ng
fi

# --- Go modules ---------------------------------------------------------------
"$GO" mod download

# --- npm: the Kinesis emulator ------------------------------------------------
# The emulator's package.json and package-lock.json will live in a folder under
# test/; install exactly the locked versions wherever there is a lock file and
# node_modules is missing or older than it.
for lock in "${npm_locks[@]}"; do
	dir=$(dirname "$lock")
	if [[ ! -d $dir/node_modules || $lock -nt $dir/node_modules ]]; then
		echo "deps: npm ci in $dir"
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
		touch "$dir/node_modules"
	fi
done
