package webhook

import (
	"fmt"
	"time"
)

// Defaults applied by the verifiers.
const (
	// DefaultTolerance is how far a signed timestamp may be from now, in either direction.
	DefaultTolerance = 5 * time.Minute
	// DefaultMaxPayloadBytes is the largest body VerifyRequest and the handlers accept.
	DefaultMaxPayloadBytes int64 = 1 << 20
)

// Option configures a verifier. The same options serve TimestampVerifier and SortedJSONVerifier;
// an option that does not apply to a verifier (tolerance for the unsigned-timestamp JovePay
// scheme) is accepted and ignored.
type Option func(*options)

type options struct {
	tolerance       time.Duration
	now             func() time.Time
	previous        []string
	maxPayloadBytes int64
	err             error // first invalid option, reported by the constructor
}

func defaultOptions() options {
	return options{tolerance: DefaultTolerance, now: time.Now, maxPayloadBytes: DefaultMaxPayloadBytes}
}

// applyOptions applies opts over the defaults and returns the first validation error.
func applyOptions(opts []Option) (options, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o, o.err
}

func (o *options) fail(err error) {
	if o.err == nil {
		o.err = err
	}
}

// WithTolerance sets how far a signed timestamp may lie from the clock, in the past AND in the
// future (default 5 minutes). It must be positive.
func WithTolerance(d time.Duration) Option {
	return func(o *options) {
		if d <= 0 {
			o.fail(fmt.Errorf("webhook: tolerance must be positive, got %v", d))
			return
		}
		o.tolerance = d
	}
}

// WithClock injects the clock used for the tolerance check (tests, replays).
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now == nil {
			o.fail(fmt.Errorf("webhook: nil clock"))
			return
		}
		o.now = now
	}
}

// WithPreviousSecrets adds secrets that are accepted too, so deliveries signed with an old secret
// keep verifying while a rotation is in progress. Empty strings are refused.
func WithPreviousSecrets(secrets ...string) Option {
	return func(o *options) {
		for _, s := range secrets {
			if s == "" {
				o.fail(fmt.Errorf("previous secret: %w", ErrEmptySecret))
				return
			}
		}
		o.previous = append(o.previous, secrets...)
	}
}

// WithMaxPayloadBytes sets the largest body VerifyRequest and the handlers read (default 1 MiB).
// It must be positive.
func WithMaxPayloadBytes(n int64) Option {
	return func(o *options) {
		if n <= 0 {
			o.fail(fmt.Errorf("webhook: max payload bytes must be positive, got %d", n))
			return
		}
		o.maxPayloadBytes = n
	}
}
