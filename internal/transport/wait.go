package transport

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff returns the wait before retry number n (0 for the first): min doubled n times,
// capped at max, with equal jitter — a uniform pick in [d/2, d] — so that clients failing
// together do not retry together. The transport's retries and the Pepay stream's reconnects
// share it.
func Backoff(min, max time.Duration, n int) time.Duration {
	d := min
	for i := 0; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// Sleep waits d, or returns ctx's error as soon as ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
