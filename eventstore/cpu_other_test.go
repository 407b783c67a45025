//go:build !unix

package eventstore

import "time"

func processCPU() (time.Duration, bool) { return 0, false }
