//go:build !linux

package journal

import (
	"errors"
	"time"
)

func bootTime() (time.Time, error) { return time.Time{}, errors.New("boot time unknown") }
