package pepay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/transport"
	"github.com/paykit-go/paykit/webhook"
)

// Stream defaults.
const (
	DefaultPingInterval = 25 * time.Second
	DefaultIdleTimeout  = 60 * time.Second
	DefaultMinBackoff   = 500 * time.Millisecond
	DefaultMaxBackoff   = 30 * time.Second
	// DefaultStableAfter is how long a connection must stay up before the reconnect backoff
	// starts again from MinBackoff: a minute, two full MaxBackoff waits, so a server that
	// accepts connections and drops them soon after is met with ever longer waits.
	DefaultStableAfter     = time.Minute
	DefaultDedupeWindow    = 10000
	DefaultHandlerAttempts = 5
	// StreamPath is the merchant event stream's path on the WebSocket host.
	StreamPath = "/ws/merchant/events"
	// CommerceStreamPath is the commerce event stream's path (commerce.order.* events).
	CommerceStreamPath = "/ws/commerce/events"
	// PayorStreamPath is the payor stream's path (one payment session).
	PayorStreamPath = "/ws/payment"
	// StreamFormat is the frame format the SDK asks for (the documented event envelope).
	StreamFormat = "event_v1"
	// maxFrameBytes bounds one frame; events are a few KiB.
	maxFrameBytes = 1 << 20
)

// ErrStreamIdle is reported (to StreamParams.OnStatus) when the stream heard nothing, not even a
// pong, for StreamParams.IdleTimeout; the connection is then replaced.
var ErrStreamIdle = errors.New("pepay: stream silent for too long")

// ErrStreamGap is reported (to OnStatus, with StreamGap) when Pepay cannot replay a resume's since
// and the stream has no events API to backfill from (a commerce stream without
// CommerceStreamParams.EventsClient): events in the gap were not delivered.
var ErrStreamGap = errors.New("pepay: stream could not replay the events missed while disconnected")

// StreamParams configures Stream. Only the filters reach Pepay; the rest tunes the client.
type StreamParams struct {
	// Types keeps events whose type matches any entry (exact names or "invoice.*" wildcards).
	Types []string
	// InvoiceID, CustomerID and InvoiceType narrow the stream to one invoice, customer or type.
	InvoiceID   string
	CustomerID  string      // customer_id
	InvoiceType InvoiceType // invoice_type: standard or commerce
	// Environment overrides the client's WithEnvironment.
	Environment Environment
	// Since resumes after this event id (the last one you processed). Empty starts live.
	Since string
	// UseToken authenticates each connection with a fresh ws_token (?token=, minted with
	// NewWSToken) instead of the x-api-key upgrade header, for networks that strip headers.
	UseToken bool

	// Deduper, when set, runs the handler through Deduper.Do keyed by event id. Share it with
	// NewWebhookHandler (WithDeduper) so an event arriving by webhook and by stream is processed
	// once. While the other channel holds the claim (ErrInFlight) the stream waits for it.
	Deduper *webhook.Deduper
	// DedupeWindow is how many recent event ids the stream itself remembers to drop repeats
	// (replays after a reconnect, backfill overlap). Default 10 000.
	DedupeWindow int

	// PingInterval is how often the client pings (default 25 s); IdleTimeout is how long it
	// tolerates silence — no frame and no pong — before reconnecting (default 60 s).
	PingInterval time.Duration
	IdleTimeout  time.Duration // see PingInterval
	// MinBackoff and MaxBackoff bound the jittered exponential wait between reconnects and
	// between handler retries (defaults 500 ms and 30 s). The reconnect wait doubles with each
	// connection in a row that fails or drops within StableAfter, whether or not it delivered
	// events. A refused upgrade's Retry-After (a 429 or 503) is honoured when it is longer, up
	// to the client's WithMaxRetryAfter (default 60 s).
	MinBackoff, MaxBackoff time.Duration
	// StableAfter is how long a connection must stay up for the next disconnect to count as a
	// fresh outage, resetting the reconnect backoff and the MaxConsecutiveFailures count
	// (default DefaultStableAfter, one minute).
	StableAfter time.Duration
	// MaxConsecutiveFailures, when positive, ends Stream with a *ReconnectError (wrapping the
	// last failure) once that many connections in a row have failed to open or dropped within
	// StableAfter. Zero, the default, reconnects until ctx ends.
	MaxConsecutiveFailures int
	// HandlerAttempts is how often the handler runs for one event before Stream gives up with a
	// *HandlerError (default 5).
	HandlerAttempts int

	// OnStatus, when set, is told about connections, disconnects, resyncs and handler retries.
	// It runs on Stream's goroutine; keep it quick.
	OnStatus func(StreamStatus)
	// OnReconnect, when set, is called after each failed or dropped connection that Stream
	// will retry: attempt counts the failures in a row (1 after a healthy connection), err is
	// why (a dial error, a refused upgrade as *StreamError, ErrStreamIdle, …) and wait is the
	// pause before the next attempt. The failure that reaches MaxConsecutiveFailures is returned
	// instead. It runs on Stream's goroutine; keep it quick.
	OnReconnect func(attempt int, err error, wait time.Duration)
}

