// Package transport is the one HTTP client under every paykit provider package: base-URL
// joining, JSON bodies, authentication, retries on go-retryablehttp, response size caps, error
// envelope decoding into *paykit.Error, and logging that never shows a credential. Provider
// packages describe a call with a Request and write no retry, auth or error code of their own.
package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/paykit-go/paykit"
)

// Config configures a Client.
type Config struct {
	// Provider names the API in errors, logs and the User-Agent ("jopay").
	Provider string
	// Settings are the shared, already validated client options.
	Settings
	// Auth puts credentials on every request that does not opt out (nil: none).
	Auth Auth
	// Secrets are further values to scrub from error bodies (a password, a webhook secret).
	Secrets []string
	// BaseURLRule is what Settings.BaseURL must look like (see BaseURLRule.CheckBaseURL).
	BaseURLRule BaseURLRule
}

// Client sends requests to one provider. It is safe for concurrent use.
type Client struct {
	provider   string
	base       string // base URL without trailing slash
	rc         *retryablehttp.Client
	auth       Auth
	userAgent  string
	logger     *slog.Logger // nil: silent
	secrets    []string
	maxBody    int64
	maxRetryAt time.Duration
	waitMin    time.Duration
	waitMax    time.Duration
	now        func() time.Time // the clock for Retry-After dates; tests replace it
	maxRetries int              // the client's retry limit; a call may set its own
	limiter    paykit.RateLimiter
	observer   paykit.Observer

	userAgentHdr []string // header values shared by every request; never modified
	jsonHdr      []string
	bufs         sync.Pool // *bytes.Buffer for response bodies that are decoded and dropped
}

// New returns a Client for cfg. The Settings should come from DefaultSettings plus setters.
func New(cfg Config) (*Client, error) {
	if cfg.Provider == "" {
		return nil, errors.New("transport: provider name required")
	}
	base, err := cfg.BaseURLRule.CheckBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, ConstructorError(cfg.Provider, &OptionError{Option: "WithBaseURL", Err: err})
	}
	cfg.BaseURL = base
	s := cfg.Settings
	if s.MaxResponseBytes <= 0 {
		s.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if s.RetryWaitMin <= 0 {
		s.RetryWaitMin = DefaultRetryWaitMin
	}
	if s.RetryWaitMax < s.RetryWaitMin {
		s.RetryWaitMax = max(DefaultRetryWaitMax, s.RetryWaitMin)
	}
	hc := s.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient()
	}
	// Credentials go to the configured host only, with the caller's client too.
	hc = ConfineRedirects(cfg.Provider, hc, cfg.BaseURL)
	c := &Client{
		provider:   cfg.Provider,
		base:       strings.TrimRight(cfg.BaseURL, "/"),
		auth:       cfg.Auth,
		userAgent:  s.UserAgent,
		logger:     s.Logger,
		maxBody:    s.MaxResponseBytes,
		maxRetryAt: s.MaxRetryAfter,
		waitMin:    s.RetryWaitMin,
		waitMax:    s.RetryWaitMax,
		now:        time.Now,
		maxRetries: s.MaxRetries,
		limiter:    s.RateLimiter,
		observer:   s.Observer,
	}
	for _, v := range cfg.Secrets {
		if v != "" {
			c.secrets = append(c.secrets, v)
		}
	}
	c.userAgent = UserAgent(cfg.Provider, s)
	c.userAgentHdr = []string{c.userAgent}
	c.jsonHdr = []string{"application/json"}
	c.rc = &retryablehttp.Client{
		HTTPClient:     hc,
		Logger:         nil, // we log ourselves, without URLs' query strings or headers
		RetryWaitMin:   s.RetryWaitMin,
		RetryWaitMax:   s.RetryWaitMax,
		RetryMax:       maxRetriesLimit, // the call's own limit is enforced in checkRetry
		CheckRetry:     c.checkRetry,
		Backoff:        c.backoff,
		ErrorHandler:   retryablehttp.PassthroughErrorHandler,
		RequestLogHook: c.beforeAttempt,
		PrepareRetry:   c.prepareRetry,
	}
	return c, nil
}

// defaultHTTPClient is a pooled client with timeouts suited to payment APIs. No overall
// Timeout: callers bound calls with their context.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	t.ResponseHeaderTimeout = 60 * time.Second
	return &http.Client{Transport: t}
}

