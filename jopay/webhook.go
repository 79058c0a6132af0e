package jopay

import (
	"context"
	"net/http"

	"github.com/paykit-go/paykit/internal/hookpreset"
	"github.com/paykit-go/paykit/webhook"
)

// SignatureHeader carries JoPay's webhook signature: "v1=<hex>,t=<unix seconds>", an
// HMAC-SHA256 of "<t>.<raw body>" keyed with the webhook secret.
const SignatureHeader = "X-JoPay-Signature"

// WebhookVerifier checks JoPay webhook signatures. It is safe for concurrent use.
type WebhookVerifier struct {
	v *webhook.TimestampVerifier
}

// NewWebhookVerifier returns a verifier for the webhook secret (the 64-hex-character string
// from the dashboard, used as the HMAC key as is). Pass webhook.WithPreviousSecrets(old) while
// a rotation is in progress, webhook.WithTolerance to change the default 5-minute window.
// Errors are *webhook.ConfigErrors naming the argument or option: an empty secret (wrapping
// webhook.ErrEmptySecret), an invalid option, or a handler option (webhook.WithDeduper,
// webhook.WithLogger), which only NewWebhookHandler takes.
func NewWebhookVerifier(secret string, opts ...webhook.Option) (*WebhookVerifier, error) {
	v, err := hookpreset.Verifier("jopay", "NewWebhookVerifier", webhook.NewTimestampVerifier, secret, opts)
	if err != nil {
		return nil, err
	}
	return &WebhookVerifier{v: v}, nil
}

// Verify checks the X-JoPay-Signature header value against the raw payload. Errors wrap the
// webhook sentinels (ErrMissingSignature, ErrMalformedSignature, ErrSignatureMismatch,
// ErrTimestampOutOfTolerance).
func (v *WebhookVerifier) Verify(payload []byte, signature string) error {
	return v.v.Verify(payload, signature)
}

// VerifyRequest reads r's body (size-limited), verifies its X-JoPay-Signature and returns the
// raw body.
func (v *WebhookVerifier) VerifyRequest(r *http.Request) ([]byte, error) {
	return v.v.VerifyRequest(r, SignatureHeader)
}

// ParseRequest verifies r and parses its body into an Event. Map an error to the response
// status with webhook.StatusCode.
func (v *WebhookVerifier) ParseRequest(r *http.Request) (*Event, error) {
	body, err := v.VerifyRequest(r)
	if err != nil {
		return nil, err
	}
	return ParseEvent(body)
}

// NewWebhookHandler returns the http.Handler for your JoPay webhook URL. For each POST it reads
// the body (1 MiB limit), verifies X-JoPay-Signature against secret, parses the Event, skips
// events already handled (DedupeKey: request id + event + tx hash from the signed body, because
// JoPay's delivery_id changes between attempts; a redelivery or a replay within the tolerance
// is a duplicate whatever its signature timestamp), calls fn, and answers:
//
//   - 200 when fn returned nil, or for a duplicate: JoPay stops delivering;
//   - 400 for a bad signature, a stale timestamp or a malformed payload, 413 for an oversized
//     body: JoPay abandons a delivery on these, and redelivering could not help;
//   - 500 when fn failed, 503 while another worker handles the same event: JoPay retries
//     later, and the failed event is not remembered, so the retry runs fn again.
//
// Options are the webhook package's, the same for every provider's handler:
// webhook.WithDeduper (default: one over a webhook.MemoryStore, which dedupes within this
// process only; give replicas a shared store such as webhook/sqlstore; nil turns dedupe off),
// webhook.WithLogger, webhook.WithPreviousSecrets, webhook.WithTolerance, webhook.WithClock and
// webhook.WithMaxPayloadBytes. Errors are *webhook.ConfigErrors naming the argument or option,
// for example "jopay: NewWebhookHandler: WithTolerance: must be positive, got 0s".
//
// JoPay waits 8 seconds for the answer; do slow work asynchronously, after recording the event.
// fn receives the request's context.
func NewWebhookHandler(secret string, fn func(ctx context.Context, e *Event) error, opts ...webhook.Option) (http.Handler, error) {
	endpoint := hookpreset.TimestampEndpoint(SignatureHeader, ParseEvent, DedupeKey)
	return hookpreset.Handler("jopay", "NewWebhookHandler", webhook.NewTimestampVerifier, endpoint, secret, fn, opts)
}