// StreamState names what happened to the stream.
type StreamState string

// Stream states reported to StreamParams.OnStatus.
const (
	// StreamConnected: a connection is open (Since is the resume point it asked for).
	StreamConnected StreamState = "connected"
	// StreamDisconnected: the connection ended or could not be opened (Err says why); Stream
	// reconnects after Wait. Attempt counts the failures in a row.
	StreamDisconnected StreamState = "disconnected"
	// StreamResyncing: Pepay said Since is too old to replay (Control names its ws_control
	// frame); the stream backfills through the events API.
	StreamResyncing StreamState = "resyncing"
	// StreamBackfilled: the backfill finished; Backfilled events were delivered.
	StreamBackfilled StreamState = "backfilled"
	// StreamHandlerRetry: the handler failed (Err) for EventID; it runs again after a backoff.
	StreamHandlerRetry StreamState = "handler_retry"
	// StreamBadFrame: a frame could not be parsed (Err) and was skipped.
	StreamBadFrame StreamState = "bad_frame"
	// StreamGap: Pepay could not replay since (Control names its ws_control frame) and there is
	// nothing to backfill from; Err is ErrStreamGap. The stream goes on live.
	StreamGap StreamState = "gap"
)

// StreamStatus is one report to StreamParams.OnStatus.
type StreamStatus struct {
	State      StreamState   // what happened (see the StreamState constants)
	Since      string        // the resume point at the time of the report
	EventID    string        // StreamHandlerRetry
	Attempt    int           // consecutive failed connections, or handler attempts
	Err        error         // why, for StreamDisconnected, StreamHandlerRetry and StreamBadFrame
	Control    string        // the ws_control type that triggered a resync
	Backfilled int           // StreamBackfilled: events the backfill delivered to the handler
	Wait       time.Duration // StreamDisconnected: the pause before the next connection attempt
}

// ReconnectError is returned by Stream when StreamParams.MaxConsecutiveFailures connections in a
// row failed to open or dropped before they were stable. It wraps the last failure: a dial error,
// a refused upgrade (*StreamError), ErrStreamIdle, …
type ReconnectError struct {
	// Attempts is how many connections in a row failed.
	Attempts int
	// Err is the last failure.
	Err error
}

// Error reads like "pepay: stream gave up after 3 failed connections in a row: <err>".
func (e *ReconnectError) Error() string {
	return "pepay: stream gave up after " + strconv.Itoa(e.Attempts) + " failed connections in a row: " + errText(e.Err)
}

// Unwrap returns the last failure.
func (e *ReconnectError) Unwrap() error { return e.Err }

// Stream connects to the merchant WebSocket (/ws/merchant/events, format=event_v1) and calls
// handler for each event, in the order Pepay sends them, one at a time. It returns only when
// ctx ends (ctx.Err()), when Pepay refuses the stream for good (a terminal *StreamError: bad
// key, forbidden, invalid query), when the handler keeps failing for an event (*HandlerError)
// or, with MaxConsecutiveFailures, when connections keep failing (*ReconnectError).
//
// Delivery is at-least-once and each event id reaches the handler once per Stream (and once
// overall with a shared Deduper):
//
//   - Reconnects: a dropped connection, a ws_error that is not terminal, a refused upgrade
//     that is not terminal (429, 5xx) or IdleTimeout of silence (the client pings every
//     PingInterval) leads to a reconnect with since=<id of the last event handled>, after a
//     jittered exponential backoff that keeps growing until a connection stays up for
//     StableAfter, or after the upgrade's Retry-After when that is longer (capped by
//     WithMaxRetryAfter). OnReconnect sees every failure; MaxConsecutiveFailures bounds them.
//   - Resync: when Pepay answers a resume with a ws_control frame saying since is too old
//     (types containing "resync", "snapshot", "too_old", "truncated" or "gap"; the fake sends
//     "resync_required"), the stream backfills with EventsAfter(since) — the events API,
//     oldest first — and then goes on with the live frames; events seen twice are dropped.
//     The events API cannot filter by customer or invoice type, so backfilled invoice events
//     are filtered locally and payment events of other customers may get through.
//   - Handler errors: the handler is retried in place (HandlerAttempts, with backoff); the
//     resume point never moves past an event whose handler has not succeeded.
func (c *Client) Stream(ctx context.Context, p StreamParams, handler func(ctx context.Context, e *Event) error) error {
	return c.stream(ctx, p, streamClock{}, handler)
}

