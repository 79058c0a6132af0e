package pepay

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/transport"
)

// Provider is the provider name used in errors and logs ("pepay: 401 API_KEY_INVALID: …").
const Provider = "pepay"

// DefaultBaseURL is Pepay's REST API root, including its /api/v1 path; the merchant WebSocket
// lives on the same host under /ws.
const DefaultBaseURL = "https://api-beta.pepay.io/api/v1"

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

// shared converts one of the client options every provider shares (internal/transport) into
// an Option.
func shared(so transport.Option) Option {
	return func(o *options) error { return so.Apply(&o.Settings) }
}

// The options below are shared by every paykit provider client, with the same validation and
// defaults; the README's "Client options" section describes them once.

// WithBaseURL sets the REST API root including /api/v1 (default DefaultBaseURL), for a fake
// server (pepaytest) or a proxy. A bare host ("https://api-beta.pepay.io", the form older
// releases took) is completed with /api/v1. The WebSocket URL is derived from the host unless
// WithWebSocketURL is set.
func WithBaseURL(u string) Option { return shared(transport.WithBaseURL(u)) }

// WithWebSocketURL sets the WebSocket host ("wss://api-beta.pepay.io") when it differs from the
// REST host. http and https are accepted and mean ws and wss.
func WithWebSocketURL(u string) Option {
	return func(o *options) error {
		p, err := url.Parse(u)
		if err != nil {
			return transport.NamedOption("WithWebSocketURL", fmt.Errorf("invalid WebSocket URL: %w", err))
		}
		switch p.Scheme {
		case "ws", "wss", "http", "https":
		default:
			return transport.NamedOption("WithWebSocketURL", fmt.Errorf("invalid WebSocket URL %q: scheme must be ws, wss, http or https", u))
		}
		if p.Host == "" || p.RawQuery != "" || p.Fragment != "" || p.User != nil {
			return transport.NamedOption("WithWebSocketURL", fmt.Errorf("invalid WebSocket URL %q: need a host and no query, fragment or user info", u))
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
			return transport.NamedOption("WithEnvironment", fmt.Errorf("environment must be %q or %q, got %q", EnvironmentDevnet, EnvironmentMainnet, env))
		}
		o.env = env
		return nil
	}
}

// WithHTTPClient sets the *http.Client used for REST calls and the WebSocket handshake (shared
// option; see the README).
func WithHTTPClient(c *http.Client) Option { return shared(transport.WithHTTPClient(c)) }

// WithMaxRetries sets how many times a retryable call is retried (shared option; see the README).
func WithMaxRetries(n int) Option { return shared(transport.WithMaxRetries(n)) }

// WithRetryWait sets the backoff bounds between retries (shared option; see the README).
func WithRetryWait(min, max time.Duration) Option { return shared(transport.WithRetryWait(min, max)) }

// WithMaxRetryAfter sets the longest Retry-After waited for (shared option; see the README).
func WithMaxRetryAfter(d time.Duration) Option { return shared(transport.WithMaxRetryAfter(d)) }

// WithMaxResponseBytes caps response bodies (shared option; see the README).
func WithMaxResponseBytes(n int64) Option { return shared(transport.WithMaxResponseBytes(n)) }

// WithUserAgent overrides the User-Agent header (shared option; see the README).
func WithUserAgent(ua string) Option { return shared(transport.WithUserAgent(ua)) }

// WithLogger logs REST attempts and retries, and stream reconnects, never a credential, a
// ws_token or a body (shared option; see the README).
func WithLogger(l *slog.Logger) Option { return shared(transport.WithLogger(l)) }

// WithRateLimiter makes every REST request wait on l before each attempt, retries included;
// nil turns limiting off. Pepay's limits are per endpoint and unpublished, so there is no
// default limiter (shared option; see the README).
func WithRateLimiter(l paykit.RateLimiter) Option { return shared(transport.WithRateLimiter(l)) }

// WithObserver tells o about every REST call and attempt, for tracing and metrics (shared
// option; see the README). Stream reconnects are reported through StreamParams.OnReconnect.
func WithObserver(o paykit.Observer) Option { return shared(transport.WithObserver(o)) }

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

		BaseURLRule: baseURLRule(),
	})
	if err != nil {
		return nil, err
	}
	c := &Client{t: t, env: o.env, apiKey: apiKey, auth: auth, wsBase: o.wsBase, http: o.HTTPClient, logger: o.Logger, settings: o.Settings}
	if c.wsBase == "" {
		c.wsBase = wsHost(t.BaseURL())
	}
	return c, nil
}

func buildOptions(opts []Option) (options, error) {
	o := options{Settings: transport.DefaultSettings(DefaultBaseURL)}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return o, transport.ConstructorError(Provider, err)
		}
	}
	return o, nil
}

// baseURLRule is Pepay's base URL rule: the REST root includes /api/v1; a bare host is
// completed with it.
func baseURLRule() transport.BaseURLRule {
	return transport.BaseURLRule{VersionPath: "/api/v1", Want: DefaultBaseURL, AddVersionPath: true}
}

// wsHost returns the WebSocket base derived from a REST base URL: its scheme made ws or wss and
// its /api/v1 path dropped (the WebSocket routes hang off the host).
func wsHost(base string) string {
	return wsScheme(strings.TrimSuffix(strings.TrimRight(base, "/"), "/api/v1"))
}

// BaseURL returns the REST API root the client sends to (with /api/v1), without a trailing slash.
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
