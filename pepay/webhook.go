package pepay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	// EventTypeHeader and EventIDHeader repeat the event's type and id. They are not signed:
	// the handler dedupes on the id from the (signed) body.
	EventTypeHeader = "X-Pepay-Event"
	EventIDHeader   = "X-Pepay-Event-ID"
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
// Errors: webhook.ErrEmptySecret, or an invalid option.
func NewWebhookVerifier(secret string, opts ...webhook.Option) (*WebhookVerifier, error) {
	v, err := webhook.NewTimestampVerifier(secret, opts...)
	if err != nil {
		return nil, err
	}
	return &WebhookVerifier{v: v}, nil
}

// Verify checks a delivery's headers against its raw body. Errors wrap the webhook sentinels:
// ErrMissingSignature (no signature header), ErrMalformedSignature (no or non-numeric
// X-Pepay-Timestamp, non-hex signature), ErrSignatureMismatch, ErrTimestampOutOfTolerance.
func (v *WebhookVerifier) Verify(h http.Header, body []byte) error {
	ts := h.Get(TimestampHeader)
	t, err := parseMillis(ts)
	if err != nil {
		return err
	}
	return v.v.VerifyAt(body, ts, t, h.Get(SignatureHeader), h.Get(PreviousSignatureHeader))
}

// VerifyRequest reads r's body (size-limited, default 1 MiB), verifies it and returns the raw
// body.
func (v *WebhookVerifier) VerifyRequest(r *http.Request) ([]byte, error) {
	body, err := webhook.ReadBody(r, v.v.MaxPayloadBytes())
	if err != nil {
		return nil, err
	}
	if err := v.Verify(r.Header, body); err != nil {
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

// SignWebhook returns the headers Pepay would send for body signed with secret at ts
// (X-Pepay-Timestamp in milliseconds and X-Pepay-Signature), for tests and fake servers. Add
// X-Pepay-Signature-Previous with SignWebhookPrevious during a rotation.
func SignWebhook(secret string, ts time.Time, body []byte) http.Header {
	ms := strconv.FormatInt(ts.UnixMilli(), 10)
	h := http.Header{}
	h.Set(TimestampHeader, ms)
	h.Set(SignatureHeader, webhook.Sign(secret, ms, body))
	return h
}

// SignWebhookPrevious adds X-Pepay-Signature-Previous, made with the previous secret over the
// same timestamp, to headers made by SignWebhook.
func SignWebhookPrevious(h http.Header, previousSecret string, body []byte) {
	h.Set(PreviousSignatureHeader, webhook.Sign(previousSecret, h.Get(TimestampHeader), body))
}

// WebhookOption configures NewWebhookHandler.
type WebhookOption func(*hookpreset.Config)

// WithVerifyOptions passes options to the signature verifier (webhook.WithPreviousSecrets,
// webhook.WithTolerance, webhook.WithClock, webhook.WithMaxPayloadBytes).
func WithVerifyOptions(opts ...webhook.Option) WebhookOption {
	return func(c *hookpreset.Config) { c.Verify = append(c.Verify, opts...) }
}

// WithDeduper sets the deduper (default: one over a webhook.MemoryStore, in-process only). Give
// the same Deduper to StreamParams.Deduper so an event that arrives by webhook and by WebSocket
// is processed once; give replicas a shared store (webhook/sqlstore). nil turns dedupe off.
func WithDeduper(d *webhook.Deduper) WebhookOption {
	return func(c *hookpreset.Config) { c.Deduper, c.DedupeSet = d, true }
}

// WithWebhookLogger logs rejected deliveries and handler failures (never bodies or secrets).
func WithWebhookLogger(l *slog.Logger) WebhookOption {
	return func(c *hookpreset.Config) { c.Logger = l }
}

// NewWebhookHandler returns the http.Handler for your Pepay webhook endpoint. For each POST it
// reads the body (1 MiB limit), verifies X-Pepay-Signature / X-Pepay-Signature-Previous over
// "<X-Pepay-Timestamp>.<body>", parses the Event, skips event ids already handled (the id from
// the signed body; X-Pepay-Event-ID is only a fallback because headers are not signed), calls
// fn and answers:
//
//   - 200 when fn returned nil, or for a duplicate;
//   - 400 invalid_signature / timestamp_out_of_range / invalid_payload, 413 for an oversized body;
//   - 500 when fn failed and 503 while the same event is being handled elsewhere (for example by
//     Stream with the same Deduper): Pepay retries any non-2xx, and a failed event is not
//     remembered, so the retry runs fn again.
//
// Answer only after the event is durably recorded; fn receives the request's context.
func NewWebhookHandler(secret string, fn func(ctx context.Context, e *Event) error, opts ...WebhookOption) (http.Handler, error) {
	if fn == nil {
		return nil, errors.New("pepay: nil webhook handler function")
	}
	cfg := hookpreset.Apply(opts)
	v, err := NewWebhookVerifier(secret, cfg.Verify...)
	if err != nil {
		return nil, err
	}
	hopts := cfg.HandlerOptions(v.v.MaxPayloadBytes())
	ep := webhook.Endpoint[*Event]{
		Verify: v.Verify,
		Parse:  ParseEvent,
		EventID: func(h http.Header, _ []byte, e *Event) string {
			if e != nil && e.ID != "" {
				return e.ID
			}
			return h.Get(EventIDHeader)
		},
	}
	return webhook.NewHandler(ep, fn, hopts...), nil
}
