// Package jopay is a client for the JoPay Partner API v1: payment requests (create, get,
// cancel, list), merchants, and typed, signature-verified webhook events.
//
// # Client
//
//	client, err := jopay.NewClient(os.Getenv("JOPAY_API_KEY"), jopay.WithSlug("acme"))
//
// Keys start with jo_test_ (sandbox) or jo_live_ (production); see KeyMode. The client retries
// reads, cancels and creates on connection errors, 429 and 5xx, honouring Retry-After. Every
// create carries an idempotency key in its body — the caller's, or a generated one — that is
// reused on each retry, so a retried create returns the original request instead of a second
// pay link. Derive the key from your own record, idempotency.Key("checkout", orderID), and even
// a create repeated after a crash is safe.
//
// Parameters are checked against the documented limits before anything is sent; a violation is
// a *paykit.ValidationError naming the field. API failures are *paykit.Error: switch on Code.
//
// # Rate limits
//
// JoPay allows 60 requests per minute per API key, and 30 per minute for POST /merchants, in
// sliding windows. The client keeps to both by default: every request waits its turn (one per
// second, CreateMerchant also one per two seconds), and a wait that would outlast the context's
// deadline fails at once with an error wrapping paykit.ErrRateLimited, sending nothing. The
// default limits belong to one client; several clients or processes sharing a key should pass
// one shared limiter with WithRateLimiter, which replaces both defaults (nil turns limiting
// off). A 429 from JoPay is still retried, after its Retry-After.
//
// # Per-call options
//
// Every method takes trailing paykit.CallOptions: paykit.WithHeader, paykit.WithTimeout,
// paykit.WithMaxRetries and paykit.WithResponseInfo (status, request id, attempts, rate-limit
// headers) everywhere, and paykit.WithIdempotencyKey on CreateRequest only, where it wins over
// CreateRequestParams.IdempotencyKey. Do sends requests paykit does not wrap through the same
// machinery, and WaitForRequest polls a request until it is paid, expired or cancelled.
//
// # Payments
//
// CreateRequest returns a PaymentRequest with PayPageURL; send the customer there. A request is
// paid only when its proof is verified (ProofStatusVerified); JoPay reports that with a
// payment.proof_verified webhook. NewWebhookHandler verifies the X-JoPay-Signature header,
// parses the Event, dedupes redeliveries (see DedupeKey) and calls your function; answer
// errors make JoPay retry, bad signatures do not.
//
// # Reconciliation
//
// ListRequests iterates over requests with a moving since cursor, yielding each exactly once
// even when many share a timestamp; ListRequestsFrom and RequestIterator.Cursor let a nightly
// job continue where the previous run stopped.
//
// # Recurring charges
//
// Charges spawned by a merchant's recurring plan look like one-off payments; Event.Charge and
// Event.SubscriptionID tell them apart by the plan metadata they echo.
//
// Package jopaytest provides an in-process fake of the API for tests and examples.
package jopay
