package transport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paykit-go/paykit"
)

// applyCall puts a call's options on req: extra headers, and the idempotency key where the
// request has a place for one.
func (c *Client) applyCall(req *Request, cc *paykit.CallConfig) error {
	if len(cc.Header) > 0 {
		h := make(http.Header, len(req.Header)+len(cc.Header))
		for k, vs := range req.Header {
			h[k] = vs
		}
		for k, vs := range cc.Header {
			if req.IdempotencyHeader != "" && strings.EqualFold(k, req.IdempotencyHeader) {
				return &paykit.ValidationError{Field: "WithHeader", Reason: fmt.Sprintf("%s carries the idempotency key: use WithIdempotencyKey", req.IdempotencyHeader)}
			}
			h[k] = append(h[k], vs...)
		}
		req.Header = h
	}
	if key := cc.IdempotencyKey; key != "" {
		switch {
		case req.IdempotencyHeader != "":
			req.IdempotencyKey = key
		case req.IdempotencyKey == key:
			// The provider package put the key where its API takes it (the request body).
		default:
			return &paykit.ValidationError{Field: "WithIdempotencyKey",
				Reason: fmt.Sprintf("%s %s takes no idempotency key: %s has no idempotency mechanism for it", req.Method, "/"+RouteOf(*req), c.provider)}
		}
	}
	return nil
}

// waitLimit waits on the request's limiter, or else the client's, before an attempt.
func (c *Client) waitLimit(st *callState) error {
	l := c.limiter
	if st.req.Limiter != nil {
		l = st.req.Limiter
	}
	if l != nil {
		err := l.Wait(st.Context)
		if err == nil {
			return nil
		}
		if ctxErr := st.Context.Err(); ctxErr != nil && errors.Is(err, ctxErr) || errors.Is(err, paykit.ErrRateLimited) {
			return fmt.Errorf("%s: %s %s: %w", c.provider, st.req.Method, st.path(), c.scrubErr(err, st))
		}
		return fmt.Errorf("%s: %s %s: %w: %w", c.provider, st.req.Method, st.path(), paykit.ErrRateLimited, c.scrubErr(err, st))
	}
	return nil
}

// report fills the caller's ResponseInfo and ends the observer's call.
func (c *Client) report(st *callState, info *paykit.ResponseInfo, start time.Time, err error) {
	ri := paykit.ResponseInfo{
		StatusCode:     st.status,
		Header:         st.header,
		Attempts:       int(st.prior + st.attempt.Load()),
		Duration:       time.Since(start),
		IdempotencyKey: st.req.IdempotencyKey,
		RateLimit:      ParseRateLimit(st.header, c.now()),
	}
	if st.header != nil {
		ri.RequestID = requestID(st.header, newRedactor(c.secretsFor(&st.req, st.sent)))
	}
	if info != nil {
		*info = ri
	}
	if st.obs != nil {
		st.obs.End(st.Context, ri, err)
	}
}

// ParseRateLimit reads the rate-limit headers of a response: X-RateLimit-Limit, -Remaining and
// -Reset, or the same without the X- prefix. A reset of at most 10^9 is seconds from now; a
// larger one is a Unix time in seconds. Unknown values stay at RateLimit's "unknown".
func ParseRateLimit(h http.Header, now time.Time) paykit.RateLimit {
	rl := paykit.RateLimit{Remaining: -1}
	if h == nil {
		return rl
	}
	get := func(name string) (int64, bool) {
		v := h.Get("X-Ratelimit-" + name)
		if v == "" {
			v = h.Get("Ratelimit-" + name)
		}
		// "100, 100;w=60" (the IETF draft's list form): the first item.
		v, _, _ = strings.Cut(v, ",")
		v, _, _ = strings.Cut(v, ";")
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		return n, err == nil && n >= 0
	}
	if n, ok := get("Limit"); ok && n <= 1<<31-1 {
		rl.Limit = int(n)
	}
	if n, ok := get("Remaining"); ok && n <= 1<<31-1 {
		rl.Remaining = int(n)
	}
	if n, ok := get("Reset"); ok {
		switch {
		case n <= 1e9:
			rl.Reset = now.Add(time.Duration(n) * time.Second).Truncate(time.Second)
		case n < 1<<40:
			rl.Reset = time.Unix(n, 0)
		}
	}
	return rl
}

// RouteOf is req's path template for telemetry: req.Route when set, otherwise the path without
// its query, each segment that could be an id replaced by "{id}" (anything but lower-case
// letters, '-' and '_' up to 40 bytes). It has no leading slash.
func RouteOf(req Request) string {
	if req.Route != "" {
		return strings.TrimLeft(req.Route, "/")
	}
	p, _, _ := strings.Cut(req.Path, "?")
	p = strings.TrimLeft(p, "/")
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if !routeWord(s) {
			segs[i] = "{id}"
		}
	}
	return strings.Join(segs, "/")
}

func routeWord(s string) bool {
	if len(s) > 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// RawRequest builds the Request for a provider client's Do: any method and path under the base
// URL, sent with the client's auth, retries, limits and error decoding. The path is relative to
// the base URL (a leading slash is allowed) and may carry a query; an absolute URL, a
// scheme-relative or backslash path, a ".." or "." segment (escaped or not), control characters
// or a fragment are refused with a *paykit.ValidationError, so a call can never leave the base.
func RawRequest(method, path string, body any, opts []paykit.CallOption) (Request, error) {
	if err := CheckRawPath(path); err != nil {
		return Request{}, err
	}
	if method == "" || !validMethod(method) {
		return Request{}, &paykit.ValidationError{Field: "method", Reason: fmt.Sprintf("%q is not an HTTP method", method)}
	}
	return Request{Method: method, Path: path, Body: body, Options: opts}, nil
}

// CheckRawPath refuses a path that could leave the base URL (see RawRequest).
func CheckRawPath(path string) error {
	bad := func(reason string) error {
		return &paykit.ValidationError{Field: "path", Reason: reason + "; give a path relative to the base URL, like \"/invoices\""}
	}
	if strings.TrimSpace(path) == "" {
		return bad("empty path")
	}
	if strings.ContainsFunc(path, func(r rune) bool { return r < 0x20 || r == 0x7f || r == ' ' }) {
		return bad("the path contains spaces or control characters")
	}
	if strings.Contains(path, "\\") {
		return bad("the path contains a backslash")
	}
	if strings.HasPrefix(path, "//") {
		return bad("a scheme-relative URL leaves the base URL")
	}
	if strings.Contains(path, "#") {
		return bad("the path carries a fragment")
	}
	p, _, _ := strings.Cut(path, "?")
	if i := strings.IndexByte(p, ':'); i >= 0 {
		if u, err := url.Parse(path); err != nil || u.Scheme != "" || u.Host != "" {
			return bad("an absolute URL leaves the base URL")
		}
	}
	for _, seg := range strings.Split(p, "/") {
		s, err := url.PathUnescape(seg)
		if err != nil {
			return bad("the path has an invalid escape")
		}
		if s == "." || s == ".." || strings.Contains(s, "/") || strings.Contains(s, "\\") {
			return bad("the path has a dot segment or an escaped slash")
		}
	}
	return nil
}

func validMethod(m string) bool {
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !('A' <= c && c <= 'Z') {
			return false
		}
	}
	return len(m) <= 16
}

// callContext exists so that the compiler checks callState still is a context.Context.
var _ context.Context = (*callState)(nil)
