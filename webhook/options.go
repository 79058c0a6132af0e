package webhook

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Defaults applied by the verifiers and handlers.
const (
	// DefaultTolerance is how far a signed timestamp may be from now, in either direction.
	DefaultTolerance = 5 * time.Minute
	// DefaultMaxPayloadBytes is the largest body VerifyRequest and the handlers accept.
	DefaultMaxPayloadBytes int64 = 1 << 20
)

// Option configures the verifiers (NewTimestampVerifier, NewSortedJSONVerifier), the handlers
// (NewHandler, NewEndpointHandler), and the provider packages' webhook verifier and handler
// constructors, which take one option list for both.
//
// Each option applies to verifiers, to handlers, or to both (WithMaxPayloadBytes):
//
//   - verifier options: WithTolerance, WithClock, WithPreviousSecrets, WithSignatureHeaders,
//     WithRawBodyFallback;
//   - handler options: WithDeduper, WithLogger, WithInbox, WithObserver.
//
// An invalid value (a non-positive tolerance, a nil clock, an empty previous secret) is reported
// by the constructor, as a *ConfigError naming the option. So is an option given to a
// constructor it does not apply to: a handler option passed to a verifier, or a verifier option
// passed to NewHandler, whose Endpoint.Verify was built from a verifier of your own. Between the
// two verifiers, an option meaningless to one scheme is accepted and has no effect there:
// WithTolerance and WithClock for SortedJSONVerifier (IPNs carry no timestamp), and
// WithSignatureHeaders and WithRawBodyFallback for TimestampVerifier (its callers name the
// header). A nil Option is skipped.
type Option func(*options)

// scope says what an option configures.
type scope uint8

const (
	forVerifier scope = 1 << iota
	forHandler
)

type options struct {
	tolerance       time.Duration
	now             func() time.Time
	previous        []string
	maxPayloadBytes int64
	headers         []string // where the sorted-JSON signature is read; nil: the defaults
	rawFallback     bool
	deduper         *Deduper
	dedupeSet       bool // WithDeduper was given (a nil Deduper then turns dedupe off)
	logger          *slog.Logger
	inbox           Inbox    // WithInbox: queue verified deliveries instead of running fn at once
	inboxEndpoint   string   // the name deliveries are queued and processed under
	observer        Observer // WithObserver; nil: report nothing

	scope        scope  // what the options applied so far configure
	verifierOnly string // name of the first verifier-only option applied
	handlerOnly  string // name of the first handler-only option applied
	err          error  // first invalid option, reported by the constructor
}

func defaultOptions() options {
	return options{tolerance: DefaultTolerance, now: time.Now, maxPayloadBytes: DefaultMaxPayloadBytes}
}

// option returns an Option named name (the function's name, used in errors) that configures
// what sc says, setting its value with set; an error from set is stored for the constructor.
func option(name string, sc scope, set func(o *options) error) Option {
	return func(o *options) {
		o.scope |= sc
		switch {
		case sc == forVerifier && o.verifierOnly == "":
			o.verifierOnly = name
		case sc == forHandler && o.handlerOnly == "":
			o.handlerOnly = name
		}
		if err := set(o); err != nil && o.err == nil {
			o.err = &ConfigError{Arg: name, Err: err}
		}
	}
}

// apply runs opts over the defaults (nil options are skipped) and returns the first invalid
// one's error.
func apply(opts []Option) (options, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o, o.err
}

// verifierOptions checks a verifier constructor's secret and options, reporting errors as
// made by the constructor named fn.
func verifierOptions(fn, secret string, opts []Option) (options, error) {
	if secret == "" {
		return options{}, &ConfigError{Package: "webhook", Func: fn, Arg: "secret", Err: ErrEmptySecret}
	}
	o, err := apply(opts)
	if err == nil && o.handlerOnly != "" {
		err = &ConfigError{Arg: o.handlerOnly, Err: errors.New("applies to handlers, not to a verifier")}
	}
	return o, withFunc(err, fn)
}

// withFunc sets the constructor of a *ConfigError made by an option.
func withFunc(err error, fn string) error {
	var ce *ConfigError
	if errors.As(err, &ce) {
		ce.Package, ce.Func = "webhook", fn
	}
	return err
}

// SplitOptions separates opts into the options a verifier constructor takes and those
// NewHandler takes (WithMaxPayloadBytes goes to both; nil options are dropped), for a
// constructor that takes one option list and builds both a verifier and a handler from it, as
// the provider packages' webhook handler constructors do. It does not validate the options:
// the constructors they are passed to do.
func SplitOptions(opts []Option) (verifier, handler []Option) {
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		var o options
		opt(&o)
		if o.scope&forVerifier != 0 {
			verifier = append(verifier, opt)
		}
		if o.scope&forHandler != 0 {
			handler = append(handler, opt)
		}
	}
	return verifier, handler
}

// WithTolerance sets how far a signed timestamp may lie from the clock, in the past AND in the
// future (default 5 minutes). It must be positive. It applies to verifiers; SortedJSONVerifier
// has no timestamp to check and ignores it.
func WithTolerance(d time.Duration) Option {
	return option("WithTolerance", forVerifier, func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("must be positive, got %v", d)
		}
		o.tolerance = d
		return nil
	})
}

