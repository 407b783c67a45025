package journal

import (
	"time"

	"golang.org/x/sys/unix"
)

// bootTime is when this host booted: now minus the time since boot.
func bootTime() (time.Time, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return time.Time{}, err
	}
	return time.Now().Add(-time.Duration(ts.Nano())), nil
}
