package jopay

import (
	"context"
	"errors"
	"log/slog"
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
// Errors: webhook.ErrEmptySecret, or an invalid option.
func NewWebhookVerifier(secret string, opts ...webhook.Option) (*WebhookVerifier, error) {
	v, err := webhook.NewTimestampVerifier(secret, opts...)
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

// WebhookOption configures NewWebhookHandler.
type WebhookOption func(*hookpreset.Config)

// WithVerifyOptions passes options to the signature verifier (webhook.WithPreviousSecrets,
// webhook.WithTolerance, webhook.WithClock, webhook.WithMaxPayloadBytes).
func WithVerifyOptions(opts ...webhook.Option) WebhookOption {
	return func(c *hookpreset.Config) { c.Verify = append(c.Verify, opts...) }
}

// WithDeduper sets the deduper (default: one over a webhook.MemoryStore, which dedupes within
// this process only; give replicas a shared store such as webhook/sqlstore). nil turns dedupe
// off: every verified delivery then runs the handler function.
func WithDeduper(d *webhook.Deduper) WebhookOption {
	return func(c *hookpreset.Config) { c.Deduper, c.DedupeSet = d, true }
}

// WithWebhookLogger logs rejected deliveries and handler failures (never bodies or secrets).
func WithWebhookLogger(l *slog.Logger) WebhookOption {
	return func(c *hookpreset.Config) { c.Logger = l }
}

// NewWebhookHandler returns the http.Handler for your JoPay webhook URL. For each POST it reads
// the body (1 MiB limit), verifies X-JoPay-Signature against secret, parses the Event, skips
// events already handled (DedupeKey: request id + event + tx hash, because JoPay's delivery_id
// changes between attempts), calls fn, and answers:
//
//   - 200 when fn returned nil, or for a duplicate: JoPay stops delivering;
//   - 400 for a bad signature, a stale timestamp or a malformed payload, 413 for an oversized
//     body: JoPay abandons a delivery on these, and redelivering could not help;
//   - 500 when fn failed, 503 while another worker handles the same event: JoPay retries
//     later, and the failed event is not remembered, so the retry runs fn again.
//
// JoPay waits 8 seconds for the answer; do slow work asynchronously, after recording the event.
// fn receives the request's context.
func NewWebhookHandler(secret string, fn func(ctx context.Context, e *Event) error, opts ...WebhookOption) (http.Handler, error) {
	if fn == nil {
		return nil, errors.New("jopay: nil webhook handler function")
	}
	cfg := hookpreset.Apply(opts)
	v, err := NewWebhookVerifier(secret, cfg.Verify...)
	if err != nil {
		return nil, err
	}
	hopts := cfg.HandlerOptions(v.v.MaxPayloadBytes())
	ep := webhook.Endpoint[*Event]{
		Verify: func(h http.Header, body []byte) error { return v.Verify(body, h.Get(SignatureHeader)) },
		Parse:  ParseEvent,
		EventID: func(_ http.Header, _ []byte, e *Event) string {
			return DedupeKey(e)
		},
	}
	return webhook.NewHandler(ep, fn, hopts...), nil
}
