package jovepay

import (
	"context"
	"time"
)

// WithSleep replaces WaitForPayment's wait between polls, so tests can record the waits and
// end the wait without real time passing.
func WithSleep(fn func(ctx context.Context, d time.Duration) error) WaitOption {
	return func(c *waitConfig) { c.Sleep = fn }
}
