package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Endpoint describes one provider's webhook delivery format; provider packages fill it in and
// hand it to NewHandler.
type Endpoint[E any] struct {
	// Verify checks the signature (and timestamp tolerance) of the raw body against the request
	// headers. Required.
	Verify func(h http.Header, body []byte) error
	// Parse decodes the verified body into a typed event. Required. An error that does not
	// already wrap ErrInvalidPayload is wrapped with it (answered 400).
	Parse func(body []byte) (E, error)
	// EventID returns the dedupe key of a delivery ("" = do not dedupe this one). Optional.
	EventID func(h http.Header, body []byte, e E) string
}

// HandlerOption configures NewHandler.
type HandlerOption func(*handlerConfig)

type handlerConfig struct {
	deduper  *Deduper
	logger   *slog.Logger
	maxBytes int64
}

// WithDeduper makes the handler run each event id at most once at a time and skip ids already
// completed (see Deduper). Without it every verified delivery runs the handler function.
func WithDeduper(d *Deduper) HandlerOption {
	return func(c *handlerConfig) { c.deduper = d }
}

// WithHandlerLogger sets the logger for rejected deliveries (Warn) and handler failures (Error).
// Log lines carry the outcome, status, error and event id, never the body or a secret. The
// default discards logs.
func WithHandlerLogger(l *slog.Logger) HandlerOption {
	return func(c *handlerConfig) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithHandlerMaxPayloadBytes sets the largest body the handler reads (default 1 MiB); larger
// deliveries are answered 413. Non-positive values keep the default.
func WithHandlerMaxPayloadBytes(n int64) HandlerOption {
	return func(c *handlerConfig) {
		if n > 0 {
			c.maxBytes = n
		}
	}
}

// NewHandler returns the http.Handler for a webhook endpoint: it accepts only POST (405
// otherwise), reads the body once with a size limit, verifies it, parses it, dedupes on the
// event id when a Deduper is configured and the id is not empty, runs fn with the request's
// context, and answers with StatusCode of the outcome and a short plain-text body
// ("ok", "duplicate", "invalid_signature", "timestamp_out_of_range", "invalid_payload",
// "payload_too_large", "in_flight", "internal_error").
//
// fn must be idempotent in effect: delivery is at-least-once even with a Deduper (see Do).
// Answering 2xx only after fn returned nil means an event is never acknowledged unprocessed.
//
// NewHandler panics if ep.Verify, ep.Parse or fn is nil: a webhook endpoint without
// verification is a security bug, not a configuration to run with.
func NewHandler[E any](ep Endpoint[E], fn func(ctx context.Context, e E) error, opts ...HandlerOption) http.Handler {
	if ep.Verify == nil || ep.Parse == nil || fn == nil {
		panic("webhook: NewHandler needs Endpoint.Verify, Endpoint.Parse and a handler function")
	}
	cfg := handlerConfig{logger: slog.New(slog.DiscardHandler), maxBytes: DefaultMaxPayloadBytes}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	return &handler[E]{ep: ep, fn: fn, cfg: cfg}
}

type handler[E any] struct {
	ep  Endpoint[E]
	fn  func(context.Context, E) error
	cfg handlerConfig
}

func (h *handler[E]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeText(w, http.StatusMethodNotAllowed, "method_not_allowed")
		return
	}
	ctx := r.Context()
	body, err := ReadBody(r, h.cfg.maxBytes)
	if err != nil {
		h.reject(ctx, w, r, "read", err)
		return
	}
	if err := h.ep.Verify(r.Header, body); err != nil {
		h.reject(ctx, w, r, "verify", err)
		return
	}
	event, err := h.ep.Parse(body)
	if err != nil {
		if !errors.Is(err, ErrInvalidPayload) {
			err = fmt.Errorf("%w: %w", ErrInvalidPayload, err)
		}
		h.reject(ctx, w, r, "parse", err)
		return
	}
	var id string
	if h.ep.EventID != nil {
		id = h.ep.EventID(r.Header, body, event)
	}
	run := func(ctx context.Context) error { return h.fn(ctx, event) }
	if h.cfg.deduper != nil && id != "" {
		err = h.cfg.deduper.Do(ctx, id, run)
	} else {
		err = run(ctx)
	}
	status := StatusCode(err)
	switch {
	case err == nil:
	case errors.Is(err, ErrDuplicate), errors.Is(err, ErrInFlight):
		h.cfg.logger.LogAttrs(ctx, slog.LevelInfo, "webhook: delivery not run",
			slog.String("reason", responseText(err)), slog.String("event_id", id), slog.Int("status", status))
	default:
		h.cfg.logger.LogAttrs(ctx, slog.LevelError, "webhook: handler failed",
			slog.String("event_id", id), slog.Int("status", status), slog.String("error", err.Error()))
	}
	writeText(w, status, responseText(err))
}

// reject answers a delivery refused before the handler ran and logs it at Warn (at Error when
// the cause is not the delivery's fault, such as a failing body read, answered 500).
func (h *handler[E]) reject(ctx context.Context, w http.ResponseWriter, r *http.Request, stage string, err error) {
	status := StatusCode(err)
	level := slog.LevelWarn
	if status >= 500 {
		level = slog.LevelError
	}
	h.cfg.logger.LogAttrs(ctx, level, "webhook: delivery rejected",
		slog.String("stage", stage), slog.Int("status", status), slog.String("error", err.Error()),
		slog.String("path", r.URL.Path), slog.String("remote_addr", r.RemoteAddr))
	writeText(w, status, responseText(err))
}
