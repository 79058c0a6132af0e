// Package hookpreset holds what the provider packages' webhook handler presets
// (jopay.NewWebhookHandler, jopaycheckout.NewWebhookHandler, pepay.NewWebhookHandler,
// jovepay.NewIPNHandler) share: the handler options they accept and how those become
// webhook.HandlerOptions, so the four presets cannot drift apart on defaults such as the
// in-memory deduper or the payload limit.
package hookpreset

import (
	"log/slog"

	"github.com/paykit-go/paykit/webhook"
)

// Config is what a preset's options set.
type Config struct {
	// Verify are the options for the provider's signature verifier.
	Verify []webhook.Option
	// Deduper is the deduper the caller chose; with DedupeSet false the preset makes an
	// in-memory one, and with DedupeSet true a nil Deduper turns dedupe off.
	Deduper   *webhook.Deduper
	DedupeSet bool
	// Logger logs rejected deliveries and handler failures; nil is silent.
	Logger *slog.Logger
}

// Apply runs the options (nil ones are skipped) over a zero Config. It is generic so each
// provider package keeps its own named option type.
func Apply[O ~func(*Config)](opts []O) Config {
	var c Config
	for _, opt := range opts {
		if opt != nil {
			opt(&c)
		}
	}
	return c
}

// HandlerOptions turns c into webhook.NewHandler options: the verifier's payload limit (so the
// handler and the verifier refuse the same bodies), the deduper — a new in-process
// webhook.MemoryStore one unless the caller set one or turned dedupe off — and the logger.
func (c Config) HandlerOptions(maxPayloadBytes int64) []webhook.HandlerOption {
	opts := []webhook.HandlerOption{webhook.WithHandlerMaxPayloadBytes(maxPayloadBytes)}
	d := c.Deduper
	if !c.DedupeSet {
		d = webhook.NewDeduper(webhook.NewMemoryStore())
	}
	if d != nil {
		opts = append(opts, webhook.WithDeduper(d))
	}
	if c.Logger != nil {
		opts = append(opts, webhook.WithHandlerLogger(c.Logger))
	}
	return opts
}
