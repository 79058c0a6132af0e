package pepay

import (
	"context"
	"time"
)

// StreamWithClock is Client.Stream with the clock its reconnect logic reads (how long a
// connection stayed up, Retry-After dates) and waits on (reconnect and handler-retry backoffs),
// so tests can check reconnect timing without waiting for it.
func (c *Client) StreamWithClock(ctx context.Context, p StreamParams, now func() time.Time, sleep func(context.Context, time.Duration) error, handler func(context.Context, *Event) error) error {
	return c.stream(ctx, p, streamClock{nowFn: now, sleepFn: sleep}, handler)
}

// WithWaitSleep makes WaitForInvoice wait between polls with sleep instead of a timer.
func WithWaitSleep(sleep func(context.Context, time.Duration) error) WaitOption {
	return func(c *waitConfig) { c.Sleep = sleep }
}