// Provider returns the provider name the client was built for.
func (c *Client) Provider() string { return c.provider }

// BaseURL returns the base URL without a trailing slash.
func (c *Client) BaseURL() string { return c.base }

// Request describes one API call.
type Request struct {
	// Method is the HTTP method.
	Method string
	// Path is relative to the base URL and already escaped for its dynamic segments (build
	// every id segment with PathSegment). A leading slash is ignored, so the base URL's path
	// prefix is always kept; a trailing slash is sent as given.
	Path string
	// Query is encoded onto the URL when non-empty.
	Query url.Values
	// Body is JSON-encoded once and the same bytes are sent on every attempt. A []byte or
	// json.RawMessage is sent as is. nil sends no body.
	Body any
	// Header holds extra headers (the auth and standard headers are added by the client).
	Header http.Header
	// IdempotencyKey marks a write as safe to retry. With IdempotencyHeader set, the key is also
	// sent in that header on every attempt; otherwise the caller has put it in the body.
	IdempotencyKey string
	// IdempotencyHeader is the header that carries IdempotencyKey ("Idempotency-Key"), if any.
	IdempotencyHeader string
	// Idempotent marks a write that is safe to repeat by its nature (cancelling a request).
	Idempotent bool
	// NoAuth sends the request without the client's credentials (health checks, logins).
	NoAuth bool
	// Auth, when set, is used instead of the client's credentials (per-session headers).
	Auth Auth
	// Route is the path template for telemetry, relative to the base URL, with every id
	// replaced by a placeholder ("requests/{id}"); see RouteOf for the default when empty.
	Route string
	// Limiter, when set, is waited on before every attempt instead of the client's: a route with
	// a quota of its own inside the client's gives a limiter that admits on both at one instant
	// (ratelimit.Group.All).
	Limiter paykit.RateLimiter
	// Options are the caller's per-call options (see paykit.CallOption). A provider that
	// supports idempotency keys reads WithIdempotencyKey itself (paykit.ResolveCallOptions) and
	// puts the key in IdempotencyKey; any other call given one is refused.
	Options []paykit.CallOption
}

// Response is a raw 2xx response.
type Response struct {
	// StatusCode is the 2xx status.
	StatusCode int
	// Header is the response's header.
	Header http.Header
	// Body is the whole body (DoRaw only).
	Body []byte
}

// retrySafe reports whether the request may be sent again after it may have reached the server.
func (r *Request) retrySafe() bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodDelete, http.MethodOptions:
		return true
	}
	return r.IdempotencyKey != "" || r.Idempotent
}

// URL joins the base URL, path and query. It never doubles or drops a slash between the base
// URL's prefix and the path. A path that already carries a query gets q appended with "&".
func (c *Client) URL(path string, q url.Values) string {
	path = strings.TrimLeft(path, "/")
	var b strings.Builder
	b.Grow(len(c.base) + len(path) + 1)
	b.WriteString(c.base)
	b.WriteByte('/')
	b.WriteString(path)
	if len(q) > 0 {
		if strings.IndexByte(path, '?') >= 0 {
			b.WriteByte('&')
		} else {
			b.WriteByte('?')
		}
		b.WriteString(q.Encode())
	}
	return b.String()
}

// Do sends req and decodes a 2xx JSON response into out (nil discards it). A non-2xx response
// becomes a *paykit.Error; an undecodable 2xx body wraps paykit.ErrInvalidResponse.
func (c *Client) Do(ctx context.Context, req Request, out any) error {
	buf := c.getBuffer()
	defer c.putBuffer(buf)
	var resp Response
	if err := c.do(ctx, req, buf, &resp); err != nil {
		return err
	}
	if out == nil || resp.StatusCode == http.StatusNoContent || buf.Len() == 0 {
		return nil
	}
	if err := decodeBody(buf.Bytes(), out); err != nil {
		err = fmt.Errorf("%s: %s %s: %w: %w", c.provider, req.Method, logPath(req.Path), paykit.ErrInvalidResponse, err)
		if !req.retrySafe() {
			// The provider accepted the write but its answer is unreadable: the object exists
			// and the caller does not know it, exactly as after a lost response.
			return fmt.Errorf("%w: %w", paykit.ErrUnknownOutcome, err)
		}
		return err
	}
	return nil
}

