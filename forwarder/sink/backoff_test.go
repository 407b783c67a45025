package sink

import (
	"context"
	"testing"
	"time"
)

func TestBackoffBounds(t *testing.T) {
	b := Backoff{Base: 100 * time.Millisecond, Cap: 5 * time.Second}
	for attempt, want := range []time.Duration{100e6, 200e6, 400e6, 800e6, 1600e6, 3200e6, 5e9, 5e9} {
		if got := b.Ceiling(attempt); got != want {
			t.Errorf("Ceiling(%d) = %v, want %v", attempt, got, want)
		}
	}
	if b.Ceiling(1000) != b.Cap || b.Ceiling(-1) != b.Base {
		t.Error("extreme attempts")
	}
	if (Backoff{Base: time.Hour}).Ceiling(200) <= 0 {
		t.Error("no cap overflowed")
	}
	if (Backoff{}).Delay(3) != 0 {
		t.Error("zero backoff must not wait")
	}
	// Full jitter: every delay in [0, ceiling), and the whole range used.
	for _, attempt := range []int{0, 3, 10} {
		c := b.Ceiling(attempt)
		lo, hi := c, time.Duration(0)
		for range 20000 {
			d := b.Delay(attempt)
			if d < 0 || d >= c {
				t.Fatalf("Delay(%d) = %v outside [0, %v)", attempt, d, c)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		if lo > c/100 || hi < c*99/100 {
			t.Errorf("attempt %d: delays in [%v, %v], want close to [0, %v)", attempt, lo, hi, c)
		}
	}
}

func TestBackoffSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := (Backoff{Base: time.Hour, Cap: time.Hour}).Sleep(ctx, 5); err != context.Canceled {
		t.Fatalf("Sleep on a canceled context: %v", err)
	}
	start := time.Now()
	if err := (Backoff{Base: time.Millisecond, Cap: time.Millisecond}).Sleep(t.Context(), 0); err != nil || time.Since(start) > time.Second {
		t.Fatal(err)
	}
}

func BenchmarkBackoffDelay(b *testing.B) {
	bo := DefaultBackoff
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			bo.Delay(i & 15)
			i++
		}
	})
}