// stream is Stream with the clock its reconnect logic reads and waits on.
func (c *Client) stream(ctx context.Context, p StreamParams, clock streamClock, handler func(ctx context.Context, e *Event) error) error {
	if handler == nil {
		return errors.New("pepay: nil stream handler")
	}
	t, err := p.validate()
	if err != nil {
		return err
	}
	if c.apiKey == "" && !p.UseToken {
		return &paykit.ValidationError{Field: "UseToken", Reason: "a client without an API key streams only with a ws_token"}
	}
	q := url.Values{}
	if len(p.Types) > 0 {
		q.Set("types", strings.Join(p.Types, ","))
	}
	setIf(q, "invoice_id", p.InvoiceID)
	setIf(q, "customer_id", p.CustomerID)
	setIf(q, "invoice_type", string(p.InvoiceType))
	if env := c.envOr(p.Environment); env != "" {
		q.Set("environment", string(env))
	}
	spec := streamSpec{
		kind:    "merchant",
		url:     c.wsBase + StreamPath,
		query:   q,
		resume:  true,
		secrets: c.secrets(),
		backfill: func(ctx context.Context, from string) iter.Seq2[*Event, error] {
			return c.EventsAfter(ctx, from, ListEventsParams{Types: p.Types, InvoiceID: p.InvoiceID, Environment: p.Environment})
		},
		keep: func(ev *Event) bool { return p.matchesLocal(ev) },
	}
	if p.UseToken {
		spec.freshTokens = true
		spec.auth = tokenAuth(func(ctx context.Context) (*WSToken, error) {
			return c.NewWSToken(ctx, ScopeMerchant, DefaultWSTokenTTL)
		})
	} else {
		spec.auth = headerAuth("x-api-key", c.apiKey)
	}
	return runStream(ctx, c.streamEnv(), spec, t, clock, p.Since, handler)
}

// validate checks the filters and returns the tuning with its defaults filled in.
func (p *StreamParams) validate() (streamTuning, error) {
	if err := checkTypes(p.Types); err != nil {
		return streamTuning{}, err
	}
	if p.Environment != "" && p.Environment != EnvironmentDevnet && p.Environment != EnvironmentMainnet {
		return streamTuning{}, &paykit.ValidationError{Field: "environment", Reason: "must be devnet or mainnet"}
	}
	t := p.tuning()
	return t, t.validate("StreamParams")
}

func (p *StreamParams) tuning() streamTuning {
	return streamTuning{
		Deduper: p.Deduper, DedupeWindow: p.DedupeWindow, PingInterval: p.PingInterval, IdleTimeout: p.IdleTimeout,
		MinBackoff: p.MinBackoff, MaxBackoff: p.MaxBackoff, StableAfter: p.StableAfter,
		MaxConsecutiveFailures: p.MaxConsecutiveFailures, HandlerAttempts: p.HandlerAttempts,
		OnStatus: p.OnStatus, OnReconnect: p.OnReconnect,
	}
}

// matchesLocal applies the stream filters the events API does not take to backfilled events.
func (p *StreamParams) matchesLocal(ev *Event) bool {
	inv := ev.Invoice()
	if inv == nil {
		return true
	}
	if p.CustomerID != "" && inv.CustomerID != "" && inv.CustomerID != p.CustomerID {
		return false
	}
	if p.InvoiceType != "" && inv.InvoiceType != "" && inv.InvoiceType != p.InvoiceType {
		return false
	}
	return true
}

