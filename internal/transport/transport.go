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
	bufs       sync.Pool // *bytes.Buffer for response bodies that are decoded and dropped
}

// New returns a Client for cfg. The Settings should come from DefaultSettings plus setters.
func New(cfg Config) (*Client, error) {
	if cfg.Provider == "" {
		return nil, errors.New("transport: provider name required")
	}
	if err := ValidateBaseURL(cfg.BaseURL); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Provider, err)
	}
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
	}
	for _, v := range cfg.Secrets {
		if v != "" {
			c.secrets = append(c.secrets, v)
		}
	}
	if c.userAgent == "" {
		c.userAgent = "paykit-go/" + paykit.Version + " (" + cfg.Provider + ")"
	}
	c.rc = &retryablehttp.Client{
		HTTPClient:     hc,
		Logger:         nil, // we log ourselves, without URLs' query strings or headers
		RetryWaitMin:   s.RetryWaitMin,
		RetryWaitMax:   s.RetryWaitMax,
		RetryMax:       s.MaxRetries,
		CheckRetry:     c.checkRetry,
		Backoff:        c.backoff,
		ErrorHandler:   retryablehttp.PassthroughErrorHandler,
		RequestLogHook: c.beforeAttempt,
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
	// Path is relative to the base URL and already escaped for its dynamic segments
	// (use url.PathEscape on ids). A leading slash is ignored, so the base URL's path prefix is
	// always kept; a trailing slash is sent as given.
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
}

// Response is a raw 2xx response.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
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
// URL's prefix and the path.
func (c *Client) URL(path string, q url.Values) string {
	var b strings.Builder
	b.Grow(len(c.base) + len(path) + 2)
	b.WriteString(c.base)
	b.WriteByte('/')
	b.WriteString(strings.TrimLeft(path, "/"))
	if len(q) > 0 {
		b.WriteByte('?')
		b.WriteString(q.Encode())
	}
	return b.String()
}

// Do sends req and decodes a 2xx JSON response into out (nil discards it). A non-2xx response
// becomes a *paykit.Error; an undecodable 2xx body wraps paykit.ErrInvalidResponse.
func (c *Client) Do(ctx context.Context, req Request, out any) error {
	buf := c.getBuffer()
	defer c.putBuffer(buf)
	resp, err := c.do(ctx, &req, buf)
	if err != nil {
		return err
	}
	if out == nil || resp.StatusCode == http.StatusNoContent || buf.Len() == 0 {
		return nil
	}
	if err := json.Unmarshal(buf.Bytes(), out); err != nil {
		return fmt.Errorf("%s: %s %s: %w: %v", c.provider, req.Method, logPath(req.Path), paykit.ErrInvalidResponse, err)
	}
	return nil
}

// DoRaw sends req and returns the 2xx response with its body bytes.
func (c *Client) DoRaw(ctx context.Context, req Request) (*Response, error) {
	var buf bytes.Buffer
	resp, err := c.do(ctx, &req, &buf)
	if err != nil {
		return nil, err
	}
	resp.Body = buf.Bytes()
	return resp, nil
}

func (c *Client) do(ctx context.Context, req *Request, buf *bytes.Buffer) (*Response, error) {
	body, err := encodeBody(req.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: encode request: %w", c.provider, err)
	}
	st := &callState{safe: req.retrySafe(), method: req.Method, path: logPath(req.Path)}
	ctx = context.WithValue(ctx, stateKey{}, st)
	for reauth := false; ; reauth = true {
		httpResp, hreq, err := c.send(ctx, req, body, st)
		if err != nil {
			return nil, err
		}
		if httpResp.StatusCode == http.StatusUnauthorized && !reauth && !req.NoAuth {
			if r, ok := c.authFor(req).(Refresher); ok && r.Refresh(hreq) {
				drain(httpResp.Body)
				c.log(ctx, slog.LevelInfo, "paykit: credential refused, authenticating again", st, httpResp.StatusCode, nil, 0)
				continue
			}
		}
		return c.finish(req, st, httpResp, buf)
	}
}

func (c *Client) authFor(req *Request) Auth {
	if req.Auth != nil {
		return req.Auth
	}
	return c.auth
}

// send builds the request and runs it through the retrying client.
func (c *Client) send(ctx context.Context, req *Request, body []byte, st *callState) (*http.Response, *http.Request, error) {
	var raw any
	if body != nil {
		raw = body
	}
	rreq, err := retryablehttp.NewRequestWithContext(ctx, req.Method, c.URL(req.Path, req.Query), raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: build request: %w", c.provider, err)
	}
	h := rreq.Header
	for k, vs := range req.Header {
		h[k] = vs
	}
	h.Set("User-Agent", c.userAgent)
	h.Set("Accept", "application/json")
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	if req.IdempotencyKey != "" && req.IdempotencyHeader != "" {
		h.Set(req.IdempotencyHeader, req.IdempotencyKey)
	}
	if a := c.authFor(req); a != nil && !req.NoAuth {
		if err := a.Apply(ctx, rreq.Request); err != nil {
			return nil, nil, fmt.Errorf("%s: authenticate: %w", c.provider, c.scrubErr(err))
		}
	}
	resp, err := c.rc.Do(rreq)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, nil, fmt.Errorf("%s: %s %s: %w", c.provider, st.method, st.path, ctxErr)
		}
		err = c.scrubErr(err)
		if !st.safe && !neverReached(err) {
			return nil, nil, fmt.Errorf("%s: %s %s: %w: %w", c.provider, st.method, st.path, paykit.ErrUnknownOutcome, err)
		}
		return nil, nil, fmt.Errorf("%s: %s %s: %w", c.provider, st.method, st.path, err)
	}
	return resp, rreq.Request, nil
}

// finish reads the body under the cap and turns non-2xx responses into *paykit.Error.
func (c *Client) finish(req *Request, st *callState, resp *http.Response, buf *bytes.Buffer) (*Response, error) {
	defer resp.Body.Close()
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, c.maxBody+1))
	if n > c.maxBody {
		return nil, fmt.Errorf("%s: %s %s: %w (more than %d bytes)", c.provider, st.method, st.path, paykit.ErrResponseTooLarge, c.maxBody)
	}
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if err != nil {
		if ok {
			return nil, fmt.Errorf("%s: %s %s: %w: reading body: %v", c.provider, st.method, st.path, paykit.ErrInvalidResponse, err)
		}
		// An error status with a cut-off body is still an error status: decode what arrived.
	}
	if ok {
		return &Response{StatusCode: resp.StatusCode, Header: resp.Header}, nil
	}
	apiErr := decodeError(c.provider, resp, buf.Bytes(), c.secretsFor(req))
	if !st.safe && apiErr.Status >= 500 {
		return nil, fmt.Errorf("%w: %w", paykit.ErrUnknownOutcome, apiErr)
	}
	return nil, apiErr
}

// secretsFor lists every credential value that must not appear in an error.
func (c *Client) secretsFor(req *Request) []string {
	out := append([]string(nil), c.secrets...)
	for _, a := range []Auth{c.auth, req.Auth} {
		if r, ok := a.(Redactor); ok {
			out = append(out, r.Secrets()...)
		}
	}
	return out
}

// Redact replaces every known credential in s with "[REDACTED]".
func (c *Client) Redact(s string) string { return redact(s, c.secretsFor(&Request{})) }

func (c *Client) scrubErr(err error) error {
	msg := err.Error()
	if red := c.Redact(msg); red != msg {
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
