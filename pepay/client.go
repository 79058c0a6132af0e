package pepay

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/paykit-go/paykit/internal/transport"
)

// Provider is the provider name used in errors and logs ("pepay: 401 API_KEY_INVALID: …").
const Provider = "pepay"

// DefaultBaseURL is Pepay's REST host. Request paths start with /api/v1; the merchant WebSocket
// lives on the same host under /ws.
const DefaultBaseURL = "https://api-beta.pepay.io"

// Environment selects Pepay's rails: devnet (testnet) or mainnet (enabled per account).
type Environment string

// Environments.
const (
	// EnvironmentDevnet is the testnet environment; every account has it.
	EnvironmentDevnet Environment = "devnet"
	// EnvironmentMainnet moves real funds; it must be enabled for the account first.
	EnvironmentMainnet Environment = "mainnet"
)

// Client talks to the Pepay merchant API with an x-api-key, a dashboard JWT
// (WithDashboardToken), or both. It is safe for concurrent use; build one per key and share it.
// Never use it in a browser: payor-side code uses NewPayorClient.
type Client struct {
	t        *transport.Client
	env      Environment
	apiKey   string // for the WebSocket upgrade header; never logged or put in an error; "" with a JWT only
	auth     *merchantAuth
	wsBase   string // ws(s)://host without a trailing slash
	http     *http.Client
	logger   *slog.Logger // nil: silent
	settings transport.Settings
}

// Option configures NewClient. Options validate their argument; NewClient reports the first
// invalid one.
type Option func(*options) error

type options struct {
	transport.Settings
	env       Environment
	wsBase    string
	dashToken string      // WithDashboardToken
	dashSrc   TokenSource // WithDashboardTokenSource
}

// WithBaseURL sets the REST host (default DefaultBaseURL), for a fake server (pepaytest) or a
// proxy. Give the host root: the client appends /api/v1/… and derives the WebSocket URL
// (ws:// or wss://) from it unless WithWebSocketURL is set.
func WithBaseURL(u string) Option {
	return func(o *options) error { return o.SetBaseURL(u) }
}

// WithWebSocketURL sets the WebSocket host ("wss://api-beta.pepay.io") when it differs from the
// REST host. http and https are accepted and mean ws and wss.
func WithWebSocketURL(u string) Option {
	return func(o *options) error {
		p, err := url.Parse(u)
		if err != nil {
			return fmt.Errorf("invalid WebSocket URL: %w", err)
		}
		switch p.Scheme {
		case "ws", "wss", "http", "https":
		default:
			return fmt.Errorf("invalid WebSocket URL %q: scheme must be ws, wss, http or https", u)
		}
		if p.Host == "" || p.RawQuery != "" || p.Fragment != "" || p.User != nil {
			return fmt.Errorf("invalid WebSocket URL %q: need a host and no query, fragment or user info", u)
		}
		o.wsBase = wsScheme(strings.TrimRight(u, "/"))
		return nil
	}
}

// WithEnvironment sends environment=devnet|mainnet on the endpoints that take it (invoice and
// event lists, totals, invoice lookups, the stream). Without it Pepay uses the key's default.
func WithEnvironment(env Environment) Option {
	return func(o *options) error {
		if env != EnvironmentDevnet && env != EnvironmentMainnet {
			return fmt.Errorf("environment must be %q or %q, got %q", EnvironmentDevnet, EnvironmentMainnet, env)
		}
		o.env = env
		return nil
	}
}

// WithHTTPClient sets the *http.Client used for REST calls and the WebSocket handshake. The
// default is a pooled client without an overall timeout: bound calls with their context.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) error { return o.SetHTTPClient(c) }
}

// WithMaxRetries sets how many times a retryable call is retried (default 3, at most 10; 0
// disables retries). Reads and invoice creation (always keyed by Idempotency-Key) are retried
// on connection errors, 429 and 5xx.
func WithMaxRetries(n int) Option {
	return func(o *options) error { return o.SetMaxRetries(n) }
}

