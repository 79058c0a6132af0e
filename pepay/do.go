package pepay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/transport"
)

// Do sends a request the client has no method for — Pepay's API key and webhook endpoint
// management, endpoints added after this release — through the same machinery as every other
// call: the client's credentials, retries, rate limiter, observer, response size cap, redaction
// and error decoding. method is an HTTP method ("GET", "POST", …); path is relative to the base
// URL, /api/v1 included ("webhooks", "/invoices?limit=5"), with any id already escaped; a path
// that could leave the base URL (an absolute URL, "//host", a ".." or "." segment, escaped or
// not, an escaped slash, a backslash) is refused with a *paykit.ValidationError and nothing is
// sent. body is sent as JSON (a []byte or json.RawMessage as is; nil sends none). A 2xx answer
// is decoded into out (nil discards it; an empty answer leaves out untouched), unwrapped from
// Pepay's {"success": true, "data": …} envelope when it has one; "success": false and non-2xx
// answers come back as a *paykit.Error.
//
// Do authenticates as the client does on the invoice routes: x-api-key, or the dashboard JWT
// on a client built with an empty API key and WithDashboardToken. Pepay wants the dashboard JWT
// for key management and settlement preferences, so call those through such a client.
//
// GET, HEAD, DELETE and OPTIONS are retried like reads. Any other method is a write that is
// never retried after it may have reached Pepay — unless paykit.WithIdempotencyKey is given: the
// key is then sent in the Idempotency-Key header on every attempt and the call is retried like
// CreateInvoice (Pepay documents that header on invoice creation; check that the endpoint
// honours it). The key's format is not checked beyond the option's own rule.
func (c *Client) Do(ctx context.Context, method, path string, body, out any, opts ...paykit.CallOption) error {
	req, err := transport.RawRequest(method, path, body, opts)
	if err != nil {
		return fmt.Errorf("%s: Do: %w", Provider, err)
	}
	req.IdempotencyHeader = idempotencyHeader
	resp, err := c.t.DoRaw(ctx, req)
	if err != nil {
		return err
	}
	b := bytes.TrimSpace(resp.Body)
	if len(b) == 0 {
		return nil
	}
	dst := out
	if dst == nil {
		dst = new(json.RawMessage) // still look for "success": false
	}
	failed, err := decodeResponse(b, dst)
	if failed != nil {
		return c.t.FailedSuccess(req, resp.StatusCode, failed.code, failed.message, resp.Body)
	}
	if err != nil {
		p, _, _ := strings.Cut(strings.TrimLeft(req.Path, "/"), "?")
		err = fmt.Errorf("%s: %s /%s: %w: %w", Provider, req.Method, p, paykit.ErrInvalidResponse, err)
		if !rawRetrySafe(req.Method, opts) {
			// Pepay accepted a write whose answer is unreadable: the caller cannot know what
			// it did, exactly as after a lost response.
			return fmt.Errorf("%w: %w", paykit.ErrUnknownOutcome, err)
		}
		return err
	}
	return nil
}

// rawRetrySafe reports whether a Do request may be repeated: a read, or a write with an
// idempotency key.
func rawRetrySafe(method string, opts []paykit.CallOption) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodDelete, http.MethodOptions:
		return true
	}
	cc, err := paykit.ResolveCallOptions(opts...)
	return err == nil && cc.IdempotencyKey != ""
}
