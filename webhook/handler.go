package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Endpoint describes one provider's webhook delivery format; provider packages fill it in and
// hand it to NewHandler or NewEndpointHandler.
type Endpoint[E any] struct {
	// Verify checks the signature (and timestamp tolerance) of the raw payload against the
	// request headers. Required. TimestampVerifier.VerifyFunc(header) returns one, and the
	// method value SortedJSONVerifier.VerifyHeader is one.
	Verify func(payload []byte, h http.Header) error
	// Parse decodes the verified payload into a typed event. Required. An error that does not
	// already wrap ErrInvalidPayload is wrapped with it (answered 400).
	Parse func(payload []byte) (E, error)
	// EventID returns the dedupe key of a delivery ("" = do not dedupe this one). Optional;
	// without it the handler does not dedupe.
	EventID func(payload []byte, h http.Header, e E) string
	// Name names the endpoint in what the handler reports to its Observer (WithObserver),
	// for example the provider's package name "jopay". Optional.
	Name string
}

// NewHandler returns the http.Handler for a webhook endpoint: it accepts only POST (405
// otherwise), reads the body once with a size limit, verifies it, parses it, dedupes on the
// event id when the id is not empty, runs fn with the request's context, and answers with
// StatusCode of the outcome and a short, fixed plain-text body naming it: "ok", "duplicate",
// "invalid_signature", "timestamp_out_of_range", "invalid_payload", "payload_too_large",
// "in_flight", or a generic error text for a 500 (never the error itself).
//
// Options: WithDeduper (default, when ep.EventID is set: a Deduper over a new MemoryStore;
// nil turns dedupe off), WithLogger (default: discard), WithMaxPayloadBytes (default 1 MiB;
// larger bodies are answered 413), WithInbox, WithObserver (default: report nothing). Verifier options configure the verifier behind ep.Verify
// and are refused here.
//
// fn must be idempotent in effect: delivery is at-least-once even with a Deduper (see Do).
// Answering 2xx only after fn returned nil means an event is never acknowledged unprocessed.
//
// NewHandler panics if ep.Verify, ep.Parse or fn is nil (a webhook endpoint without
// verification is a security bug, not a configuration to run with) or an option is invalid,
// like regexp.MustCompile: these are programming errors. NewEndpointHandler returns them as
// an error instead.
func NewHandler[E any](ep Endpoint[E], fn func(ctx context.Context, e E) error, opts ...Option) http.Handler {
	h, err := newHandler("NewHandler", ep, fn, opts)
	if err != nil {
		panic(err.Error())
	}
	return h
}

// NewEndpointHandler is NewHandler reporting a nil ep.Verify, ep.Parse or fn, or an invalid
// or inapplicable option, as a *ConfigError instead of panicking. The provider packages'
// webhook handler constructors are built on it.
func NewEndpointHandler[E any](ep Endpoint[E], fn func(ctx context.Context, e E) error, opts ...Option) (http.Handler, error) {
	return newHandler("NewEndpointHandler", ep, fn, opts)
}

func newHandler[E any](name string, ep Endpoint[E], fn func(context.Context, E) error, opts []Option) (http.Handler, error) {
	var arg string
	switch {
	case ep.Verify == nil:
		arg = "Endpoint.Verify"
	case ep.Parse == nil:
		arg = "Endpoint.Parse"
	case fn == nil:
		arg = "fn"
	}
	if arg != "" {
		return nil, &ConfigError{Package: "webhook", Func: name, Arg: arg, Err: errors.New("nil function")}
	}
	o, err := apply(opts)
	if err == nil && o.verifierOnly != "" {
		err = &ConfigError{Arg: o.verifierOnly,
			Err: errors.New("applies to verifiers, not to a handler: pass it to the constructor of the verifier behind Endpoint.Verify")}
	}
	if err != nil {
		return nil, withFunc(err, name)
	}
	h := &handler[E]{ep: ep, fn: fn, deduper: o.deduper, logger: o.logger, maxBytes: o.maxPayloadBytes,
		obs: o.observer, name: ep.Name}
	if h.name == "" {
		h.name = o.inboxEndpoint
	}
	if !o.dedupeSet && ep.EventID != nil {
		h.deduper = NewDeduper(NewMemoryStore(), WithDedupeObserver(o.observer))
	}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	if o.inbox != nil {
		h.inbox, h.inboxEndpoint = o.inbox, o.inboxEndpoint
		if err := o.inbox.Register(o.inboxEndpoint, h.process); err != nil {
			return nil, &ConfigError{Package: "webhook", Func: name, Arg: "WithInbox", Err: err}
		}
	}
	return h, nil
}

