#!/usr/bin/env bash
# bench.sh OUT (make bench): run every Go benchmark and write OUT, a Markdown
# page headed by the command, the date and the machine that produced it.
# For now the page is the raw `go test -bench` output; the throughput
# scenarios (rsyslog -> pipe -> buffer, the forwarder) will add their own
# sections here.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-docs/BENCHMARKS.md}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
TAGS=${TAGS:-sqlite_vtable}
cmd=("$GO" test -tags "$TAGS" -run XXX -bench . -benchmem ./...)
shown="go test -tags $TAGS -run XXX -bench . -benchmem ./..."

raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
echo "bench: $shown"
CGO_ENABLED=1 "${cmd[@]}" 2>&1 | tee "$raw"

cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)
mkdir -p "$(dirname "$out")"
{
	echo "# Benchmarks"
	echo
	echo "Written by \`make bench\`; do not edit by hand."
	echo
	echo "- Command: \`$shown\`"
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- Commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
	echo "- Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $(uname -sr), $("$GO" version | cut -d' ' -f3-)"
	echo
	echo "## go test -bench"
	echo
	echo '```'
	grep -E '^(goos|goarch|pkg|cpu|Benchmark|PASS|FAIL|ok|---)' "$raw" || echo "(no benchmarks yet)"
	echo '```'
} >"$out"
echo "bench: wrote $out"
