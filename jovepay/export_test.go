package jovepay

import (
	"context"
	"time"
)

// WithWaitSleep makes WaitForPayment wait between polls with fn instead of a timer, so tests
// can record the waits and end the wait without real time passing.
func WithWaitSleep(fn func(ctx context.Context, d time.Duration) error) WaitOption {
	return func(c *waitConfig) { c.Sleep = fn }
}
