package jopay

import (
	"context"
	"time"

	"github.com/paykit-go/paykit/internal/ratelimit"
)

// WithTestClock runs the client's default rate limiters on clk (a fake clock in tests).
func WithTestClock(clk ratelimit.Clock) Option { return withClock(clk) }

// WithTestPollSleep makes WaitForRequest wait with sleep instead of a timer.
func WithTestPollSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return withPollSleep(sleep)
}
