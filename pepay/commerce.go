package pepay

import (
	"context"
	"errors"
	"iter"
	"net/url"
	"strings"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/transport"
	"github.com/paykit-go/paykit/webhook"
)

// CommerceClient holds a commerce API key (x-commerce-api-key: ck_…) and streams commerce
// orders. It is a type of its own, rather than an option on Client, because Pepay treats the
// commerce key as a different kind of key: it authenticates the commerce stream and mints
// commerce-scope ws_tokens, while a merchant key gets a 400 for scope=commerce. Keeping the two
// keys in two clients means neither is ever sent where the other belongs. It is safe for
// concurrent use; keep it on the server.
type CommerceClient struct {
	t      *transport.Client
	key    string // never logged or put in an error
	wsBase string // ws(s)://host without a trailing slash
	ws     streamEnv
}

// NewCommerceClient returns a commerce client for commerceKey (its ck_ prefix is not checked).
// It takes the same options as NewClient (WithBaseURL, WithWebSocketURL, WithHTTPClient,
// WithLogger, …); WithEnvironment and the dashboard token options have no effect on it. Errors
// never contain the key.
func NewCommerceClient(commerceKey string, opts ...Option) (*CommerceClient, error) {
	if strings.TrimSpace(commerceKey) == "" {
		return nil, errors.New("pepay: empty commerce API key")
	}
	if strings.ContainsAny(commerceKey, " \t\r\n") {
		return nil, errors.New("pepay: commerce API key contains whitespace")
	}
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	t, err := transport.New(transport.Config{Provider: Provider, Settings: o.Settings, Auth: transport.Header("x-commerce-api-key", commerceKey), BaseURLRule: baseURLRule()})
	if err != nil {
		return nil, err
	}
	c := &CommerceClient{t: t, key: commerceKey, wsBase: o.wsBase, ws: newStreamEnv(o.Settings)}
	if c.wsBase == "" {
		c.wsBase = wsHost(t.BaseURL())
	}
	return c, nil
}

// NewWSToken mints a commerce-scope ws_token (POST /api/v1/ws/token, {"scope":"commerce",…}) for
// a browser or app to open the commerce stream with ?token=. ttl is rounded up to whole seconds
// and must be positive.
func (c *CommerceClient) NewWSToken(ctx context.Context, ttl time.Duration, opts ...paykit.CallOption) (*WSToken, error) {
	return mintWSToken(ctx, c.t, ScopeCommerce, ttl, opts)
}

// CommerceStreamParams configures CommerceClient.Stream. The filters reach Pepay as the query of
// /ws/commerce/events; the tuning fields mean what they mean in StreamParams.
type CommerceStreamParams struct {
	// Types keeps events whose type matches any entry ("commerce.order.*", exact names).
	Types []string
	// OrderID, InvoiceID and CustomerID narrow the stream to one order, invoice or customer.
	OrderID    string // order_id
	InvoiceID  string // invoice_id
	CustomerID string // customer_id
	// WalletAddress and WalletNetwork narrow it to one payer wallet.
	WalletAddress string // wallet_address
	WalletNetwork string // wallet_network
	// Since resumes after this event id (the last one you processed). Empty starts live.
	Since string
	// UseToken authenticates each connection with a fresh commerce ws_token (?token=) instead of
	// the x-commerce-api-key upgrade header.
	UseToken bool
	// EventsClient, when set, is a merchant client whose events API (EventsAfter, with Types or
	// "commerce.order.*" and InvoiceID) fills the gap when Pepay cannot replay Since. Without it
	// such a gap is reported as StreamGap (Err ErrStreamGap) and the stream goes on live. The
	// other filters cannot be applied to backfilled events (the order object is not documented).
	EventsClient *Client

	// Deduper runs the handler through Deduper.Do keyed by event id (share it with
	// NewWebhookHandler: commerce.order.* events are delivered by webhook too).
	Deduper *webhook.Deduper
	// DedupeWindow is how many recent event ids the stream remembers (default 10 000).
	DedupeWindow int
	// PingInterval (default 25 s) and IdleTimeout (default 60 s): see StreamParams.
	PingInterval time.Duration
	IdleTimeout  time.Duration // see PingInterval
	// MinBackoff and MaxBackoff bound reconnect and handler-retry waits (500 ms, 30 s); the
	// reconnect wait grows until a connection stays up for StableAfter (default one minute).
	// See StreamParams.
	MinBackoff, MaxBackoff time.Duration
	StableAfter            time.Duration // see MinBackoff
	// MaxConsecutiveFailures, when positive, ends Stream with a *ReconnectError after that many
	// failed connections in a row (default 0: reconnect until ctx ends). See StreamParams.
	MaxConsecutiveFailures int
	// HandlerAttempts is how often the handler runs for one event (default 5).
	HandlerAttempts int
	// OnStatus is told about connections, disconnects, gaps and handler retries.
	OnStatus func(StreamStatus)
	// OnReconnect is called after each failed connection Stream will retry, with the failures
	// in a row, the error and the wait before the next attempt. See StreamParams.
	OnReconnect func(attempt int, err error, wait time.Duration)
}