// BodyDecoder is a response type that decodes a whole 2xx body itself. Do hands such a type
// the body directly instead of going through json.Unmarshal, which would scan the body once to
// validate it and once more to cut out the value for an UnmarshalJSON method before that method
// scans it a third time. DecodeBody receives the body exactly as it arrived (leading and
// trailing whitespace included, nothing validated) and must refuse, with an error, every body
// json.Unmarshal would refuse: decoding it with json.Unmarshal does that.
type BodyDecoder interface {
	DecodeBody(body []byte) error
}

// decodeBody decodes a 2xx body into out: through out's own DecodeBody when it has one,
// otherwise with json.Unmarshal.
func decodeBody(body []byte, out any) error {
	if d, ok := out.(BodyDecoder); ok {
		return d.DecodeBody(body)
	}
	return json.Unmarshal(body, out)
}

// DoRaw sends req and returns the 2xx response with its body bytes.
func (c *Client) DoRaw(ctx context.Context, req Request) (*Response, error) {
	var buf bytes.Buffer
	resp := new(Response)
	if err := c.do(ctx, req, &buf, resp); err != nil {
		return nil, err
	}
	resp.Body = buf.Bytes()
	return resp, nil
}

// do runs one call: encode, send with retries and at most one re-authentication, read the body
// into buf and fill resp's status and header.
func (c *Client) do(ctx context.Context, req Request, buf *bytes.Buffer, resp *Response) (err error) {
	maxRetries := c.maxRetries
	var info *paykit.ResponseInfo
	if len(req.Options) > 0 {
		cc, err := paykit.ResolveCallOptions(req.Options...)
		if err == nil {
			if err = c.applyCall(&req, &cc); err != nil && cc.ResponseInfo != nil {
				*cc.ResponseInfo = paykit.ResponseInfo{RateLimit: paykit.RateLimit{Remaining: -1}} // nothing was sent
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %s %s: %w", c.provider, req.Method, logPath(req.Path), err)
		}
		if cc.MaxRetries >= 0 {
			maxRetries = cc.MaxRetries
		}
		if cc.Timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, cc.Timeout)
			defer cancel()
		}
		info = cc.ResponseInfo
	}
	body, err := encodeBody(req.Body)
	if err != nil {
		return fmt.Errorf("%s: encode request: %w", c.provider, err)
	}
	var obs paykit.CallObserver
	if c.observer != nil {
		ctx, obs = c.observer.StartCall(ctx, paykit.CallStart{Provider: c.provider, Method: req.Method, Route: "/" + RouteOf(req)})
	}
	// One allocation carries the call through go-retryablehttp's hooks: callState is the
	// request's context (see callState.Value) and holds the request wrapper and body readers.
	st := &callState{Context: ctx, req: req, body: body, maxRetries: int64(maxRetries), obs: obs}
	st.safe = st.req.retrySafe()
	if info != nil || obs != nil {
		start := time.Now()
		defer func() { c.report(st, info, start, err) }()
	}
	for reauth := false; ; reauth = true {
		httpResp, err := c.send(st)
		if err != nil {
			return err
		}
		if httpResp.StatusCode == http.StatusUnauthorized && !reauth && !st.req.NoAuth {
			if r, ok := c.authFor(&st.req).(Refresher); ok && r.Refresh(st.sent) {
				drain(httpResp.Body)
				c.log(st, slog.LevelInfo, "paykit: credential refused, authenticating again", st, httpResp.StatusCode, nil, 0)
				st.prior += st.attempt.Load()
				continue
			}
		}
		return c.finish(st, httpResp, buf, resp)
	}
}

func (c *Client) authFor(req *Request) Auth {
	if req.Auth != nil {
		return req.Auth
	}
	return c.auth
}