// WithClock injects the clock used for the tolerance check (tests, replays). It must not be
// nil. It applies to verifiers; SortedJSONVerifier ignores it.
func WithClock(now func() time.Time) Option {
	return option("WithClock", forVerifier, func(o *options) error {
		if now == nil {
			return errors.New("nil clock")
		}
		o.now = now
		return nil
	})
}

// WithPreviousSecrets adds secrets that are accepted too, so deliveries signed with an old secret
// keep verifying while a rotation is in progress. Empty strings are refused (the error wraps
// ErrEmptySecret). It applies to verifiers.
func WithPreviousSecrets(secrets ...string) Option {
	return option("WithPreviousSecrets", forVerifier, func(o *options) error {
		for _, s := range secrets {
			if s == "" {
				return ErrEmptySecret
			}
		}
		o.previous = append(o.previous, secrets...)
		return nil
	})
}

// WithMaxPayloadBytes sets the largest body VerifyRequest and the handlers read (default 1 MiB);
// a handler answers a larger delivery 413. It must be positive. It applies to verifiers and
// handlers alike.
func WithMaxPayloadBytes(n int64) Option {
	return option("WithMaxPayloadBytes", forVerifier|forHandler, func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("must be positive, got %d", n)
		}
		o.maxPayloadBytes = n
		return nil
	})
}

// WithSignatureHeaders replaces the request headers SortedJSONVerifier reads the signature from
// (VerifyHeader, and VerifyRequest with no header name; default X-Jovepay-Sig, then
// X-Nowpayments-Sig), for a proxy that forwards it under another name. Every one present is
// tried. At least one name is required and none may be blank. It applies to verifiers;
// TimestampVerifier, whose callers name the header, ignores it.
func WithSignatureHeaders(names ...string) Option {
	return option("WithSignatureHeaders", forVerifier, func(o *options) error {
		if len(names) == 0 {
			return errors.New("no header names")
		}
		for _, n := range names {
			if strings.TrimSpace(n) == "" {
				return errors.New("blank header name")
			}
		}
		o.headers = append([]string(nil), names...)
		return nil
	})
}

// WithRawBodyFallback makes SortedJSONVerifier also accept a hex HMAC-SHA256 of the raw body,
// keyed with the secret or a previous secret, as the signature. Some JovePay-branded
// integration code checks that instead of the documented HMAC-SHA512 over sorted JSON; the
// documentation does not confirm it, so it is off unless you opt in. It applies to verifiers;
// TimestampVerifier ignores it.
func WithRawBodyFallback() Option {
	return option("WithRawBodyFallback", forVerifier, func(o *options) error {
		o.rawFallback = true
		return nil
	})
}

// WithDeduper sets the Deduper a handler runs each event through: an event id is handled at
// most once at a time, and ids already completed are answered "duplicate" without running the
// handler function. The default is a Deduper over a new MemoryStore, which dedupes within this
// process only (give replicas a shared store: webhook/sqlstore, webhook/redisstore), when the
// endpoint has event ids. nil turns dedupe off: every verified delivery then runs the handler
// function. It applies to handlers.
func WithDeduper(d *Deduper) Option {
	return option("WithDeduper", forHandler, func(o *options) error {
		o.deduper, o.dedupeSet = d, true
		return nil
	})
}

// WithLogger sets the logger for rejected deliveries (Warn), deliveries not run (Info:
// duplicate, in flight) and handler failures (Error). Log lines carry the outcome, status,
// error and event id, never the body or a secret. nil, like the default, discards logs. It
// applies to handlers.
func WithLogger(l *slog.Logger) Option {
	return option("WithLogger", forHandler, func(o *options) error {
		o.logger = l
		return nil
	})
}

// WithInbox makes a handler answer a verified delivery as soon as inbox has stored it (200
// "queued"; 500 when storing fails, so the provider delivers again) and run the handler
// function later, from the inbox's workers: they parse the stored body again and run the
// function under the handler's Deduper with the delivery's dedupe key, so a redelivery that was
// queued twice still has its effects once. Use it when the handler's work (fulfilment, e-mail,
// ledger writes) may not finish within the provider's answer budget — JoPay waits 8 seconds.
// webhook/riverinbox implements Inbox on River (PostgreSQL).
//
// endpoint names this handler's deliveries in the inbox; every handler sharing an inbox needs
// its own name (for example "jopay" and "jovepay"), and the same name on every replica. With
// several replicas give the handler a Deduper on a shared store (WithDeduper). It applies to
// handlers.
func WithInbox(inbox Inbox, endpoint string) Option {
	return option("WithInbox", forHandler, func(o *options) error {
		switch {
		case inbox == nil:
			return errors.New("nil inbox")
		case strings.TrimSpace(endpoint) == "":
			return errors.New("empty endpoint name")
		}
		o.inbox, o.inboxEndpoint = inbox, endpoint
		return nil
	})
}