// process runs a delivery the inbox stored: the body was verified when it arrived, so it is
// parsed again (not verified again: a timestamp may be past its tolerance by now) and the
// handler function runs under the Deduper with the stored key. A duplicate counts as done; any
// other error makes the inbox retry the delivery later.
func (h *handler[E]) process(ctx context.Context, d *Delivery) error {
	event, err := h.ep.Parse(d.Body)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidPayload, err)
	}
	run := func(ctx context.Context) error { return h.fn(ctx, event) }
	if h.deduper == nil || d.Key == "" {
		return run(ctx)
	}
	if err := h.deduper.Do(ctx, d.Key, run); err != nil && !errors.Is(err, ErrDuplicate) {
		return err
	}
	return nil
}

type handler[E any] struct {
	ep       Endpoint[E]
	fn       func(context.Context, E) error
	deduper  *Deduper // nil: no dedupe
	logger   *slog.Logger
	maxBytes int64

	inbox         Inbox // nil: run fn while the request waits
	inboxEndpoint string

	obs  Observer // nil: report nothing
	name string   // the endpoint's name in reports
}

func (h *handler[E]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		if h.obs != nil {
			h.obs.Rejected(r.Context(), Rejection{Reason: RejectMethod, Endpoint: h.name, Status: http.StatusMethodNotAllowed})
		}
		writeText(w, http.StatusMethodNotAllowed, "method_not_allowed")
		return
	}
	ctx := r.Context()
	body, err := ReadBody(r, h.maxBytes)
	if err != nil {
		h.reject(ctx, w, r, "read", err)
		return
	}
	if err := h.ep.Verify(body, r.Header); err != nil {
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
		id = h.ep.EventID(body, r.Header, event)
	}
	if h.inbox != nil {
		h.enqueue(ctx, w, r, id, body)
		return
	}
	run := func(ctx context.Context) error { return h.fn(ctx, event) }
	if h.deduper != nil && id != "" {
		err = h.deduper.Do(ctx, id, run)
	} else {
		err = run(ctx)
	}
	status := StatusCode(err)
	if h.obs != nil && errors.Is(err, ErrInFlight) {
		h.obs.Rejected(ctx, Rejection{Reason: RejectInFlight, Endpoint: h.name, Status: status, Err: err})
	}
	switch {
	case err == nil:
	case errors.Is(err, ErrDuplicate), errors.Is(err, ErrInFlight):
		h.logger.LogAttrs(ctx, slog.LevelInfo, "webhook: delivery not run",
			slog.String("reason", responseText(err)), slog.String("event_id", id), slog.Int("status", status))
	default:
		h.logger.LogAttrs(ctx, slog.LevelError, "webhook: handler failed",
			slog.String("event_id", id), slog.Int("status", status), slog.String("error", err.Error()))
	}
	writeText(w, status, responseText(err))
}

// enqueue stores a verified delivery in the inbox and answers 200 "queued" once it is
// committed, or 500 so that the provider delivers it again.
func (h *handler[E]) enqueue(ctx context.Context, w http.ResponseWriter, r *http.Request, id string, body []byte) {
	d := &Delivery{Endpoint: h.inboxEndpoint, Key: id, Body: body, Header: r.Header.Clone(), ReceivedAt: time.Now()}
	if err := h.inbox.Enqueue(ctx, d); err != nil {
		h.logger.LogAttrs(ctx, slog.LevelError, "webhook: delivery not queued",
			slog.String("event_id", id), slog.Int("status", http.StatusInternalServerError), slog.String("error", err.Error()))
		writeText(w, http.StatusInternalServerError, "internal_error")
		return
	}
	writeText(w, http.StatusOK, "queued")
}

// reject answers a delivery refused before the handler ran and logs it at Warn (at Error when
// the cause is not the delivery's fault, such as a failing body read, answered 500).
func (h *handler[E]) reject(ctx context.Context, w http.ResponseWriter, r *http.Request, stage string, err error) {
	status := StatusCode(err)
	level := slog.LevelWarn
	if status >= 500 {
		level = slog.LevelError
	}
	h.logger.LogAttrs(ctx, level, "webhook: delivery rejected",
		slog.String("stage", stage), slog.Int("status", status), slog.String("error", err.Error()),
		slog.String("path", r.URL.Path), slog.String("remote_addr", r.RemoteAddr))
	if h.obs != nil {
		reason := ReasonOf(err)
		if stage == "read" && reason == RejectOther {
			reason = RejectReadError
		}
		h.obs.Rejected(ctx, Rejection{Reason: reason, Endpoint: h.name, Status: status, Err: err})
	}
	writeText(w, status, responseText(err))
}
