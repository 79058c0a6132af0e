package jovepay

import (
	"context"
	"net/http"

	"github.com/paykit-go/paykit/internal/hookpreset"
	"github.com/paykit-go/paykit/webhook"
)

// Signature headers IPNs may carry; either may arrive, so both are checked.
const (
	// SignatureHeader is the header JovePay's documentation names.
	SignatureHeader = "x-jovepay-sig"
	// NOWPaymentsSignatureHeader is the header NOWPayments, whose API JovePay mirrors, sends.
	NOWPaymentsSignatureHeader = "x-nowpayments-sig"
)

// IPNVerifier checks IPN signatures: hex HMAC-SHA512, keyed with the IPN secret, over the body
// with its keys sorted. It accepts a signature made by any of the three reference programs in
// JovePay's documentation (Node, PHP, Python), which disagree on edge cases, and compares in
// constant time. It is safe for concurrent use.
type IPNVerifier struct {
	v *webhook.SortedJSONVerifier
}

// NewIPNVerifier returns a verifier for the IPN secret from the dashboard. Options:
// webhook.WithPreviousSecrets (rotation), webhook.WithSignatureHeaders (default x-jovepay-sig,
// then x-nowpayments-sig), webhook.WithRawBodyFallback (also accept a hex HMAC-SHA256 of the
// raw body: some JovePay-branded integration code checks that; off unless you opt in),
// webhook.WithMaxPayloadBytes (VerifyRequest's limit, default 1 MiB). IPNs carry no signed
// timestamp: webhook.WithTolerance and webhook.WithClock are accepted and have no effect.
// Errors are *webhook.ConfigErrors naming the argument or option: an empty secret (wrapping
// webhook.ErrEmptySecret), an invalid option, or a handler option (webhook.WithDeduper,
// webhook.WithLogger), which only NewIPNHandler takes.
func NewIPNVerifier(secret string, opts ...webhook.Option) (*IPNVerifier, error) {
	v, err := hookpreset.Verifier("jovepay", "NewIPNVerifier", webhook.NewSortedJSONVerifier, secret, opts)
	if err != nil {
		return nil, err
	}
	return &IPNVerifier{v: v}, nil
}

// VerifySignature checks one signature value against the raw payload. Errors wrap the webhook
// sentinels: ErrMissingSignature, ErrMalformedSignature, ErrSignatureMismatch,
// ErrInvalidPayload (a body that is not JSON cannot have a sorted-JSON signature).
func (v *IPNVerifier) VerifySignature(payload []byte, signature string) error {
	return v.v.Verify(payload, signature)
}

// Verify checks the signature found in the configured headers (x-jovepay-sig, then
// x-nowpayments-sig, by default) against the raw payload; any one that verifies is enough.
// With none present it returns an error wrapping webhook.ErrMissingSignature.
func (v *IPNVerifier) Verify(payload []byte, h http.Header) error {
	return v.v.VerifyHeader(payload, h)
}

// VerifyRequest reads the request body (bounded by webhook.WithMaxPayloadBytes), verifies it and
// returns the raw bytes for ParseIPN. Map errors to a status with webhook.StatusCode.
func (v *IPNVerifier) VerifyRequest(r *http.Request) ([]byte, error) {
	return v.v.VerifyRequest(r, "")
}

// NewIPNHandler returns the http.Handler to mount at your ipn_callback_url. For each POST it
// reads the body (1 MiB max), verifies the signature (400 if bad), parses it (ParseIPN; 400 if
// malformed), dedupes on IPN.DedupeKey and calls fn with the request's context. fn's error is
// answered 500 so JovePay re-sends the IPN; nil is answered 200. A duplicate of an IPN fn
// already handled is answered 200 without calling fn.
//
// IPNs carry neither an event id nor a timestamp, so the dedupe key is the only replay
// protection: it is built from the body's canonical form — payment id, status and
// actually_paid for a payment — so a captured IPN replayed with its numbers, whitespace, key
// order or string escapes re-encoded (all invisible to the signature) is still a duplicate.
//
// Options are the webhook package's, the same for every provider's handler:
// webhook.WithDeduper (default: one over a webhook.MemoryStore, which suits a single process;
// several instances behind a load balancer need a shared store such as webhook/sqlstore; nil
// turns dedupe off), webhook.WithLogger, webhook.WithPreviousSecrets,
// webhook.WithMaxPayloadBytes, and NewIPNVerifier's. Errors are *webhook.ConfigErrors naming
// the argument or option, for example
// "jovepay: NewIPNHandler: WithPreviousSecrets: webhook: empty secret".
//
// fn must still be idempotent in effect: delivery is at least once, and a restart forgets
// in-memory keys.
func NewIPNHandler(secret string, fn func(ctx context.Context, ipn *IPN) error, opts ...webhook.Option) (http.Handler, error) {
	return hookpreset.Handler("jovepay", "NewIPNHandler", webhook.NewSortedJSONVerifier, ipnEndpoint, secret, fn, opts)
}

// ipnEndpoint is JovePay's IPN delivery format around the verifier v.
func ipnEndpoint(v *webhook.SortedJSONVerifier) webhook.Endpoint[*IPN] {
	return webhook.Endpoint[*IPN]{
		Verify: v.VerifyHeader,
		Parse:  ParseIPN,
		// IPN.DedupeKey, with the verifier's reusable buffers.
		EventID: func(_ []byte, _ http.Header, ipn *IPN) string { return dedupeKey(ipn.Raw, v) },
	}
}
