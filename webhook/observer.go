package webhook

import (
	"context"
	"errors"
)

// Observer hears what webhook handlers and Dedupers decide, for metrics and tracing. Give it to
// a handler with WithObserver and to a Deduper with WithDedupeObserver; the paykitotel package
// implements it with OpenTelemetry. Without one (the default) nothing is reported and nothing
// is spent on reporting.
//
// Its methods run on the request's goroutine, in the delivery's path: keep them quick. They
// must be safe for concurrent use.
type Observer interface {
	// Rejected is called once for each delivery a handler refuses without running the handler
	// function: a wrong method, an oversized or unreadable body, a bad signature or timestamp,
	// an unparsable payload, or an event another worker is processing right now. A duplicate
	// (answered 200), a failing handler function and a delivery WithInbox could not queue are
	// not rejections.
	Rejected(ctx context.Context, r Rejection)
	// Deduped is called exactly once per Deduper.Do call, with how it ended.
	Deduped(ctx context.Context, outcome DedupeOutcome)
}

// Rejection describes a delivery a handler refused.
type Rejection struct {
	// Reason says why, as a short stable string suitable as a metric attribute.
	Reason RejectReason
	// Endpoint names the handler's endpoint: Endpoint.Name (for example "jopay"), else the
	// endpoint name given to WithInbox; "" when neither is set.
	Endpoint string
	// Status is the HTTP status the handler answered (400, 405, 413, 500, 503).
	Status int
	// Err is the error behind the refusal (nil for a wrong method). It never holds a secret or
	// the body.
	Err error
}

// RejectReason is why a delivery was refused; see the Reject* constants.
type RejectReason string

// Rejection reasons. They follow the errors the verifiers and the handler return, so that a
// dashboard tells a forged or misconfigured sender (signature reasons) from a replay or a
// skewed clock (timestamp) and from a sender bug (payload reasons).
const (
	// RejectMethod: the request was not a POST (answered 405).
	RejectMethod RejectReason = "method_not_allowed"
	// RejectPayloadTooLarge: the body exceeded the size limit (ErrPayloadTooLarge, 413).
	RejectPayloadTooLarge RejectReason = "payload_too_large"
	// RejectReadError: the body could not be read, for example because the sender hung up
	// (answered 500).
	RejectReadError RejectReason = "read_error"
	// RejectMissingSignature: no signature was sent (ErrMissingSignature, 400).
	RejectMissingSignature RejectReason = "missing_signature"
	// RejectMalformedSignature: the signature header could not be parsed
	// (ErrMalformedSignature, 400).
	RejectMalformedSignature RejectReason = "malformed_signature"
	// RejectSignatureMismatch: no signature matched any secret (ErrSignatureMismatch, 400).
	RejectSignatureMismatch RejectReason = "signature_mismatch"
	// RejectTimestamp: the signature is genuine but its timestamp is outside the tolerance
	// (ErrTimestampOutOfTolerance, 400): a replay or a skewed clock.
	RejectTimestamp RejectReason = "timestamp_out_of_tolerance"
	// RejectInvalidPayload: the verified body could not be parsed (ErrInvalidPayload, 400).
	RejectInvalidPayload RejectReason = "invalid_payload"
	// RejectInFlight: another worker holds the event's dedupe claim right now (ErrInFlight,
	// answered 503 so that the provider delivers it again later).
	RejectInFlight RejectReason = "in_flight"
	// RejectOther: any other error before the handler function ran, such as a custom
	// Endpoint.Verify failing in its own way (answered 500).
	RejectOther RejectReason = "other"
)

// ReasonOf returns the rejection reason for an error from ReadBody, a verifier, a parser or
// Deduper.Do, for code that verifies deliveries itself (VerifyRequest) and reports to an
// Observer: RejectOther for an error none of the reasons describe, "" for nil.
func ReasonOf(err error) RejectReason {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrPayloadTooLarge):
		return RejectPayloadTooLarge
	case errors.Is(err, ErrTimestampOutOfTolerance):
		return RejectTimestamp
	case errors.Is(err, ErrMissingSignature):
		return RejectMissingSignature
	case errors.Is(err, ErrMalformedSignature):
		return RejectMalformedSignature
	case errors.Is(err, ErrSignatureMismatch):
		return RejectSignatureMismatch
	case errors.Is(err, ErrInvalidPayload):
		return RejectInvalidPayload
	case errors.Is(err, ErrInFlight):
		return RejectInFlight
	}
	return RejectOther
}

// DedupeOutcome is how a Deduper.Do call ended; see the Dedupe* constants.
type DedupeOutcome string

// Dedupe outcomes, one per Deduper.Do call.
const (
	// DedupeProcessed: the function ran, succeeded and its completion was recorded (Do
	// returned nil).
	DedupeProcessed DedupeOutcome = "processed"
	// DedupeDuplicate: the id was completed before; the function was not run (ErrDuplicate).
	DedupeDuplicate DedupeOutcome = "duplicate"
	// DedupeInFlight: another worker holds an unexpired claim; the function was not run
	// (ErrInFlight).
	DedupeInFlight DedupeOutcome = "in_flight"
	// DedupeFailed: the function returned an error or panicked; the claim was released so that
	// a redelivery runs it again.
	DedupeFailed DedupeOutcome = "failed"
	// DedupeStoreError: the Store failed: the claim could not be made (the function was not
	// run), or the function succeeded but its completion could not be recorded (a redelivery
	// may run it again).
	DedupeStoreError DedupeOutcome = "store_error"
	// DedupeEmptyID: Do was called with an empty event id (ErrEmptyEventID); nothing ran.
	DedupeEmptyID DedupeOutcome = "empty_id"
)

// WithObserver makes a handler report every delivery it refuses to o (see Observer.Rejected).
// When the handler builds its default Deduper, that Deduper reports its outcomes to o too; give
// a Deduper of your own WithDedupeObserver. nil, like the default, reports nothing. It applies
// to handlers. Verifiers report nothing themselves: code that calls VerifyRequest can report a
// refusal with o.Rejected and ReasonOf.
func WithObserver(o Observer) Option {
	return option("WithObserver", forHandler, func(opts *options) error {
		opts.observer = o
		return nil
	})
}

// WithDedupeObserver makes a Deduper report the outcome of every Do call to o (see
// Observer.Deduped). nil, like the default, reports nothing and costs nothing.
func WithDedupeObserver(o Observer) DedupeOption {
	return func(d *Deduper) { d.obs = o }
}

// observe reports outcome to d's Observer, if it has one.
func (d *Deduper) observe(ctx context.Context, outcome DedupeOutcome) {
	if d.obs != nil {
		d.obs.Deduped(ctx, outcome)
	}
}
