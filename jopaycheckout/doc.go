// Package jopaycheckout is a client for JoPay Checkout (https://jopay.me/api/checkout/v1):
// hosted checkout sessions, the success-page redirect, and the signed webhooks that tell you a
// session was paid.
//
// The flow:
//
//  1. CreateSession with what the buyer pays (line items, or an amount and currency), a
//     SuccessURL and a CancelURL, and your order id in Metadata.
//  2. Redirect the buyer to Session.URL.
//  3. JoPay redirects the buyer to SuccessURL with ?session_id=… appended. Read it with
//     SessionIDFromRedirect and show the order with GetSession. The redirect alone proves
//     nothing (anyone can type the URL); Session.IsPaid does.
//  4. Fulfil on the checkout.session.completed webhook, received by NewWebhookHandler, which
//     verifies the X-JoPay-Signature header, parses the event and runs your function once per
//     session and event type.
//
// # Two versions of the API page
//
// JoPay has published two versions of the Checkout page. Version A takes amount_cents +
// currency (+ billing_details) and answers with url and status "open"; version B takes
// line_items and answers with checkout_url and status "pending". CreateSession sends whichever
// style CreateSessionParams uses (exactly one), and Session decodes both answers: URL holds url
// or checkout_url, Status maps "pending" to StatusOpen and RawStatus keeps what was sent.
//
// # Retries and idempotency
//
// JoPay Checkout documents no idempotency mechanism. GetSession is retried on connection errors,
// 429 and 5xx. CreateSession is a write without a key, so it is retried only when the request
// provably never reached JoPay (refused connection, DNS failure). When it may have reached JoPay
// (a dropped connection, a 5xx) the error wraps paykit.ErrUnknownOutcome: a session may or may
// not exist, and you cannot find it because there is no list endpoint. It is still safe to call
// CreateSession again for the same order: a session whose URL never reached a buyer cannot be
// paid and expires unpaid after one hour. Keep the order id in Metadata and make fulfilment
// idempotent per order, so that whichever session completes, the order ships once.
//
// If JoPay confirms an idempotency header, WithIdempotencyHeader turns it on:
// CreateSessionParams.IdempotencyKey (generated when empty) is sent in that header and the
// create is then retried like any keyed write. Without that option a non-empty IdempotencyKey is
// refused rather than silently dropped.
//
// # Per-call options, limits and raw requests
//
// CreateSession and GetSession take trailing paykit.CallOptions: paykit.WithHeader,
// paykit.WithTimeout, paykit.WithMaxRetries and paykit.WithResponseInfo (status, request id,
// attempts, rate-limit headers). paykit.WithIdempotencyKey is accepted by CreateSession (and
// Do) only on a client built WithIdempotencyHeader, and wins over
// CreateSessionParams.IdempotencyKey. JoPay Checkout publishes no rate limits, so the client
// has none by default; WithRateLimiter adds one. Do sends requests paykit does not wrap with
// the same auth, retries and error decoding.
package jopaycheckout