// send builds the request and runs it through the retrying client. The body is not handed to
// go-retryablehttp (which would box it and allocate two readers per attempt): the first attempt
// reads st.first, later ones get a fresh reader from prepareRetry, and GetBody lets net/http
// replay it on a stale keep-alive connection.
func (c *Client) send(st *callState) (*http.Response, error) {
	req := &st.req
	hreq, err := http.NewRequestWithContext(st, req.Method, c.URL(req.Path, req.Query), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", c.provider, c.scrubErr(err, st))
	}
	h := hreq.Header
	for k, vs := range req.Header {
		h[k] = vs
	}
	// Shared, never-modified value slices: no allocation per request.
	h["User-Agent"] = c.userAgentHdr
	h["Accept"] = c.jsonHdr
	if st.body != nil {
		h["Content-Type"] = c.jsonHdr
		if st.sent == nil {
			st.first.Reset(st.body)
			hreq.Body = io.NopCloser(&st.first) // see callState.newBody
		} else {
			// Sending again after a re-authentication: the first reader may still be held by
			// the previous attempt's connection writer.
			hreq.Body, _ = st.newBody()
		}
		hreq.GetBody = st.newBody
		hreq.ContentLength = int64(len(st.body))
	}
	if req.IdempotencyKey != "" && req.IdempotencyHeader != "" {
		h.Set(req.IdempotencyHeader, req.IdempotencyKey)
	}
	st.sent = hreq
	if a := c.authFor(req); a != nil && !req.NoAuth {
		if err := a.Apply(st, hreq); err != nil {
			return nil, fmt.Errorf("%s: authenticate: %w", c.provider, c.scrubErr(err, st))
		}
	}
	if err := c.waitLimit(st); err != nil {
		return nil, err
	}
	st.rreq = retryablehttp.Request{Request: hreq}
	resp, err := c.rc.Do(&st.rreq)
	if st.limitErr != nil {
		// The limiter refused a retry: the previous attempt's answer was drained already.
		if resp != nil {
			drain(resp.Body)
		}
		return nil, st.limitErr
	}
	if err != nil {
		if resp != nil {
			// The context ended after the response arrived: give the connection back.
			drain(resp.Body)
		}
		if ctxErr := st.Err(); ctxErr != nil {
			if !st.safe && st.reached {
				// Cancelled while a write without an idempotency mechanism was in flight: the
				// provider may have acted on it.
				return nil, fmt.Errorf("%s: %s %s: %w: %w", c.provider, req.Method, st.path(), paykit.ErrUnknownOutcome, ctxErr)
			}
			return nil, fmt.Errorf("%s: %s %s: %w", c.provider, req.Method, st.path(), ctxErr)
		}
		if apiErr, ok := asRefusedRedirect(err); ok {
			// The provider answered with a redirect to another host, which was not followed:
			// an answer like any other error status, without net/http's *url.Error around it
			// (its URL is the redirect target's, query included).
			apiErr.Message = newRedactor(c.secretsFor(req, st.sent)).redact(apiErr.Message)
			apiErr.Method, apiErr.Path = req.Method, st.path()
			if !st.safe {
				return nil, fmt.Errorf("%w: %w", paykit.ErrUnknownOutcome, apiErr)
			}
			return nil, apiErr
		}
		err = c.scrubErr(err, st)
		if !st.safe && !neverReached(err) {
			return nil, fmt.Errorf("%s: %s %s: %w: %w", c.provider, req.Method, st.path(), paykit.ErrUnknownOutcome, err)
		}
		return nil, fmt.Errorf("%s: %s %s: %w", c.provider, req.Method, st.path(), err)
	}
	return resp, nil
}

// prepareRetry gives every retry its own reader over the same body bytes: the previous
// attempt's reader may still be held by net/http's connection writer.
func (c *Client) prepareRetry(req *http.Request) error {
	st := stateFrom(req.Context())
	if st == nil {
		return nil
	}
	if err := c.waitLimit(st); err != nil {
		st.limitErr = err
		return err
	}
	if st.body != nil {
		req.Body, _ = st.newBody()
	}
	return nil
}

