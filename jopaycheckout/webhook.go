package jopaycheckout

import (
	"context"
	"net/http"

	"github.com/paykit-go/paykit/internal/hookpreset"
	"github.com/paykit-go/paykit/webhook"
)

// SignatureHeader carries the webhook signature: "t=<unix seconds>,v1=<hex HMAC-SHA256>" over
// "<t>.<raw body>". Entries are accepted in any order.
const SignatureHeader = "X-JoPay-Signature"

// WebhookVerifier checks X-JoPay-Signature on Checkout webhooks. It is safe for concurrent use.
type WebhookVerifier struct {
	v *webhook.TimestampVerifier
}

// NewWebhookVerifier returns a verifier for the Checkout webhook secret (Admin → Settings →
// Checkout Webhook). Options: webhook.WithTolerance (default 5 minutes, past and future),
// webhook.WithPreviousSecrets (rotation), webhook.WithClock, webhook.WithMaxPayloadBytes.
// Errors are *webhook.ConfigErrors naming the argument or option: an empty secret (wrapping
// webhook.ErrEmptySecret), an invalid option, or a handler option (webhook.WithDeduper,
// webhook.WithLogger), which only NewWebhookHandler takes.
func NewWebhookVerifier(secret string, opts ...webhook.Option) (*WebhookVerifier, error) {
	v, err := hookpreset.Verifier("jopaycheckout", "NewWebhookVerifier", webhook.NewTimestampVerifier, secret, opts)
	if err != nil {
		return nil, err
	}
	return &WebhookVerifier{v: v}, nil
}

// Verify checks the signature header value against the raw payload bytes. Errors are the
// webhook package's sentinels (errors.Is): ErrMissingSignature, ErrMalformedSignature,
// ErrSignatureMismatch, ErrTimestampOutOfTolerance.
func (v *WebhookVerifier) Verify(payload []byte, signatureHeader string) error {
	return v.v.Verify(payload, signatureHeader)
}

// VerifyRequest reads r's body (bounded by webhook.WithMaxPayloadBytes), verifies
// X-JoPay-Signature and returns the raw body.
func (v *WebhookVerifier) VerifyRequest(r *http.Request) ([]byte, error) {
	return v.v.VerifyRequest(r, SignatureHeader)
}

// ParseRequest verifies r like VerifyRequest and parses the event. Map its error to a response
// status with webhook.StatusCode.
func (v *WebhookVerifier) ParseRequest(r *http.Request) (*Event, error) {
	body, err := v.VerifyRequest(r)
	if err != nil {
		return nil, err
	}
	return ParseEvent(body)
}

// NewWebhookHandler returns the http.Handler for your Checkout webhook endpoint. For each POST
// it reads the body (1 MiB limit), verifies X-JoPay-Signature on the raw bytes, parses the
// event, runs fn at most once per DedupeKey (the payload has no event id; see DedupeKey), and
// answers:
//
//   - 200 when fn succeeded, or the event was already handled;
//   - 400 for a bad or stale signature or an unparsable payload (redelivery cannot help);
//   - 413 for a body over the limit (default 1 MiB);
//   - 503 while another worker is handling the same event;
//   - 500 when fn failed: the event is not marked done, so JoPay's redelivery runs fn again.
//
// Options are the webhook package's, the same for every provider's handler:
// webhook.WithDeduper (default: one over a webhook.MemoryStore, which dedupes within this
// process only; give replicas a shared store such as webhook/sqlstore; nil turns dedupe off),
// webhook.WithLogger, webhook.WithPreviousSecrets, webhook.WithTolerance, webhook.WithClock and
// webhook.WithMaxPayloadBytes. Errors are *webhook.ConfigErrors naming the argument or option.
//
// fn gets every event type, known or not, with the request's context; fulfil only when
// e.IsPaid(). Keep fulfilment idempotent per order: delivery is at least once.
func NewWebhookHandler(secret string, fn func(ctx context.Context, e *Event) error, opts ...webhook.Option) (http.Handler, error) {
	endpoint := hookpreset.TimestampEndpoint(SignatureHeader, ParseEvent, DedupeKey)
	return hookpreset.Handler("jopaycheckout", "NewWebhookHandler", webhook.NewTimestampVerifier, endpoint, secret, fn, opts)
}
