package logfile

import "testing"

func TestStateNamespace(t *testing.T) {
	if got := stateNS.Prefix(); got != StateKeyPrefix {
		t.Fatalf("state namespace prefix %q, StateKeyPrefix %q", got, StateKeyPrefix)
	}
}