// finish reads the body under the cap and turns non-2xx responses into *paykit.Error.
func (c *Client) finish(st *callState, resp *http.Response, buf *bytes.Buffer, out *Response) error {
	defer resp.Body.Close()
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	st.limited = io.LimitedReader{R: resp.Body, N: c.maxBody + 1}
	n, err := buf.ReadFrom(&st.limited)
	if n > c.maxBody {
		if ok {
			return c.unreadable(st, fmt.Errorf("%s: %s %s: %w (more than %d bytes)", c.provider, st.req.Method, st.path(), paykit.ErrResponseTooLarge, c.maxBody))
		}
		// An error status is still an error status: decode the first maxBody bytes (an
		// oversized proxy page must not hide the 502 behind a size error).
		buf.Truncate(int(c.maxBody))
	}
	if err != nil && ok {
		if ctxErr := st.Err(); ctxErr != nil {
			// The context ended while the answer was arriving: report it as the context's
			// error, which errors.Is finds, not as an invalid response.
			if errors.Is(err, ctxErr) {
				return c.unreadable(st, fmt.Errorf("%s: %s %s: reading body: %w", c.provider, st.req.Method, st.path(), c.scrubErr(err, st)))
			}
			return c.unreadable(st, fmt.Errorf("%s: %s %s: reading body: %w: %w", c.provider, st.req.Method, st.path(), ctxErr, c.scrubErr(err, st)))
		}
		return c.unreadable(st, fmt.Errorf("%s: %s %s: %w: reading body: %w", c.provider, st.req.Method, st.path(), paykit.ErrInvalidResponse, c.scrubErr(err, st)))
	}
	st.status, st.header = resp.StatusCode, resp.Header
	// An error status with a cut-off body is still an error status: decode what arrived.
	if ok {
		out.StatusCode, out.Header = resp.StatusCode, resp.Header
		return nil
	}
	apiErr := decodeError(c.provider, resp, buf.Bytes(), c.secretsFor(&st.req, st.sent), c.now())
	apiErr.Method, apiErr.Path = st.req.Method, st.path()
	if !st.safe && apiErr.Status >= 500 {
		return fmt.Errorf("%w: %w", paykit.ErrUnknownOutcome, apiErr)
	}
	return apiErr
}

// unreadable marks the error for a 2xx answer whose body could not be read: after a write with
// no idempotency mechanism the provider has acted, so the outcome is unknown to the caller.
func (c *Client) unreadable(st *callState, err error) error {
	if !st.safe {
		return fmt.Errorf("%w: %w", paykit.ErrUnknownOutcome, err)
	}
	return err
}

// secretsFor lists every credential value that must not appear in an error or a log line: the
// configured secrets, the Auths' current credentials, and the credential headers actually sent
// on the request (a token replaced since by a new login is still the one a server may echo).
func (c *Client) secretsFor(req *Request, sent *http.Request) []string {
	out := make([]string, 0, len(c.secrets)+4)
	out = append(out, c.secrets...)
	for _, a := range [...]Auth{c.auth, req.Auth} {
		if r, ok := a.(Redactor); ok {
			out = append(out, r.Secrets()...)
		}
	}
	if sent != nil {
		for name, vs := range sent.Header {
			if !credentialHeader(name) {
				continue
			}
			for _, v := range vs {
				out = append(out, v)
				if _, tok, ok := strings.Cut(v, " "); ok { // "Bearer <token>"
					out = append(out, strings.TrimSpace(tok))
				}
			}
		}
	}
	return out
}

// credentialHeader reports whether a header carries a credential by its name.
func credentialHeader(name string) bool {
	n := strings.ToLower(name)
	if n == "authorization" || n == "proxy-authorization" || n == "cookie" {
		return true
	}
	for _, part := range [...]string{"api-key", "apikey", "token", "secret", "password", "signature"} {
		if strings.Contains(n, part) {
			return true
		}
	}
	return false
}

// Redact replaces every credential the client knows (its Auth's, Config.Secrets) in s with
// "[REDACTED]", in whatever JSON, percent or HTML escaping it appears.
func (c *Client) Redact(s string) string {
	return newRedactor(c.secretsFor(&Request{}, nil)).redact(s)
}

// scrubErr returns err with every known credential removed from its text. st may be nil.
func (c *Client) scrubErr(err error, st *callState) error {
	req, sent := &Request{}, (*http.Request)(nil)
	if st != nil {
		req, sent = &st.req, st.sent
	}
	msg := err.Error()
	if red := newRedactor(c.secretsFor(req, sent)).redact(msg); red != msg {
		return redactedError{msg: red, err: err}
	}
	return err
}

// redactedError keeps errors.Is/As working on the original while printing the scrubbed text.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

func encodeBody(v any) ([]byte, error) {
	switch b := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		return b, nil
	case json.RawMessage:
		return b, nil
	}
	return json.Marshal(v)
}

// logPath is the request path without a query, safe to log.
func logPath(p string) string {
	p, _, _ = strings.Cut(p, "?")
	return "/" + strings.TrimLeft(p, "/")
}

func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	body.Close()
}

func (c *Client) getBuffer() *bytes.Buffer {
	if b, ok := c.bufs.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

func (c *Client) putBuffer(b *bytes.Buffer) {
	if b.Cap() > 1<<20 { // do not keep huge buffers alive
		return
	}
	b.Reset()
	c.bufs.Put(b)
}
