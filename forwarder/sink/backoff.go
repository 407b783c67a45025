package sink

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/osquery-syslog/osquery-syslog/internal/ctxtime"
)

// Backoff computes retry delays: exponential with full jitter ("Exponential
// Backoff And Jitter", AWS Architecture Blog): the delay before retry
// attempt n (0-based) is uniform in [0, min(Cap, Base·2^n)). Full jitter
// spreads the retries of many senders hit by the same throttling.
//
// Random numbers come from math/rand/v2's top-level functions, which use
// the runtime's per-thread generator: no shared lock on the hot path.
type Backoff struct {
	Base, Cap time.Duration
}

// DefaultBackoff suits PutRecords retries: the first retry waits up to
// 100 ms, growing to at most 20 s.
var DefaultBackoff = Backoff{Base: 100 * time.Millisecond, Cap: 20 * time.Second}

// Ceiling returns min(Cap, Base·2^attempt), the exclusive upper bound of
// Delay(attempt). A zero or negative Cap means no cap.
func (b Backoff) Ceiling(attempt int) time.Duration {
	if b.Base <= 0 {
		return 0
	}
	attempt = max(attempt, 0)
	limit := b.Cap
	if limit <= 0 {
		limit = time.Duration(1<<63 - 1)
	}
	d := b.Base
	for range attempt {
		if d >= limit/2 {
			return limit
		}
		d *= 2
	}
	return min(d, limit)
}

// Delay returns a random delay for retry attempt (0-based), in
// [0, Ceiling(attempt)).
func (b Backoff) Delay(attempt int) time.Duration {
	c := b.Ceiling(attempt)
	if c <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(c)))
}

// Sleep waits Delay(attempt) or until ctx is done, returning ctx.Err() then.
func (b Backoff) Sleep(ctx context.Context, attempt int) error {
	return ctxtime.Sleep(ctx, b.Delay(attempt))
}