func checkTypes(types []string) error {
	for _, t := range types {
		if t == "" || strings.ContainsAny(t, ", ") {
			return &paykit.ValidationError{Field: "types", Reason: "event types must be non-empty and contain no comma or space"}
		}
	}
	return nil
}

// streamTuning is the client-side behaviour every stream shares (the tuning fields of
// StreamParams, CommerceStreamParams and PayorStreamParams).
type streamTuning struct {
	Deduper                   *webhook.Deduper
	DedupeWindow              int
	PingInterval, IdleTimeout time.Duration
	MinBackoff, MaxBackoff    time.Duration
	StableAfter               time.Duration
	MaxConsecutiveFailures    int
	HandlerAttempts           int
	OnStatus                  func(StreamStatus)
	OnReconnect               func(attempt int, err error, wait time.Duration)
}

// validate refuses negative values and fills in the defaults; field names the params struct.
func (t *streamTuning) validate(field string) error {
	if t.PingInterval < 0 || t.IdleTimeout < 0 || t.MinBackoff < 0 || t.MaxBackoff < 0 || t.StableAfter < 0 ||
		t.DedupeWindow < 0 || t.HandlerAttempts < 0 || t.MaxConsecutiveFailures < 0 {
		return &paykit.ValidationError{Field: field, Reason: "durations and counts must not be negative"}
	}
	if t.PingInterval == 0 {
		t.PingInterval = DefaultPingInterval
	}
	if t.IdleTimeout == 0 {
		t.IdleTimeout = DefaultIdleTimeout
	}
	if t.MinBackoff == 0 {
		t.MinBackoff = DefaultMinBackoff
	}
	if t.MaxBackoff == 0 {
		t.MaxBackoff = DefaultMaxBackoff
	}
	if t.MaxBackoff < t.MinBackoff {
		t.MaxBackoff = t.MinBackoff
	}
	if t.StableAfter == 0 {
		t.StableAfter = DefaultStableAfter
	}
	if t.DedupeWindow == 0 {
		t.DedupeWindow = DefaultDedupeWindow
	}
	if t.HandlerAttempts == 0 {
		t.HandlerAttempts = DefaultHandlerAttempts
	}
	return nil
}

// streamEnv is what a stream needs from its client: the HTTP client for the handshake, the
// User-Agent, the logger and the longest Retry-After it waits for.
type streamEnv struct {
	http          *http.Client // nil: the websocket package's default
	userAgent     string
	logger        *slog.Logger // nil: silent
	maxRetryAfter time.Duration
}

func newStreamEnv(s transport.Settings) streamEnv {
	return streamEnv{http: s.HTTPClient, userAgent: userAgentFor(s), logger: s.Logger, maxRetryAfter: s.MaxRetryAfter}
}

// streamClock is the time the reconnect logic reads and waits on (backoffs, Retry-After, how
// long a connection stayed up); its zero value is the wall clock. The watchdog's ping and idle
// timers always use the wall clock.
type streamClock struct {
	nowFn   func() time.Time
	sleepFn func(context.Context, time.Duration) error
}

func (c streamClock) now() time.Time {
	if c.nowFn != nil {
		return c.nowFn()
	}
	return time.Now()
}

func (c streamClock) sleep(ctx context.Context, d time.Duration) error {
	if c.sleepFn != nil {
		return c.sleepFn(ctx, d)
	}
	return transport.Sleep(ctx, d)
}

func (c *Client) streamEnv() streamEnv { return newStreamEnv(c.settings) }

// streamSpec is what differs between the merchant, commerce and payor streams; runStream is
// the engine they share (reconnects, pings, idle detection, ws_error, dedupe, handler retries,
// resume and backfill).
type streamSpec struct {
	kind  string     // "merchant", "commerce" or "payor", for logs
	url   string     // ws(s)://host/path, without a query
	query url.Values // the filters; format, since and token are added per connection
	// resume sends since=<last event handled> on every connection.
	resume bool
	// auth prepares one connection (an upgrade header or a ?token=) and returns the credential
	// values to scrub from errors.
	auth func(ctx context.Context, q url.Values, h http.Header) (secrets []string, err error)
	// freshTokens: auth mints a new token per connection, so a refused token is worth one more try.
	freshTokens bool
	// backfill lists the events after an id, oldest first, when Pepay cannot replay a resume;
	// nil: there is no events API to ask (StreamGap).
	backfill func(ctx context.Context, from string) iter.Seq2[*Event, error]
	// keep filters backfilled events locally; nil keeps all.
	keep func(*Event) bool
	// secrets are the client's credentials, scrubbed from every error.
	secrets []string
}

