package transport

import "time"

// ParseRetryAfter reads a Retry-After header value — delay-seconds, or an HTTP-date taken
// relative to now — the way the client reads it for its own retries: a date in the past is 0
// and no value is longer than a year. ok is false when v is empty or malformed. Waits outside
// the client (the Pepay stream's reconnects) use it with CapRetryAfter, so that every wait a
// provider asks for follows Settings.MaxRetryAfter.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	return retryAfter(v, now)
}

// CapRetryAfter limits a provider's Retry-After d to limit (Settings.MaxRetryAfter) for a loop
// that keeps going rather than give up — a stream that reconnects, a poll that polls again —
// where the client's own retries would return the error instead. The result is never negative.
func CapRetryAfter(d, limit time.Duration) time.Duration {
	return max(0, min(d, limit))
}