// WithRetryWait sets the backoff bounds between retries (default 500 ms to 8 s, jittered,
// doubling). A Retry-After header takes precedence.
func WithRetryWait(min, max time.Duration) Option {
	return func(o *options) error { return o.SetRetryWait(min, max) }
}

// WithMaxRetryAfter sets the longest Retry-After the client waits for before retrying (default
// 60 s); when Pepay asks for longer, the 429 is returned at once.
func WithMaxRetryAfter(d time.Duration) Option {
	return func(o *options) error { return o.SetMaxRetryAfter(d) }
}

// WithMaxResponseBytes caps response bodies (default 10 MiB).
func WithMaxResponseBytes(n int64) Option {
	return func(o *options) error { return o.SetMaxResponseBytes(n) }
}

// WithUserAgent overrides the User-Agent header (default "paykit-go/<version> (pepay)").
func WithUserAgent(ua string) Option {
	return func(o *options) error { return o.SetUserAgent(ua) }
}

// WithLogger logs REST attempts (Debug), retries (Info) and stream reconnects (Info/Warn):
// method, path, status, event ids and durations — never the API key, a ws_token or a body.
// The default is silent.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { return o.SetLogger(l) }
}

// NewClient returns a merchant client that sends apiKey as x-api-key. The key's prefix (pk_…,
// sk_live_… both appear in Pepay's docs) is not checked. The key may be empty only when a
// dashboard JWT is configured (WithDashboardToken, WithDashboardTokenSource): the client then
// sends the JWT on every call, which Pepay accepts on the invoice routes; the events API, ws
// tokens and a Stream without UseToken need the key. Errors never contain a credential.
func NewClient(apiKey string, opts ...Option) (*Client, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	hasDash := o.dashToken != "" || o.dashSrc != nil
	switch {
	case strings.TrimSpace(apiKey) == "" && !hasDash:
		return nil, errors.New("pepay: empty API key")
	case apiKey != "" && strings.TrimSpace(apiKey) == "":
		return nil, errors.New("pepay: empty API key")
	case strings.ContainsAny(apiKey, " \t\r\n"):
		return nil, errors.New("pepay: API key contains whitespace")
	}
	auth := newMerchantAuth(apiKey, o.dashToken, o.dashSrc)
	t, err := transport.New(transport.Config{
		Provider: Provider,
		Settings: o.Settings,
		Auth:     auth,
	})
	if err != nil {
		return nil, err
	}
	c := &Client{t: t, env: o.env, apiKey: apiKey, auth: auth, wsBase: o.wsBase, http: o.HTTPClient, logger: o.Logger, settings: o.Settings}
	if c.wsBase == "" {
		c.wsBase = wsScheme(t.BaseURL())
	}
	return c, nil
}

func buildOptions(opts []Option) (options, error) {
	o := options{Settings: transport.DefaultSettings(DefaultBaseURL)}
	for i, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return o, fmt.Errorf("pepay: option %d: %w", i+1, err)
		}
	}
	return o, nil
}

// BaseURL returns the REST host the client sends to, without a trailing slash.
func (c *Client) BaseURL() string { return c.t.BaseURL() }

// Environment returns the environment set with WithEnvironment, or "" for the key's default.
func (c *Client) Environment() Environment { return c.env }

// envOr returns e, or the client's environment when e is empty.
func (c *Client) envOr(e Environment) Environment {
	if e != "" {
		return e
	}
	return c.env
}

// wsScheme maps http(s):// to ws(s)://.
func wsScheme(u string) string {
	switch {
	case strings.HasPrefix(u, "https://"):
		return "wss://" + strings.TrimPrefix(u, "https://")
	case strings.HasPrefix(u, "http://"):
		return "ws://" + strings.TrimPrefix(u, "http://")
	}
	return u
}
