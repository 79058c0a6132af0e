package jovepay

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/paykit-go/paykit/internal/hookpreset"
	"github.com/paykit-go/paykit/webhook"
)

// Signature headers IPNs may carry. JovePay's seed names x-jovepay-sig; NOWPayments, whose API
// JovePay mirrors, sends x-nowpayments-sig [assumed: either may arrive].
const (
	SignatureHeader            = "x-jovepay-sig"
	NOWPaymentsSignatureHeader = "x-nowpayments-sig"
)

// IPNOption configures NewIPNVerifier and NewIPNHandler (handler-only options are ignored by
// the verifier).
type IPNOption func(*ipnConfig) error

type ipnConfig struct {
	headers     []string
	rawFallback bool
	previous    []string
	maxBytes    int64
	deduper     *webhook.Deduper
	dedupeSet   bool
	logger      *slog.Logger
}

// WithSignatureHeaders replaces the headers the signature is read from (default
// x-jovepay-sig, then x-nowpayments-sig). Every non-empty one is tried.
func WithSignatureHeaders(names ...string) IPNOption {
	return func(c *ipnConfig) error {
		if len(names) == 0 {
			return errors.New("no signature header names")
		}
		for _, n := range names {
			if strings.TrimSpace(n) == "" {
				return errors.New("empty signature header name")
			}
		}
		c.headers = append([]string(nil), names...)
		return nil
	}
}

// WithRawBodyHMACFallback also accepts a hex HMAC-SHA256 of the raw body in the signature
// header. Some JovePay-branded integration code checks that instead of the documented
// HMAC-SHA512 over sorted JSON; the docs do not confirm it, so it is off unless you opt in.
func WithRawBodyHMACFallback() IPNOption {
	return func(c *ipnConfig) error { c.rawFallback = true; return nil }
}

// WithPreviousIPNSecrets accepts IPNs signed with older secrets too, while you rotate the IPN
// secret in the dashboard.
func WithPreviousIPNSecrets(secrets ...string) IPNOption {
	return func(c *ipnConfig) error {
		for _, s := range secrets {
			if s == "" {
				return fmt.Errorf("previous IPN secret: %w", webhook.ErrEmptySecret)
			}
		}
		c.previous = append(c.previous, secrets...)
		return nil
	}
}

// WithIPNMaxPayloadBytes sets the largest IPN body accepted (default 1 MiB; larger: 413).
func WithIPNMaxPayloadBytes(n int64) IPNOption {
	return func(c *ipnConfig) error {
		if n <= 0 {
			return fmt.Errorf("max payload bytes must be positive, got %d", n)
		}
		c.maxBytes = n
		return nil
	}
}

// WithIPNDeduper sets the deduper NewIPNHandler uses. The default is an in-memory one, which
// suits a single process; several instances behind a load balancer need a shared store
// (webhook/sqlstore). nil turns dedupe off.
func WithIPNDeduper(d *webhook.Deduper) IPNOption {
	return func(c *ipnConfig) error { c.deduper, c.dedupeSet = d, true; return nil }
}

// WithIPNLogger logs rejected deliveries and handler failures (never bodies or secrets).
func WithIPNLogger(l *slog.Logger) IPNOption {
	return func(c *ipnConfig) error {
		if l == nil {
			return errors.New("nil *slog.Logger")
		}
		c.logger = l
		return nil
	}
}

// IPNVerifier checks IPN signatures: hex HMAC-SHA512, keyed with the IPN secret, over the body
// with its keys sorted. It accepts a signature made by any of the seed's three reference
// programs (Node, PHP, Python), which disagree on edge cases, and compares in constant time.
type IPNVerifier struct {
	sorted   *webhook.SortedJSONVerifier
	headers  []string
	raw      [][]byte // keys for the raw-body HMAC-SHA256 fallback; nil when off
	maxBytes int64
}

// NewIPNVerifier returns a verifier for the IPN secret from the dashboard (an empty secret
// fails with webhook.ErrEmptySecret).
func NewIPNVerifier(secret string, opts ...IPNOption) (*IPNVerifier, error) {
	cfg, err := ipnOptions(opts)
	if err != nil {
		return nil, err
	}
	return newIPNVerifier(secret, &cfg)
}

func ipnOptions(opts []IPNOption) (ipnConfig, error) {
	cfg := ipnConfig{headers: []string{SignatureHeader, NOWPaymentsSignatureHeader}, maxBytes: webhook.DefaultMaxPayloadBytes}
	for i, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return cfg, fmt.Errorf("jovepay: IPN option %d: %w", i+1, err)
		}
	}
	return cfg, nil
}