// headerAuth authenticates the upgrade with a header (x-api-key, x-commerce-api-key).
func headerAuth(name, value string) func(context.Context, url.Values, http.Header) ([]string, error) {
	return func(_ context.Context, _ url.Values, h http.Header) ([]string, error) {
		h.Set(name, value)
		return nil, nil
	}
}

// tokenAuth authenticates each connection with a fresh ws_token in ?token=.
func tokenAuth(mint func(context.Context) (*WSToken, error)) func(context.Context, url.Values, http.Header) ([]string, error) {
	return func(ctx context.Context, q url.Values, _ http.Header) ([]string, error) {
		tok, err := mint(ctx)
		if err != nil {
			return nil, fmt.Errorf("pepay: stream token: %w", err)
		}
		q.Set("token", tok.Token)
		return []string{tok.Token, url.QueryEscape(tok.Token)}, nil
	}
}

// staticTokenAuth sends a token the stream was given (the payor's payment session JWT).
func staticTokenAuth(token string) func(context.Context, url.Values, http.Header) ([]string, error) {
	return func(_ context.Context, q url.Values, _ http.Header) ([]string, error) {
		q.Set("token", token)
		return []string{token, url.QueryEscape(token)}, nil
	}
}

func runStream(ctx context.Context, env streamEnv, spec streamSpec, t streamTuning, clock streamClock, since string, handler func(context.Context, *Event) error) error {
	s := &streamer{env: env, spec: spec, p: t, clock: clock, handler: handler, since: since, seen: newIDWindow(t.DedupeWindow)}
	return s.run(ctx)
}

type streamer struct {
	env     streamEnv
	spec    streamSpec
	p       streamTuning
	clock   streamClock
	handler func(context.Context, *Event) error
	since   string // id of the last event handled (or skipped as a duplicate)
	seen    *idWindow
	// retryAfter is the Retry-After of the last refused upgrade (0: none), reset per connection.
	retryAfter time.Duration
}

func (s *streamer) notify(st StreamStatus) {
	st.Since = s.since
	if s.p.OnStatus != nil {
		s.p.OnStatus(st)
	}
}

func (s *streamer) log(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	if l := s.env.logger; l != nil && l.Enabled(ctx, level) {
		l.LogAttrs(ctx, level, msg, append(attrs, slog.String("stream", s.spec.kind), slog.String("provider", Provider))...)
	}
}