func (p *CommerceStreamParams) tuning() streamTuning {
	return streamTuning{
		Deduper: p.Deduper, DedupeWindow: p.DedupeWindow, PingInterval: p.PingInterval, IdleTimeout: p.IdleTimeout,
		MinBackoff: p.MinBackoff, MaxBackoff: p.MaxBackoff, StableAfter: p.StableAfter,
		MaxConsecutiveFailures: p.MaxConsecutiveFailures, HandlerAttempts: p.HandlerAttempts,
		OnStatus: p.OnStatus, OnReconnect: p.OnReconnect,
	}
}

// Stream connects to the commerce WebSocket (/ws/commerce/events, format=event_v1) and calls
// handler for each event (commerce.order.created, commerce.order.updated), one at a time. Pepay
// does not document the order object: Event.Data.Object holds it as raw JSON and
// Event.ObjectType names it; the envelope is typed as for every other event.
//
// It behaves like Client.Stream — reconnects with backoff (growing until a connection is stable,
// honouring a refused upgrade's Retry-After) and since=<last event handled>, pings and an idle
// timeout, a terminal ws_error or refused upgrade returned as *StreamError, each event id
// delivered to the handler once, handler retries, *HandlerError, *ReconnectError with
// MaxConsecutiveFailures — except that a resume Pepay cannot replay is backfilled only with
// CommerceStreamParams.EventsClient.
func (c *CommerceClient) Stream(ctx context.Context, p CommerceStreamParams, handler func(ctx context.Context, e *Event) error) error {
	if handler == nil {
		return errors.New("pepay: nil stream handler")
	}
	if err := checkTypes(p.Types); err != nil {
		return err
	}
	t := p.tuning()
	if err := t.validate("CommerceStreamParams"); err != nil {
		return err
	}
	q := url.Values{}
	if len(p.Types) > 0 {
		q.Set("types", strings.Join(p.Types, ","))
	}
	setIf(q, "order_id", p.OrderID)
	setIf(q, "invoice_id", p.InvoiceID)
	setIf(q, "customer_id", p.CustomerID)
	setIf(q, "wallet_address", p.WalletAddress)
	setIf(q, "wallet_network", p.WalletNetwork)
	spec := streamSpec{
		kind:    "commerce",
		url:     c.wsBase + CommerceStreamPath,
		query:   q,
		resume:  true,
		secrets: []string{c.key},
	}
	if p.UseToken {
		spec.freshTokens = true
		spec.auth = tokenAuth(func(ctx context.Context) (*WSToken, error) { return c.NewWSToken(ctx, DefaultWSTokenTTL) })
	} else {
		spec.auth = headerAuth("x-commerce-api-key", c.key)
	}
	if ec := p.EventsClient; ec != nil {
		types := p.Types
		if len(types) == 0 {
			types = []string{"commerce.order.*"}
		}
		spec.secrets = append(spec.secrets, ec.secrets()...)
		spec.backfill = func(ctx context.Context, from string) iter.Seq2[*Event, error] {
			return ec.EventsAfter(ctx, from, ListEventsParams{Types: types, InvoiceID: p.InvoiceID})
		}
	}
	return runStream(ctx, c.ws, spec, t, streamClock{}, p.Since, handler)
}
