package webhook

import (
	"errors"

	"github.com/paykit-go/paykit/internal/sortedjson"
)

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
	// UTF-8, duplicate object keys, or nested too deeply). The sorted-JSON canonicalizer
	// returns it too, so it is defined there.
	ErrInvalidPayload = sortedjson.ErrInvalidPayload

	// ErrDuplicate is returned by Deduper.Do when the event id was already processed
	// successfully; the handler function was not run.
	ErrDuplicate = errors.New("webhook: duplicate event")
	// ErrInFlight is returned by Deduper.Do when another worker holds an unexpired claim on the
	// event id right now; the handler function was not run. Answer so the provider retries later.
	ErrInFlight = errors.New("webhook: event in flight")
)

// ConfigError reports an invalid argument or option given to a constructor: this package's
// verifier and handler constructors, and the provider packages' webhook verifier and handler
// constructors, which report their own name in it. Its message reads
// "<package>: <constructor>: <argument or option>: <reason>", for example
// "pepay: NewWebhookVerifier: secret: webhook: empty secret" or
// "jovepay: NewIPNHandler: WithPreviousSecrets: webhook: empty secret". Find it with errors.As;
// errors.Is sees through it to Err (ErrEmptySecret, for instance).
type ConfigError struct {
	// Package is the package of the constructor: "webhook", "jopay", "pepay", ...
	Package string
	// Func is the constructor: "NewTimestampVerifier", "NewIPNHandler", ...
	Func string
	// Arg names what is wrong: an argument ("secret", "fn", "Endpoint.Verify") or an option
	// ("WithTolerance").
	Arg string
	// Err says why; it may wrap a sentinel such as ErrEmptySecret. It never holds a secret.
	Err error
}

// Error returns "<package>: <constructor>: <argument or option>: <reason>".
func (e *ConfigError) Error() string {
	return e.Package + ": " + e.Func + ": " + e.Arg + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *ConfigError) Unwrap() error { return e.Err }
