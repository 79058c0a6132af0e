package jopaycheckout

import (
	"context"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/idempotency"
	"github.com/paykit-go/paykit/internal/transport"
)

// Do sends a request paykit does not wrap (yet) through the client: the same base URL, API
// key, retries, rate limits, response size cap, redaction and error decoding as every other
// call. path is relative to the base URL ("/sessions/cs_1", "sessions?limit=5"); a path that
// could leave it (an absolute or scheme-relative URL, a ".." segment, escaped or not, an
// escaped slash) is refused with a *paykit.ValidationError and nothing is sent. body, when not
// nil, is sent as JSON ([]byte and json.RawMessage as they are); a 2xx JSON answer is decoded
// into out (nil discards it); a non-2xx answer is a *paykit.Error.
//
// GET and DELETE are retried like reads. Any other method is a write without an idempotency
// key, never retried once it may have reached JoPay (such a failure wraps
// paykit.ErrUnknownOutcome), unless the client was built WithIdempotencyHeader and the call
// has paykit.WithIdempotencyKey: the key then travels in that header and the write is retried
// with it. Without WithIdempotencyHeader, paykit.WithIdempotencyKey is refused with a
// *paykit.ValidationError.
func (c *Client) Do(ctx context.Context, method, path string, body, out any, opts ...paykit.CallOption) error {
	cc, err := paykit.ResolveCallOptions(opts...)
	if err != nil {
		return err
	}
	req, err := transport.RawRequest(method, path, body, opts)
	if err != nil {
		return err
	}
	if cc.IdempotencyKey != "" {
		if err := c.checkCallKey(cc.IdempotencyKey); err != nil {
			return err
		}
		req.IdempotencyHeader = c.idemHeader
	}
	return c.t.Do(ctx, req, out)
}

// checkCallKey checks a paykit.WithIdempotencyKey key: the client must send keys in a header
// (WithIdempotencyHeader), and the key must have the documented format.
func (c *Client) checkCallKey(key string) error {
	if c.idemHeader == "" {
		return &paykit.ValidationError{Field: "WithIdempotencyKey",
			Reason: "JoPay Checkout documents no idempotency mechanism; build the client WithIdempotencyHeader to send the key in a header"}
	}
	if err := idempotency.Validate(key); err != nil {
		return &paykit.ValidationError{Field: "WithIdempotencyKey", Reason: "must be 32–64 characters of [A-Za-z0-9_-]", Err: err}
	}
	return nil
}
