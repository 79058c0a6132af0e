package pepay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/jsonx"
	"github.com/paykit-go/paykit/internal/transport"
)

// ErrDashboardTokenRequired is returned, before anything is sent, by the account routes
// (MainnetAccessStatus, SwitchAccountEnvironment) on a client built without WithDashboardToken
// or WithDashboardTokenSource: Pepay accepts only a dashboard JWT there, never an API key.
var ErrDashboardTokenRequired = errors.New("pepay: this route needs a dashboard token (WithDashboardToken)")

// TokenSource returns a dashboard JWT and when it expires (zero when unknown: the token is then
// reused for 5 minutes, or until Pepay answers 401). The client calls it lazily, shares one
// call among concurrent requests, calls it again shortly before expiry, and once more after a
// 401 (the request is then retried once with the new token). It must be safe for concurrent use.
type TokenSource func(ctx context.Context) (jwt string, expires time.Time, err error)

// WithDashboardToken makes the client send "Authorization: Bearer <jwt>", the dashboard's
// session token. Pepay requires it on the account routes (MainnetAccessStatus,
// SwitchAccountEnvironment) and accepts it on the merchant invoice routes. With an API key as
// well, the invoice routes keep using the key (it does not expire) and only the account routes
// send the JWT; with an empty API key every call sends the JWT. The token is a credential: it
// never appears in an error or a log line. It must not be empty, contain whitespace or carry
// the "Bearer " prefix. It replaces an earlier WithDashboardTokenSource.
func WithDashboardToken(jwt string) Option {
	return func(o *options) error {
		if strings.TrimSpace(jwt) == "" {
			return transport.NamedOption("WithDashboardToken", errors.New("empty dashboard token"))
		}
		if strings.ContainsAny(jwt, " \t\r\n") {
			return transport.NamedOption("WithDashboardToken", errors.New("dashboard token contains whitespace (pass the JWT without the Bearer prefix)"))
		}
		o.dashToken, o.dashSrc = jwt, nil
		return nil
	}
}

// WithDashboardTokenSource is WithDashboardToken for a JWT that expires: src is asked for a
// token when the client needs one (see TokenSource). It replaces an earlier WithDashboardToken.
func WithDashboardTokenSource(src TokenSource) Option {
	return func(o *options) error {
		if src == nil {
			return transport.NamedOption("WithDashboardTokenSource", errors.New("nil dashboard TokenSource"))
		}
		o.dashSrc, o.dashToken = src, ""
		return nil
	}
}

// merchantAuth is the Client's credential: x-api-key when there is a key, else the dashboard
// JWT. It knows both credentials, so either is scrubbed from every error of the client.
type merchantAuth struct {
	key  transport.Auth // nil without an API key
	dash transport.Auth // nil without a dashboard token
}

func newMerchantAuth(apiKey, jwt string, src TokenSource) *merchantAuth {
	a := &merchantAuth{}
	if apiKey != "" {
		a.key = transport.Header("x-api-key", apiKey)
	}
	switch {
	case jwt != "":
		a.dash = transport.Bearer(jwt)
	case src != nil:
		a.dash = transport.BearerToken(transport.NewTokenCache(transport.TokenFunc(src), 0, nil))
	}
	return a
}

func (a *merchantAuth) Apply(ctx context.Context, req *http.Request) error {
	if a.key != nil {
		return a.key.Apply(ctx, req)
	}
	return a.dash.Apply(ctx, req)
}

func (a *merchantAuth) Refresh(req *http.Request) bool {
	if a.key != nil {
		return false // the key is static; a 401 means it is wrong
	}
	r, ok := a.dash.(transport.Refresher)
	return ok && r.Refresh(req)
}

func (a *merchantAuth) Secrets() []string {
	var out []string
	for _, x := range [...]transport.Auth{a.key, a.dash} {
		if r, ok := x.(transport.Redactor); ok {
			out = append(out, r.Secrets()...)
		}
	}
	return out
}

// dashboardAuth sends only the dashboard JWT (never x-api-key), for the account routes.
type dashboardAuth struct{ m *merchantAuth }

func (a dashboardAuth) Apply(ctx context.Context, req *http.Request) error {
	return a.m.dash.Apply(ctx, req)
}

func (a dashboardAuth) Refresh(req *http.Request) bool {
	r, ok := a.m.dash.(transport.Refresher)
	return ok && r.Refresh(req)
}

func (a dashboardAuth) Secrets() []string { return a.m.Secrets() }

// secrets lists the client's credentials for scrubbing stream errors.
func (c *Client) secrets() []string { return c.auth.Secrets() }

