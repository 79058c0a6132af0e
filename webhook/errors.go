package webhook

import "errors"

// Sentinel errors returned by the verifiers, the body reader and the deduper. Test for them with
// errors.Is; the returned errors may wrap them with more detail (never with a secret).
var (
	// ErrEmptySecret is returned by a constructor given an empty secret: an empty HMAC key
	// would accept signatures anyone can compute.
	ErrEmptySecret = errors.New("webhook: empty secret")
	// ErrMissingSignature means the signature header (or value) was absent or empty.
	ErrMissingSignature = errors.New("webhook: missing signature")
	// ErrMalformedSignature means the signature header could not be parsed: no timestamp, a
	// non-numeric timestamp, no v1 entry, an entry that is not key=value, or a value that is not hex.
	ErrMalformedSignature = errors.New("webhook: malformed signature header")
	// ErrSignatureMismatch means no signature matched any configured secret.
	ErrSignatureMismatch = errors.New("webhook: signature mismatch")
	// ErrTimestampOutOfTolerance means the signed timestamp is too far in the past or the future.
	ErrTimestampOutOfTolerance = errors.New("webhook: timestamp outside tolerance")
	// ErrPayloadTooLarge means the request body exceeded the configured maximum.
	ErrPayloadTooLarge = errors.New("webhook: payload too large")
	// ErrInvalidPayload means the body is not acceptable input (for example not JSON, invalid
	// UTF-8, duplicate object keys, or nested too deeply).
	ErrInvalidPayload = errors.New("webhook: invalid payload")

	// ErrDuplicate is returned by Deduper.Do when the event id was already processed
	// successfully; the handler function was not run.
	ErrDuplicate = errors.New("webhook: duplicate event")
	// ErrInFlight is returned by Deduper.Do when another worker holds an unexpired claim on the
	// event id right now; the handler function was not run. Answer so the provider retries later.
	ErrInFlight = errors.New("webhook: event in flight")
)