// run connects again and again. failures counts the connections in a row that could not be
// opened or dropped before StableAfter — delivering events does not make a connection healthy,
// staying up does — and drives the backoff, OnReconnect's attempt and MaxConsecutiveFailures.
func (s *streamer) run(ctx context.Context) error {
	failures := 0
	tokenRetried := false
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		up, err := s.session(ctx)
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		var herr *HandlerError
		if errors.As(err, &herr) {
			return err
		}
		if redirectRefused(err) {
			// The handshake was redirected to another host and not followed: the configured
			// URL is wrong, and reconnecting would only be redirected again.
			s.log(ctx, slog.LevelError, "pepay: stream refused", slog.String("error", err.Error()))
			return err
		}
		var serr *StreamError
		if errors.As(err, &serr) && serr.Terminal() {
			// A ws_token may simply have expired between mint and use: one fresh try.
			if !(s.spec.freshTokens && serr.tokenProblem() && !tokenRetried) {
				s.log(ctx, slog.LevelError, "pepay: stream refused", slog.String("error", err.Error()))
				return err
			}
			tokenRetried = true
		} else {
			tokenRetried = false
		}
		if up >= s.p.StableAfter {
			failures = 0 // the connection was healthy: this is a new outage
		}
		failures++
		if s.p.MaxConsecutiveFailures > 0 && failures >= s.p.MaxConsecutiveFailures {
			s.log(ctx, slog.LevelError, "pepay: stream gave up reconnecting",
				slog.String("since", s.since), slog.Int("attempt", failures), slog.String("error", errText(err)))
			return &ReconnectError{Attempts: failures, Err: err}
		}
		wait := backoff(s.p.MinBackoff, s.p.MaxBackoff, failures)
		if s.retryAfter > 0 {
			wait = max(wait, transport.CapRetryAfter(s.retryAfter, s.env.maxRetryAfter))
		}
		s.log(ctx, slog.LevelInfo, "pepay: stream disconnected, reconnecting",
			slog.String("since", s.since), slog.Int("attempt", failures), slog.Duration("wait", wait), slog.String("error", errText(err)))
		s.notify(StreamStatus{State: StreamDisconnected, Attempt: failures, Err: err, Wait: wait})
		if s.p.OnReconnect != nil {
			s.p.OnReconnect(failures, err, wait)
		}
		if err := s.clock.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// backoff is the wait before reconnect attempt (counted from 1).
func backoff(min, max time.Duration, attempt int) time.Duration {
	return transport.Backoff(min, max, attempt-1)
}

// session runs one connection until it fails; it reports how long the connection was open (0
// when it could not be opened).
func (s *streamer) session(ctx context.Context) (up time.Duration, err error) {
	s.retryAfter = 0
	resumeFrom := ""
	if s.spec.resume {
		resumeFrom = s.since
	}
	var lastActive atomic.Int64 // unix nanos of the last frame or pong
	lastActive.Store(time.Now().UnixNano())
	conn, secrets, err := s.dial(ctx, &lastActive)
	if err != nil {
		return 0, err
	}
	defer conn.CloseNow()
	openedAt := s.clock.now()
	defer func() { up = s.clock.now().Sub(openedAt) }() // every return below reports the time open
	conn.SetReadLimit(maxFrameBytes)
	s.notify(StreamStatus{State: StreamConnected})
	s.log(ctx, slog.LevelDebug, "pepay: stream connected", slog.String("since", resumeFrom))

	connCtx, cancel := context.WithCancel(ctx)
	var (
		wg      sync.WaitGroup
		reading atomic.Bool
		idle    atomic.Bool
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.watchdog(connCtx, conn, &reading, &lastActive, &idle)
	}()
	defer func() {
		cancel()
		wg.Wait()
	}()

	for {
		lastActive.Store(time.Now().UnixNano())
		reading.Store(true)
		_, data, rerr := conn.Read(connCtx)
		reading.Store(false)
		if rerr != nil {
			if idle.Load() {
				return 0, ErrStreamIdle
			}
			return 0, scrub(fmt.Errorf("pepay: stream read: %w", rerr), secrets)
		}
		lastActive.Store(time.Now().UnixNano())
		// Almost every frame is an event: parse it as one first, and look at what else it
		// might be only when that fails (one JSON pass per event instead of two).
		ev, perr := ParseEvent(data)
		if perr == nil {
			if _, derr := s.deliver(ctx, ev); derr != nil {
				return 0, derr
			}
			continue
		}
		var probe struct {
			Object  string `json:"object"`
			Type    string `json:"type"`
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(data, &probe); err != nil {
			s.badFrame(ctx, err)
			continue
		}
		switch probe.Object {
		case "event", "":
			s.badFrame(ctx, perr)
		case "ws_control":
			if !isResyncHint(probe.Type) {
				s.log(ctx, slog.LevelDebug, "pepay: stream control frame", slog.String("type", probe.Type))
				continue
			}
			if _, berr := s.backfill(ctx, resumeFrom, probe.Type); berr != nil {
				return 0, berr
			}
		case "ws_error":
			return 0, &StreamError{Code: probe.Code, Message: redactText(probe.Message, secrets)}
		default:
			s.log(ctx, slog.LevelDebug, "pepay: stream frame of unknown object ignored", slog.String("object", probe.Object))
		}
	}
}

func (s *streamer) badFrame(ctx context.Context, err error) {
	s.log(ctx, slog.LevelWarn, "pepay: stream frame skipped", slog.String("error", err.Error()))
	s.notify(StreamStatus{State: StreamBadFrame, Err: err})
}

// isResyncHint reports whether a ws_control type says the requested since cannot be replayed.
// Pepay documents replay/resync hints without their names, so the match is deliberately broad.
func isResyncHint(typ string) bool {
	t := strings.ToLower(typ)
	for _, k := range []string{"resync", "snapshot", "too_old", "truncated", "gap"} {
		if strings.Contains(t, k) {
			return true
		}
	}
	return false
}

// dial opens the WebSocket with the stream's filters, format=event_v1, since (when the stream
// resumes) and its credential. It returns the credential values that must be scrubbed from errors.
func (s *streamer) dial(ctx context.Context, lastActive *atomic.Int64) (*websocket.Conn, []string, error) {
	q := url.Values{}
	for k, v := range s.spec.query {
		q[k] = v
	}
	q.Set("format", StreamFormat)
	if s.spec.resume {
		setIf(q, "since", s.since)
	}
	h := http.Header{}
	h.Set("User-Agent", s.env.userAgent)
	secrets := s.spec.secrets
	more, err := s.spec.auth(ctx, q, h)
	if err != nil {
		return nil, nil, scrub(err, secrets)
	}
	secrets = append(append([]string(nil), secrets...), more...)
	opts := &websocket.DialOptions{
		HTTPClient:     transport.ConfineRedirects(Provider, s.env.http, s.spec.url), // credentials go to this host only
		HTTPHeader:     h,
		OnPongReceived: func(context.Context, []byte) { lastActive.Store(time.Now().UnixNano()) },
	}
	conn, resp, err := websocket.Dial(ctx, s.spec.url+"?"+q.Encode(), opts)
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			if d, ok := transport.ParseRetryAfter(resp.Header.Get("Retry-After"), s.clock.now()); ok {
				s.retryAfter = d
			}
			return nil, secrets, upgradeError(resp, secrets)
		}
		return nil, secrets, scrub(fmt.Errorf("pepay: stream dial: %w", err), secrets)
	}
	return conn, secrets, nil
}

