package eventstore

import "testing"

// SQLite's memory statistics must be off before the first connection opens
// (see memstatus.go); a 21 (SQLITE_MISUSE) means something initialised
// SQLite first and the appends pay for a global mutex again.
func TestMemstatusOff(t *testing.T) {
	if memstatusRC != 0 {
		t.Fatalf("sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) = %d, want 0 (SQLITE_OK)", memstatusRC)
	}
}
