#!/usr/bin/env bash
# fetch-syslog-ng.sh DEST: unpack Debian's syslog-ng into DEST, without
# installing it, so that the tests in rsyslog/ can check rsyslog/syslog-ng.conf
# with a real syslog-ng. (Debian's syslog-ng package conflicts with rsyslog,
# which the rest of the tests need installed.)
#
# It downloads syslog-ng-core and those of its library dependencies that are
# not installed, unpacks them under DEST/root and writes DEST/syslog-ng, a
# wrapper that runs the unpacked binary with its own libraries and modules.
# Nothing outside DEST changes. Quiet and quick when DEST is already complete.
set -euo pipefail

dest=${1:?usage: fetch-syslog-ng.sh DEST}
wrapper=$dest/syslog-ng

if [[ -x $wrapper ]] && "$wrapper" --version >/dev/null 2>&1; then
	exit 0
fi

echo "fetch-syslog-ng: unpacking Debian's syslog-ng into $dest (not installed system-wide)"
rm -rf "$dest"
mkdir -p "$dest/root"
dest=$(cd "$dest" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# apt-get download drops privileges to _apt, which must be able to write here.
chmod 0755 "$work"
if id _apt >/dev/null 2>&1; then chown _apt "$work"; fi

download() {
	# Success is judged by the files below; apt's messages are only shown.
	{ (cd "$work" && apt-get download -qq "$@") 2>&1 || true; } | { grep -v '^W: Download is performed unsandboxed' || true; }
	local p
	for p in "$@"; do
		if ! compgen -G "$work/${p}_*.deb" >/dev/null; then
			return 1
		fi
	done
}

if ! download syslog-ng-core; then
	# A machine that never ran apt-get update has no package lists yet.
	apt-get update -qq
	download syslog-ng-core || { echo "fetch-syslog-ng: cannot download syslog-ng-core" >&2; exit 1; }
fi

# Direct library dependencies that this machine lacks ("libfoo (>= 1) | libbar"
# -> libfoo). The libraries they need in turn are part of a Debian base system.
missing=()
deps=$(dpkg-deb -f "$work"/syslog-ng-core_*.deb Depends)
IFS=',' read -ra items <<<"$deps"
for item in "${items[@]}"; do
	pkg=$(sed -E 's/^[[:space:]]*//; s/[[:space:]|(].*$//' <<<"$item")
	[[ $pkg == lib* ]] || continue
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$pkg")
	fi
done
if ((${#missing[@]})); then
	download "${missing[@]}" || { echo "fetch-syslog-ng: cannot download ${missing[*]}" >&2; exit 1; }
fi

for deb in "$work"/*.deb; do
	dpkg-deb -x "$deb" "$dest/root"
done

multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
moddir=$(find "$dest/root/usr/lib/syslog-ng" -mindepth 1 -maxdepth 1 -type d -name '[0-9]*' | sort | tail -n1)
[[ -n $moddir ]] || { echo "fetch-syslog-ng: no module directory in the package" >&2; exit 1; }

cat >"$wrapper" <<WRAPPER
#!/bin/sh
# Written by scripts/fetch-syslog-ng.sh: runs the unpacked syslog-ng with its
# own libraries and modules.
here=\$(cd "\$(dirname "\$0")" && pwd)
r=\$here/root
LD_LIBRARY_PATH=\$r/usr/lib/syslog-ng:\$r/usr/lib/$multiarch:\$r/lib/$multiarch\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
exec "\$r/usr/sbin/syslog-ng" --module-path="\$r/usr/lib/syslog-ng/$(basename "$moddir")" "\$@"
WRAPPER
chmod 0755 "$wrapper"

# Every module must load: a missing library shows up here, not in a test.
unresolved=$(
	LD_LIBRARY_PATH=$dest/root/usr/lib/syslog-ng:$dest/root/usr/lib/$multiarch:$dest/root/lib/$multiarch \
		ldd "$dest/root/usr/sbin/syslog-ng" "$moddir"/*.so 2>/dev/null | grep 'not found' | sort -u || true
)
if [[ -n $unresolved ]]; then
	echo "fetch-syslog-ng: unresolved libraries:" >&2
	echo "$unresolved" >&2
	exit 1
fi
"$wrapper" --version | head -n1
