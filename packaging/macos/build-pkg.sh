#!/usr/bin/env bash
# build-pkg.sh (make package-macos): the macOS installer package, built on a
# Mac with Xcode's Command Line Tools (clang and the macOS SDK for cgo,
# pkgbuild). Installs what the .deb installs, in macOS's places:
#   /usr/local/lib/osquery-syslog/osquery-syslog.ext     root:wheel 0755
#   /Library/LaunchDaemons/com.osquery-syslog.daemon.plist  root:wheel 0644
#   /usr/local/share/osquery-syslog/                      example configs, packs
# and runs postinstall (autoload line in /var/osquery/extensions.load).
# Unsigned; sign with productsign --sign "Developer ID Installer: ..." to
# distribute.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ $(uname -s) != Darwin ]] || ! command -v pkgbuild >/dev/null 2>&1; then
	echo "package-macos: needs macOS with pkgbuild (Xcode Command Line Tools); nothing built" >&2
	exit 1
fi
GO=${GO:-go}
TAGS=${TAGS:-sqlite_vtable}
VERSION=${VERSION:-$(scripts/version.sh)}
LDFLAGS=${LDFLAGS:--X main.version=$VERSION}
PKG_DIR=${PKG_DIR:-build/packages}
arch=$("$GO" env GOARCH)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
install -d -m 0755 "$root/usr/local/lib/osquery-syslog" "$root/Library/LaunchDaemons" \
	"$root/usr/local/share/osquery-syslog/packs" "$root/usr/local/share/osquery-syslog/rsyslog"
CGO_ENABLED=1 "$GO" build -tags "$TAGS" -trimpath -ldflags "$LDFLAGS" \
	-o "$root/usr/local/lib/osquery-syslog/osquery-syslog.ext" ./extension
chmod 0755 "$root/usr/local/lib/osquery-syslog/osquery-syslog.ext"
install -m 0644 packaging/macos/com.osquery-syslog.daemon.plist "$root/Library/LaunchDaemons/"
install -m 0644 packaging/README.md packaging/osquery.example.conf packaging/daemon.example.conf \
	"$root/usr/local/share/osquery-syslog/"
install -m 0644 packs/syslog-security.conf "$root/usr/local/share/osquery-syslog/packs/"
install -m 0644 rsyslog/syslog-ng.conf rsyslog/README.md "$root/usr/local/share/osquery-syslog/rsyslog/"
# The example configs name the pack where the .deb installs it.
sed -i '' 's|/usr/share/osquery-syslog/|/usr/local/share/osquery-syslog/|g' \
	"$root/usr/local/share/osquery-syslog/osquery.example.conf" "$root/usr/local/share/osquery-syslog/daemon.example.conf"

install -d "$stage/scripts"
install -m 0755 packaging/macos/postinstall "$stage/scripts/postinstall"
mkdir -p "$PKG_DIR"
out=$PKG_DIR/osquery-syslog-$VERSION-darwin-$arch.pkg
# --ownership recommended: every file root:wheel whoever builds it.
pkgbuild --root "$root" --scripts "$stage/scripts" --identifier com.osquery-syslog.pkg \
	--version "$VERSION" --install-location / --ownership recommended "$out"
echo "package-macos: $out"
