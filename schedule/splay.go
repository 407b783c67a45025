package schedule

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// DefaultSplayPercent is osquery's --schedule_splay_percent default.
const DefaultSplayPercent = 10

// SplayValue returns original moved by a uniformly random amount of at most
// percent% either way, never below 1, as osquery's splayValue: a percent of 0
// or above 100 leaves the interval alone. Splay spreads the queries of many
// hosts (and of one host) over time instead of running them in lockstep.
func SplayValue(original, percent uint64, rnd *rand.Rand) uint64 {
	if percent == 0 || percent > 100 {
		return original
	}
	diff := uint64(float64(original) * float64(percent) / 100)
	hi := original + diff
	lo := uint64(1)
	if original > diff+1 {
		lo = original - diff
	}
	if hi <= lo {
		return hi
	}
	return lo + rnd.Uint64N(hi-lo+1)
}

// splayKey holds "<interval>:<splayed>" for a query, so a restart keeps the
// same splayed interval (as osquery caches it) unless the interval changed.
func splayKey(name string) string { return stateNS.Key("interval/" + name) }

func parseSplay(v string, interval uint64) (uint64, bool) {
	a, b, ok := strings.Cut(v, ":")
	if !ok || a != strconv.FormatUint(interval, 10) {
		return 0, false
	}
	n, err := strconv.ParseUint(b, 10, 64)
	if err != nil || n == 0 {
		return 0, false
	}
	return n, true
}

func formatSplay(interval, splayed uint64) string {
	return fmt.Sprintf("%d:%d", interval, splayed)
}
