// Package webhook verifies provider webhook deliveries and runs each event's handler once,
// losing nothing.
//
// # Verifiers
//
// TimestampVerifier checks HMAC-SHA256 over "<timestamp>.<raw body>": JoPay and JoPay Checkout
// send "t=<unix>,v1=<hex>" in either order (Verify); Pepay sends a millisecond timestamp and
// current/previous signatures in separate headers (VerifyAt). SortedJSONVerifier checks JovePay's
// HMAC-SHA512 over key-sorted JSON. Both accept previous secrets during a rotation
// (WithPreviousSecrets), compare with hmac.Equal, and report failures as sentinel errors for
// errors.Is; no error or log line ever contains a secret. Verification runs on the raw bytes,
// before any parsing.
//
// # Handlers
//
// NewHandler turns an Endpoint (verify, parse, event id) and a function into an http.Handler
// that reads the body once under a size limit, verifies, parses, dedupes and answers with a
// status chosen for how providers retry (see StatusCode): 200 when processed or a duplicate,
// 400 for bad signatures or payloads (redelivery cannot help), 413 for oversized bodies, 503
// while another worker is processing the same event, 500 when the handler failed (so the
// provider redelivers). It dedupes on the endpoint's event ids by default, in memory.
// NewEndpointHandler is the same, reporting invalid arguments as an error instead of panicking.
//
// # Options
//
// One Option type configures verifiers, handlers and the provider packages' webhook verifier
// and handler constructors: WithPreviousSecrets, WithTolerance, WithClock,
// WithSignatureHeaders and WithRawBodyFallback for verifiers, WithDeduper and WithLogger for
// handlers, WithMaxPayloadBytes for both. Constructors report an invalid option, or one that
// does not apply to them, as a *ConfigError naming it.
//
// # Dedupe
//
// Deduper.Do claims an event id with a lease, runs the handler, and on success remembers the id
// for a retention window; on failure (or panic) it releases the claim so the redelivery runs
// the handler again; a claim whose worker crashed is taken over when its lease ends. The
// state lives in a Store: MemoryStore for one process, the sqlstore package (PostgreSQL) for
// several replicas, or your own implementation, checked with the storetest package.
//
// Delivery remains at-least-once: a handler whose success cannot be recorded, or that outlives
// its lease, may run again. Keep side effects idempotent on the event id where a second run
// would hurt.
package webhook
