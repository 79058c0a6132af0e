package transport

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/paykit-go/paykit"
)

// callState is one call on its way through go-retryablehttp. It is the request's context —
// it embeds the caller's context and answers Value(stateKey{}) with itself — so the hooks
// (which see only the request, its context or the response) find the call without a
// context.WithValue, and it holds the request wrapper, body readers and the body limiter, so a
// call costs one allocation here instead of six. go-retryablehttp runs the hooks on the
// caller's goroutine, one attempt after another; the atomics only keep that assumption from
// turning into a data race should it ever change.
type callState struct {
	context.Context

	req  Request
	safe bool   // retry after the request may have reached the server
	body []byte // the encoded body, sent on every attempt; nil for none

	sent    *http.Request         // the request as sent (credential headers)
	rreq    retryablehttp.Request // the wrapper handed to go-retryablehttp; its own body is unused
	first   bytes.Reader          // the first attempt's body reader
	limited io.LimitedReader      // the response body cap

	// reached is set once an attempt may have reached the server (anything but a failed dial);
	// read after the retrying client has returned.
	reached bool

	maxRetries int64                  // this call's retry limit
	obs        paykit.CallObserver    // nil without an Observer
	attemptCtx atomic.Pointer[ctxBox] // the current attempt's context from obs; nil without one
	limitErr   error                  // the rate limiter's refusal of a retry
	prior      int64                  // attempts made before a re-authentication
	status     int                    // the last response's status; 0 before any
	header     http.Header            // the last response's header

	attempt atomic.Int64
	start   atomic.Int64 // unix nanos of the current attempt
	wait    atomic.Int64 // the backoff chosen before the next attempt
	reason  atomic.Value // string: why the next attempt is a retry
}

type stateKey struct{}

// ctxBox holds an attempt's context for atomic.Pointer.
type ctxBox struct{ ctx context.Context }

// Value makes callState a context carrying itself under stateKey{}. Other keys are looked up in
// the current attempt's context when an Observer gave one (its span reaches the RoundTripper),
// otherwise in the call's.
func (st *callState) Value(key any) any {
	if _, ok := key.(stateKey); ok {
		return st
	}
	if b := st.attemptCtx.Load(); b != nil {
		return b.ctx.Value(key)
	}
	return st.Context.Value(key)
}

// path is the request path as logged: without a query, with one leading slash.
func (st *callState) path() string { return logPath(st.req.Path) }

// newBody returns a fresh reader over the body, for a retry or net/http's GetBody. It is an
// io.NopCloser around a *bytes.Reader on purpose: net/http recognises that pair as an
// in-memory body and writes headers and body in one go instead of flushing them separately.
func (st *callState) newBody() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(st.body)), nil
}

func stateFrom(ctx context.Context) *callState {
	st, _ := ctx.Value(stateKey{}).(*callState)
	return st
}

// beforeAttempt runs before every attempt: it stamps the start time and logs retries at Info.
func (c *Client) beforeAttempt(_ retryablehttp.Logger, req *http.Request, i int) {
	st := stateFrom(req.Context())
	if st == nil {
		return
	}
	st.attempt.Store(int64(i + 1))
	st.start.Store(time.Now().UnixNano())
	if st.obs != nil {
		st.attemptCtx.Store(&ctxBox{st.obs.StartAttempt(st.Context, int(st.prior)+i+1)})
	}
	if i > 0 && c.logger != nil {
		reason, _ := st.reason.Load().(string)
		c.logger.LogAttrs(req.Context(), slog.LevelInfo, "paykit: retrying request",
			slog.String("provider", c.provider), slog.String("method", st.req.Method), slog.String("path", st.path()),
			slog.Int("attempt", i+1), slog.String("reason", reason), slog.Duration("waited", time.Duration(st.wait.Load())))
	}
}

// checkRetry decides after every attempt whether to try again.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st := stateFrom(ctx)
	if st == nil {
		return false, err
	}
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	if err == nil || !neverReached(err) {
		st.reached = true
	}
	if resp != nil {
		st.status, st.header = status, resp.Header
	}
	if st.obs != nil {
		st.obs.EndAttempt(st.Context, int(st.prior+st.attempt.Load()), status, err)
	}
	c.log(ctx, slog.LevelDebug, "paykit: request attempt", st, status, err, time.Since(time.Unix(0, st.start.Load())))
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if st.attempt.Load() > st.maxRetries {
		// Out of retries: hand the response back as a plain result rather than letting
		// go-retryablehttp treat it as a failure, which would close every idle connection of the
		// shared pool.
		return false, nil
	}
	if err != nil {
		if permanent(err) {
			return false, nil
		}
		if st.safe || neverReached(err) {
			st.reason.Store("connection error")
			return true, nil
		}
		return false, nil
	}
	if status != http.StatusTooManyRequests && (status < 500 || status == http.StatusNotImplemented) {
		return false, nil
	}
	if !st.safe {
		return false, nil // it reached the server, which may have acted on it
	}
	if d, ok := retryAfter(resp.Header.Get("Retry-After"), c.now()); ok && d > c.maxRetryAt {
		return false, nil // asked to wait longer than we are willing to block the caller
	}
	st.reason.Store("status " + strconv.Itoa(status))
	return true, nil
}

// backoff honours Retry-After (seconds or HTTP-date) and otherwise backs off exponentially with
// jitter in [d/2, d], d = min·2^attempt capped at max.
func (c *Client) backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	wait := time.Duration(-1)
	if resp != nil {
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), c.now()); ok {
			wait = d
		}
	}
	if wait < 0 {
		wait = Backoff(min, max, attempt)
	}
	if resp != nil && resp.Request != nil {
		if st := stateFrom(resp.Request.Context()); st != nil {
			st.wait.Store(int64(wait))
		}
	}
	return wait
}

// retryAfter parses a Retry-After value in delay-seconds or HTTP-date form.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(365*24*time.Hour/time.Second) {
			n = int64(365 * 24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

// neverReached reports whether err proves the request never reached the server: the dial
// failed (refused, unreachable, DNS), so nothing was sent and even a non-idempotent write is
// safe to send again.
func neverReached(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// permanent reports transport errors a retry cannot fix: certificate problems, bad schemes,
// redirect loops, redirects to another host.
func permanent(err error) bool {
	var certErr *x509.CertificateInvalidError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) {
		return true
	}
	if redirectStopped(err) {
		return true // the provider will redirect again
	}
	msg := err.Error()
	return strings.Contains(msg, "stopped after") && strings.Contains(msg, "redirects") ||
		strings.Contains(msg, "unsupported protocol scheme")
}

// log writes one attempt line at the given level: method, path, status, attempt, duration.
func (c *Client) log(ctx context.Context, level slog.Level, msg string, st *callState, status int, err error, d time.Duration) {
	if c.logger == nil || !c.logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("provider", c.provider), slog.String("method", st.req.Method), slog.String("path", st.path()),
		slog.Int64("attempt", st.attempt.Load()), slog.Duration("duration", d),
	}
	if status != 0 {
		attrs = append(attrs, slog.Int("status", status))
	}
	if err != nil {
		// A *url.Error repeats the full URL, query string included; the path is logged already.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		attrs = append(attrs, slog.String("error", newRedactor(c.secretsFor(&st.req, st.sent)).redact(err.Error())))
	}
	c.logger.LogAttrs(ctx, level, msg, attrs...)
}