// doDashboard sends an account-route request with the dashboard JWT only.
func (c *Client) doDashboard(ctx context.Context, req transport.Request, out any) error {
	if c.auth.dash == nil {
		return ErrDashboardTokenRequired
	}
	req.Auth = dashboardAuth{c.auth}
	return doRequest(ctx, c.t, req, out)
}

const userPath = "user/"

// MainnetAccess is the account's mainnet status (GET /api/v1/user/mainnet-access/status).
type MainnetAccess struct {
	// HasMainnetAccess reports whether Pepay has enabled mainnet for the account.
	HasMainnetAccess bool `json:"has_mainnet_access"`
	// CurrentEnvironment is the environment the dashboard user works in (devnet or mainnet).
	CurrentEnvironment Environment `json:"current_environment"`
}

// UnmarshalJSON accepts has_mainnet_access as a boolean, "true"/"false" or 1/0.
func (m *MainnetAccess) UnmarshalJSON(b []byte) error {
	type plain MainnetAccess
	*m = MainnetAccess{}
	w := struct {
		*plain
		HasMainnetAccess jsonx.Bool `json:"has_mainnet_access"`
	}{plain: (*plain)(m)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	m.HasMainnetAccess = bool(w.HasMainnetAccess)
	return nil
}

// GoLiveStep is what is left to do before taking mainnet payments, following the go-live part
// of Pepay's quickstart ("Devnet flows verified and mainnet access requested"; "When mainnet
// access is enabled: switch to a mainnet API key").
type GoLiveStep string

// Go-live steps, in order.
const (
	// GoLiveRequestAccess: mainnet is not enabled; request it in the dashboard or from Pepay
	// support, and keep using devnet keys meanwhile.
	GoLiveRequestAccess GoLiveStep = "request_mainnet_access"
	// GoLiveSwitchEnvironment: mainnet is enabled but the dashboard user is still on devnet;
	// switch (SwitchAccountEnvironment) to create mainnet keys and webhook endpoints.
	GoLiveSwitchEnvironment GoLiveStep = "switch_environment"
	// GoLiveUseMainnetKey: mainnet is enabled and selected; configure a mainnet API key,
	// verify webhook delivery in production and monitor the invoice lifecycle.
	GoLiveUseMainnetKey GoLiveStep = "use_mainnet_key"
)

// CanGoLive reports whether the account may take mainnet payments (mainnet access is enabled).
func (m *MainnetAccess) CanGoLive() bool { return m.HasMainnetAccess }

// NextStep returns the next go-live step. Only the first is enforced by Pepay; the second is the
// SDK's reading of the quickstart (mainnet keys are made while working in mainnet).
func (m *MainnetAccess) NextStep() GoLiveStep {
	switch {
	case !m.HasMainnetAccess:
		return GoLiveRequestAccess
	case m.CurrentEnvironment != EnvironmentMainnet:
		return GoLiveSwitchEnvironment
	}
	return GoLiveUseMainnetKey
}

// MainnetAccessStatus returns whether mainnet is enabled for the account and which environment
// the dashboard user is in. It needs a dashboard token (ErrDashboardTokenRequired otherwise).
func (c *Client) MainnetAccessStatus(ctx context.Context, opts ...paykit.CallOption) (*MainnetAccess, error) {
	var out MainnetAccess
	req := transport.Request{Method: http.MethodGet, Path: userPath + "mainnet-access/status", Route: userPath + "mainnet-access/status", Options: opts}
	if err := c.doDashboard(ctx, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SwitchAccountEnvironment switches the dashboard user's environment (PUT
// /api/v1/user/environment) with the body {"environment":"mainnet"} — Pepay documents the route
// but not its body, so the field name is the SDK's assumption; a different one would come back
// as a 400 VALIDATION_ERROR. Switching to mainnet without mainnet access is refused by Pepay
// (check MainnetAccessStatus first). It does not change this client's WithEnvironment. Setting
// the same environment twice is harmless, so the call is retried like a read. It needs a
// dashboard token (ErrDashboardTokenRequired otherwise).
func (c *Client) SwitchAccountEnvironment(ctx context.Context, env Environment, opts ...paykit.CallOption) error {
	if env != EnvironmentDevnet && env != EnvironmentMainnet {
		return &paykit.ValidationError{Field: "environment", Reason: fmt.Sprintf("must be %q or %q", EnvironmentDevnet, EnvironmentMainnet)}
	}
	body := struct {
		Environment Environment `json:"environment"`
	}{env}
	req := transport.Request{Method: http.MethodPut, Path: userPath + "environment", Route: userPath + "environment", Body: body, Idempotent: true, Options: opts}
	return c.doDashboard(ctx, req, nil)
}
