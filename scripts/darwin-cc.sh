#!/usr/bin/env bash
# darwin-cc.sh: the C compiler `make vet` hands cgo for GOOS=darwin.
#
# There is no macOS C toolchain (clang + SDK) on the Linux hosts that run
# `make test`, yet `go vet` must type-check the cgo packages (go-sqlite3,
# the event buffer, the embedded engine, the extension) for darwin so that
# the macOS build cannot silently break. cgo needs a C compiler only to
# learn the C types those packages use; this wrapper lets the host gcc play
# that part:
#   - it drops the clang-only flags the go command adds for darwin (-arch X,
#     -mmacosx-version-min=..., -framework X) and -Werror;
#   - it lets runtime/cgo's darwin files call the pthread_*_np functions
#     that glibc does not declare (implicit declarations are warnings).
# What this covers: every Go file of every package, darwin build tags
# included, type-checked and vetted for darwin. What it does not: the C
# code is compiled against Linux headers, not the macOS SDK, and nothing
# is linked; a C-level macOS break still needs a real macOS build (CI on a
# Mac).
set -euo pipefail
args=()
skip=0
for a in "$@"; do
	if ((skip)); then
		skip=0
		continue
	fi
	case "$a" in
	-arch | -framework)
		skip=1
		continue
		;;
	-mmacosx-version-min=* | -Werror | -Werror=*) continue ;;
	esac
	args+=("$a")
done
exec "${DARWIN_HOST_CC:-gcc}" -Wno-implicit-function-declaration -Wno-int-conversion "${args[@]}"