func newIPNVerifier(secret string, cfg *ipnConfig) (*IPNVerifier, error) {
	vopts := []webhook.Option{webhook.WithMaxPayloadBytes(cfg.maxBytes)}
	if len(cfg.previous) > 0 {
		vopts = append(vopts, webhook.WithPreviousSecrets(cfg.previous...))
	}
	sorted, err := webhook.NewSortedJSONVerifier(secret, vopts...)
	if err != nil {
		return nil, fmt.Errorf("jovepay: IPN verifier: %w", err)
	}
	v := &IPNVerifier{sorted: sorted, headers: cfg.headers, maxBytes: cfg.maxBytes}
	if cfg.rawFallback {
		for _, s := range append([]string{secret}, cfg.previous...) {
			v.raw = append(v.raw, []byte(s))
		}
	}
	return v, nil
}

// VerifySignature checks one signature value against the raw body. Errors wrap the webhook
// sentinels: ErrMissingSignature, ErrSignatureMismatch, ErrInvalidPayload (a body that is not
// JSON cannot have a sorted-JSON signature).
func (v *IPNVerifier) VerifySignature(body []byte, signature string) error {
	signature = strings.TrimSpace(signature)
	if signature == "" {
		return webhook.ErrMissingSignature
	}
	err := v.sorted.Verify(body, signature)
	if err == nil || v.raw == nil {
		return err
	}
	if got, herr := hex.DecodeString(strings.ToLower(signature)); herr == nil && len(got) == sha256.Size {
		for _, key := range v.raw {
			m := hmac.New(sha256.New, key)
			m.Write(body)
			if hmac.Equal(m.Sum(nil), got) {
				return nil
			}
		}
	}
	return err
}

// Verify checks the signature found in the configured headers (x-jovepay-sig, then
// x-nowpayments-sig, by default); any one that verifies is enough.
func (v *IPNVerifier) Verify(h http.Header, body []byte) error {
	var first error
	for _, name := range v.headers {
		sig := h.Get(name)
		if sig == "" {
			continue
		}
		err := v.VerifySignature(body, sig)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	if first == nil {
		return fmt.Errorf("jovepay: no %s header: %w", strings.Join(v.headers, " or "), webhook.ErrMissingSignature)
	}
	return first
}

// VerifyRequest reads the request body (bounded by WithIPNMaxPayloadBytes), verifies it and
// returns the raw bytes for ParseIPN. Map errors to a status with webhook.StatusCode.
func (v *IPNVerifier) VerifyRequest(r *http.Request) ([]byte, error) {
	body, err := webhook.ReadBody(r, v.maxBytes)
	if err != nil {
		return nil, err
	}
	if err := v.Verify(r.Header, body); err != nil {
		return nil, err
	}
	return body, nil
}

// NewIPNHandler returns the http.Handler to mount at your ipn_callback_url. For each POST it
// reads the body (1 MiB max), verifies the signature (400 if bad), parses it (ParseIPN; 400 if
// malformed), dedupes on IPN.DedupeKey — IPNs carry no event id, so the key is payment id +
// status + actually_paid — and calls fn with the request's context. fn's error is answered 500
// so JovePay re-sends the IPN; nil is answered 200. A duplicate of an IPN fn already handled is
// answered 200 without calling fn.
//
// Dedupe is in memory by default (WithIPNDeduper for a shared store). fn must still be
// idempotent in effect: delivery is at least once, and a restart forgets in-memory keys.
func NewIPNHandler(secret string, fn func(ctx context.Context, ipn *IPN) error, opts ...IPNOption) (http.Handler, error) {
	if fn == nil {
		return nil, errors.New("jovepay: NewIPNHandler needs a handler function")
	}
	cfg, err := ipnOptions(opts)
	if err != nil {
		return nil, err
	}
	v, err := newIPNVerifier(secret, &cfg)
	if err != nil {
		return nil, err
	}
	hopts := hookpreset.Config{Deduper: cfg.deduper, DedupeSet: cfg.dedupeSet, Logger: cfg.logger}.
		HandlerOptions(cfg.maxBytes)
	return webhook.NewHandler(webhook.Endpoint[*IPN]{
		Verify:  v.Verify,
		Parse:   ParseIPN,
		EventID: func(_ http.Header, _ []byte, ipn *IPN) string { return ipn.DedupeKey() },
	}, fn, hopts...), nil
}