// upgradeError turns a refused handshake into a *StreamError with Pepay's code and message.
func upgradeError(resp *http.Response, secrets []string) error {
	e := &StreamError{HTTPStatus: resp.StatusCode, Code: fmt.Sprintf("HTTP_%d", resp.StatusCode), Message: http.StatusText(resp.StatusCode)}
	if resp.Body != nil {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		var env struct {
			Error   json.RawMessage `json:"error"`
			Code    string          `json:"code"`
			Message string          `json:"message"`
		}
		if json.Unmarshal(body, &env) == nil {
			var nested struct{ Code, Message string }
			var text string
			switch {
			case json.Unmarshal(env.Error, &nested) == nil && nested.Code != "":
				e.Code, e.Message = nested.Code, nested.Message
			case env.Code != "":
				e.Code = env.Code
				if json.Unmarshal(env.Error, &text) == nil && text != "" {
					e.Message = text
				}
				if env.Message != "" {
					e.Message = env.Message
				}
			}
		}
	}
	e.Message = redactText(e.Message, secrets)
	return e
}

// watchdog pings every PingInterval and closes the connection when it has been silent for
// IdleTimeout while the stream waits for frames (time spent in the handler does not count).
func (s *streamer) watchdog(ctx context.Context, conn *websocket.Conn, reading *atomic.Bool, last *atomic.Int64, idle *atomic.Bool) {
	check := max(s.p.IdleTimeout/4, time.Millisecond)
	checkT := time.NewTicker(check)
	defer checkT.Stop()
	pingT := time.NewTicker(s.p.PingInterval)
	defer pingT.Stop()
	var pinging atomic.Bool
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-pingT.C:
			if pinging.CompareAndSwap(false, true) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer pinging.Store(false)
					pctx, cancel := context.WithTimeout(ctx, s.p.IdleTimeout)
					defer cancel()
					_ = conn.Ping(pctx) // the pong updates last via OnPongReceived
				}()
			}
		case <-checkT.C:
			if reading.Load() && time.Since(time.Unix(0, last.Load())) > s.p.IdleTimeout {
				idle.Store(true)
				_ = conn.CloseNow()
				return
			}
		}
	}
}

// deliver hands one event to the handler unless it was seen before, retrying a failing
// handler in place; it advances the resume point only past handled (or duplicate) events.
func (s *streamer) deliver(ctx context.Context, ev *Event) (int, error) {
	if s.seen.has(ev.ID) {
		return 0, nil
	}
	for attempt := 1; ; attempt++ {
		err := s.handleOnce(ctx, ev)
		if err == nil {
			break
		}
		if cerr := ctx.Err(); cerr != nil {
			return 0, cerr
		}
		if attempt >= s.p.HandlerAttempts {
			return 0, &HandlerError{EventID: ev.ID, Resume: s.since, Attempts: attempt, Err: err}
		}
		s.log(ctx, slog.LevelWarn, "pepay: stream handler failed, retrying",
			slog.String("event_id", ev.ID), slog.Int("attempt", attempt), slog.String("error", err.Error()))
		s.notify(StreamStatus{State: StreamHandlerRetry, EventID: ev.ID, Attempt: attempt, Err: err})
		if err := s.clock.sleep(ctx, backoff(s.p.MinBackoff, s.p.MaxBackoff, attempt)); err != nil {
			return 0, err
		}
	}
	s.seen.add(ev.ID)
	s.since = ev.ID
	return 1, nil
}

