#!/usr/bin/env bash
# faults.sh (make faults): run the fault drills against the built extension
# and print, per scenario, sent / delivered / duplicated / lost. Fails when
# a drill fails, a scenario is missing, or anything was lost. `make test`
# runs the same tests (with the race detector) among all the others.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
TAGS=${TAGS:-sqlite_vtable}
scenarios=(
	TestKillDashNineMidStream       # kill -9 during shipping, restart on the same queue
	TestSinkOutage                  # sink refuses connections for 60 s
	TestKinesisThrottling30Percent  # 30% of entries throttled per request
	TestFaultMalformedFlood         # 100,000 malformed syslog lines around 10,000 good ones
	TestFaultDiskFull               # queue on a full file system (tmpfs; needs root)
	TestFaultOsquerydRestart        # osqueryd restarts while syslog_messages is queried
)
run=$(IFS='|'; echo "^(${scenarios[*]})\$")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "faults: go test -tags $TAGS -count=1 -v -run '$run' ./test/"
status=0
notes=
CGO_ENABLED=1 "$GO" test -tags "$TAGS" -count=1 -v -timeout 30m -run "$run" ./test/ >"$log" 2>&1 || status=$?

echo
printf '%-24s %8s %10s %11s %6s  %s\n' scenario sent delivered duplicated lost test
for t in "${scenarios[@]}"; do
	line=$(awk -v t="$t" '$0 ~ "^=== RUN +"t"$" { on = 1; next } /^=== RUN/ { on = 0 } on && /FAULT / { print; exit }' "$log")
	result=$(grep -E "^--- (PASS|FAIL): $t " "$log" | awk '{sub(/:$/, "", $2); print $2}' || true)
	if [[ -z $line ]]; then
		printf '%-24s %s\n' "?" "no report from $t (${result:-did not run})"
		status=1
		continue
	fi
	read -r name sent deliv dup lost <<<"$(sed -E 's/.*FAULT +([^ ]+) +sent=([0-9]+) delivered=([0-9]+) duplicated=([0-9]+) lost=([0-9]+).*/\1 \2 \3 \4 \5/' <<<"$line")"
	note=$(sed -E 's/.*lost=[0-9]+ ?//' <<<"$line")
	printf '%-24s %8s %10s %11s %6s  %s %s\n' "$name" "$sent" "$deliv" "$dup" "$lost" "$t" "${result:-?}"
	notes+="  $name: $note"$'\n'

	if [[ $lost != 0 ]]; then status=1; fi
done
echo; printf "%s" "${notes:-}"
if [[ $status != 0 ]]; then
	echo
	grep -E '^(--- FAIL|FAIL|panic)|_test.go:[0-9]+: ' "$log" | grep -v 'started pid' | tail -40
	echo "faults: FAILED"
	exit 1
fi
echo "faults: every scenario passed with 0 lost"
