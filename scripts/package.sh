#!/usr/bin/env bash
# package.sh (make package): build osquery-syslog.ext for each architecture
# in PKG_ARCHES and pack it into a .deb and an .rpm in PKG_DIR with nfpm
# (pinned in go.mod: go tool nfpm), from packaging/nfpm.yaml.
#
#   VERSION     package and --version version (make passes scripts/version.sh's)
#   LDFLAGS     -X flags stamping version, commit and build date (from make)
#   PKG_ARCHES  Go architectures, default "amd64 arm64"; cgo needs a C
#               compiler for each: gcc for the host's, else the Debian cross
#               compiler (gcc-x86-64-linux-gnu, gcc-aarch64-linux-gnu)
#   PKG_DIR     where the packages go, default build/packages
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
TAGS=${TAGS:-sqlite_vtable}
VERSION=${VERSION:-$(scripts/version.sh)}
LDFLAGS=${LDFLAGS:--X main.version=$VERSION}
PKG_ARCHES=${PKG_ARCHES:-amd64 arm64}
PKG_DIR=${PKG_DIR:-build/packages}

host=$("$GO" env GOHOSTARCH)
mkdir -p "$PKG_DIR"
for arch in $PKG_ARCHES; do
	case $arch in
	amd64) cross=x86_64-linux-gnu-gcc apt=gcc-x86-64-linux-gnu ;;
	arm64) cross=aarch64-linux-gnu-gcc apt=gcc-aarch64-linux-gnu ;;
	*)
		echo "package: unsupported architecture $arch (amd64, arm64)" >&2
		exit 1
		;;
	esac
	cc=${CC:-gcc}
	if [[ $arch != "$host" ]]; then
		cc=$cross
		if ! command -v "$cc" >/dev/null 2>&1; then
			echo "package: $arch needs cgo's C cross compiler $cc: apt-get install $apt (make deps installs it), or PKG_ARCHES=$host" >&2
			exit 1
		fi
	fi
	bin=build/linux-$arch/osquery-syslog.ext
	echo "package: building $bin ($VERSION, CC=$cc)"
	CGO_ENABLED=1 GOOS=linux GOARCH=$arch CC=$cc \
		"$GO" build -tags "$TAGS" -trimpath -ldflags "$LDFLAGS" -o "$bin" ./extension
	for packager in deb rpm; do
		PKG_VERSION=$VERSION PKG_ARCH=$arch PKG_BIN=$bin \
			"$GO" tool nfpm package --config packaging/nfpm.yaml --packager "$packager" --target "$PKG_DIR/"
	done
done
