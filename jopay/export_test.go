package jopay

import (
	"context"
	"time"

	"github.com/paykit-go/paykit/internal/ratelimit"
)

// WithTestClock runs the client's default rate limiters on clk (a fake clock in tests).
func WithTestClock(clk ratelimit.Clock) Option { return withClock(clk) }

// WithWaitSleep makes WaitForRequest wait between polls with sleep instead of a timer.
func WithWaitSleep(sleep func(context.Context, time.Duration) error) WaitOption {
	return func(c *waitConfig) { c.Sleep = sleep }
}