// handleOnce runs the handler, through the shared Deduper when there is one. While another
// channel (the webhook handler) holds the event's claim, it waits: that handler may still fail
// and release the event, and skipping would then lose it here.
func (s *streamer) handleOnce(ctx context.Context, ev *Event) error {
	if s.p.Deduper == nil {
		return s.handler(ctx, ev)
	}
	wait := 5 * time.Millisecond
	for {
		err := s.p.Deduper.Do(ctx, ev.ID, func(ctx context.Context) error { return s.handler(ctx, ev) })
		switch {
		case err == nil, errors.Is(err, webhook.ErrDuplicate):
			return nil
		case errors.Is(err, webhook.ErrInFlight):
			if err := s.clock.sleep(ctx, wait); err != nil {
				return err
			}
			wait = min(wait*2, time.Second)
		default:
			return err
		}
	}
}

// backfill recovers the events after from through the events API, oldest first.
func (s *streamer) backfill(ctx context.Context, from, control string) (int, error) {
	if from == "" {
		// Nothing was asked to be replayed; the stream is live from here.
		return 0, nil
	}
	if s.spec.backfill == nil {
		s.log(ctx, slog.LevelWarn, "pepay: stream cannot replay since and has nothing to backfill from",
			slog.String("since", from), slog.String("control", control))
		s.notify(StreamStatus{State: StreamGap, Control: control, Err: ErrStreamGap})
		return 0, nil
	}
	s.log(ctx, slog.LevelInfo, "pepay: stream resync, backfilling from the events API",
		slog.String("since", from), slog.String("control", control))
	s.notify(StreamStatus{State: StreamResyncing, Control: control})
	n := 0
	for ev, err := range s.spec.backfill(ctx, from) {
		if err != nil {
			return n, fmt.Errorf("pepay: stream backfill: %w", err)
		}
		if s.spec.keep != nil && !s.spec.keep(ev) {
			continue
		}
		d, err := s.deliver(ctx, ev)
		n += d
		if err != nil {
			return n, err
		}
	}
	s.notify(StreamStatus{State: StreamBackfilled, Backfilled: n})
	return n, nil
}

// idWindow remembers the most recent n ids.
type idWindow struct {
	ids  []string
	next int
	set  map[string]struct{}
}

func newIDWindow(n int) *idWindow {
	if n <= 0 {
		n = DefaultDedupeWindow
	}
	return &idWindow{ids: make([]string, n), set: make(map[string]struct{}, n)}
}

func (w *idWindow) has(id string) bool {
	_, ok := w.set[id]
	return ok
}

func (w *idWindow) add(id string) {
	if old := w.ids[w.next]; old != "" {
		delete(w.set, old)
	}
	w.ids[w.next] = id
	w.set[id] = struct{}{}
	w.next = (w.next + 1) % len(w.ids)
}

// redirectRefused reports whether err is a handshake redirect that was not followed: the
// *paykit.Error with a 3xx status transport.ConfineRedirects returns for a redirect to another
// host.
func redirectRefused(err error) bool {
	var apiErr *paykit.Error
	return errors.As(err, &apiErr) && apiErr.Status >= 300 && apiErr.Status < 400
}

// userAgentFor is the User-Agent for the WebSocket handshake: the REST client's.
func userAgentFor(s transport.Settings) string { return transport.UserAgent(Provider, s) }

// scrub replaces credentials in err's text (a dial error quotes the URL, which may hold a
// ws_token) while keeping errors.Is/As working.
func scrub(err error, secrets []string) error {
	msg := err.Error()
	red := redactText(msg, secrets)
	if red == msg {
		return err
	}
	return redactedError{msg: red, err: err}
}

// redactText replaces every credential in s, in any escaping (see transport.RedactSecrets).
func redactText(s string, secrets []string) string { return transport.RedactSecrets(s, secrets) }

type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }
