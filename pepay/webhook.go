package pepay

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/paykit-go/paykit/internal/hookpreset"
	"github.com/paykit-go/paykit/webhook"
)

// Webhook headers Pepay sends with every delivery.
const (
	// SignatureHeader is the hex HMAC-SHA256 of "<timestamp ms>.<raw body>" with the current
	// endpoint secret.
	SignatureHeader = "X-Pepay-Signature"
	// PreviousSignatureHeader is the same signature made with the previous secret, sent while a
	// secret rotation is in progress.
	PreviousSignatureHeader = "X-Pepay-Signature-Previous"
	// TimestampHeader is the signing time in unix milliseconds; it is part of the signed string.
	TimestampHeader = "X-Pepay-Timestamp"
	// EventTypeHeader repeats the event's type. It is not signed.
	EventTypeHeader = "X-Pepay-Event"
	// EventIDHeader repeats the event's id. It is not signed, so anyone relaying a delivery
	// can change it: NewWebhookHandler never reads it and dedupes on the id in the signed body.
	EventIDHeader = "X-Pepay-Event-ID"
	// NetworkEnvironmentHeader is "devnet" or "mainnet", when Pepay knows it.
	NetworkEnvironmentHeader = "X-Pepay-Network-Environment"
)

// WebhookVerifier checks Pepay webhook signatures. It is safe for concurrent use.
type WebhookVerifier struct {
	v *webhook.TimestampVerifier
}

// NewWebhookVerifier returns a verifier for an endpoint's secret (used as the HMAC key as is).
// During a rotation pass webhook.WithPreviousSecrets(old): a delivery verifies when
// X-Pepay-Signature or X-Pepay-Signature-Previous matches any configured secret. The timestamp
// must be within 5 minutes of the clock either way (webhook.WithTolerance changes it).
// Errors are *webhook.ConfigErrors naming the argument or option: an empty secret (wrapping
// webhook.ErrEmptySecret), an invalid option, or a handler option (webhook.WithDeduper,
// webhook.WithLogger), which only NewWebhookHandler takes.
func NewWebhookVerifier(secret string, opts ...webhook.Option) (*WebhookVerifier, error) {
	v, err := hookpreset.Verifier("pepay", "NewWebhookVerifier", webhook.NewTimestampVerifier, secret, opts)
	if err != nil {
		return nil, err
	}
	return &WebhookVerifier{v: v}, nil
}

// Verify checks a delivery's raw payload against its headers. Errors wrap the webhook
// sentinels: ErrMissingSignature (no signature header), ErrMalformedSignature (no or
// non-numeric X-Pepay-Timestamp, non-hex signature), ErrSignatureMismatch,
// ErrTimestampOutOfTolerance.
func (v *WebhookVerifier) Verify(payload []byte, h http.Header) error {
	return verifyDelivery(v.v, payload, h)
}

// verifyDelivery checks Pepay's headers: X-Pepay-Signature and X-Pepay-Signature-Previous over
// "<X-Pepay-Timestamp>.<payload>".
func verifyDelivery(v *webhook.TimestampVerifier, payload []byte, h http.Header) error {
	ts := h.Get(TimestampHeader)
	t, err := parseMillis(ts)
	if err != nil {
		return err
	}
	return v.VerifyAt(payload, ts, t, h.Get(SignatureHeader), h.Get(PreviousSignatureHeader))
}

// VerifyRequest reads r's body (size-limited, default 1 MiB), verifies it and returns the raw
// body.
func (v *WebhookVerifier) VerifyRequest(r *http.Request) ([]byte, error) {
	body, err := webhook.ReadBody(r, v.v.MaxPayloadBytes())
	if err != nil {
		return nil, err
	}
	if err := v.Verify(body, r.Header); err != nil {
		return nil, err
	}
	return body, nil
}

// ParseRequest verifies r and parses its body into an Event. Map an error to the response
// status with webhook.StatusCode (400 for signature and payload errors).
func (v *WebhookVerifier) ParseRequest(r *http.Request) (*Event, error) {
	body, err := v.VerifyRequest(r)
	if err != nil {
		return nil, err
	}
	return ParseEvent(body)
}

// parseMillis parses X-Pepay-Timestamp (unix milliseconds).
func parseMillis(ts string) (time.Time, error) {
	if ts == "" {
		return time.Time{}, fmt.Errorf("%w: no %s header", webhook.ErrMalformedSignature, TimestampHeader)
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || ms < 0 {
		return time.Time{}, fmt.Errorf("%w: %s is not unix milliseconds", webhook.ErrMalformedSignature, TimestampHeader)
	}
	return time.UnixMilli(ms), nil
}

// NewWebhookHandler returns the http.Handler for your Pepay webhook endpoint. For each POST it
// reads the body (1 MiB limit), verifies X-Pepay-Signature / X-Pepay-Signature-Previous over
// "<X-Pepay-Timestamp>.<body>", parses the Event, skips event ids already handled, calls fn and
// answers:
//
//   - 200 when fn returned nil, or for a duplicate;
//   - 400 invalid_signature / timestamp_out_of_range / invalid_payload, 413 for an oversized body;
//   - 500 when fn failed and 503 while the same event is being handled elsewhere (for example by
//     Stream with the same Deduper): Pepay retries any non-2xx, and a failed event is not
//     remembered, so the retry runs fn again.
//
// The dedupe key is the event's id exactly as the signed body carries it (Event.ID, which
// ParseEvent requires), the key Stream uses too: the same signed body always has the same key,
// whatever its signature timestamp, and the unsigned X-Pepay-Event-ID header plays no part.
//
// Options are the webhook package's, the same for every provider's handler:
// webhook.WithDeduper (default: one over a webhook.MemoryStore, in-process only; give the same
// Deduper to StreamParams.Deduper so an event that arrives by webhook and by WebSocket is
// processed once, and replicas a shared store such as webhook/sqlstore; nil turns dedupe off),
// webhook.WithLogger, webhook.WithPreviousSecrets, webhook.WithTolerance, webhook.WithClock and
// webhook.WithMaxPayloadBytes. Errors are *webhook.ConfigErrors naming the argument or option.
//
// Answer only after the event is durably recorded; fn receives the request's context.
func NewWebhookHandler(secret string, fn func(ctx context.Context, e *Event) error, opts ...webhook.Option) (http.Handler, error) {
	return hookpreset.Handler("pepay", "NewWebhookHandler", webhook.NewTimestampVerifier, webhookEndpoint, secret, fn, opts)
}

// webhookEndpoint is Pepay's delivery format around the verifier v.
func webhookEndpoint(v *webhook.TimestampVerifier) webhook.Endpoint[*Event] {
	return webhook.Endpoint[*Event]{
		Verify:  func(payload []byte, h http.Header) error { return verifyDelivery(v, payload, h) },
		Parse:   ParseEvent,
		EventID: func(_ []byte, _ http.Header, e *Event) string { return e.ID },
	}
}
