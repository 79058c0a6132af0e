package jovepay

import (
	"context"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/transport"
)

// Do sends a request to an endpoint of the JovePay API that the client does not wrap, with the
// client's x-api-key, retries, rate limiter, observer, redaction and error decoding.
//
// path is relative to the base URL ("/balance", "payment/5745459419") and may carry a query; a
// path that could leave the base URL (an absolute URL, "//host", a ".." segment, escaped or
// not, an escaped slash) is refused with a *paykit.ValidationError and nothing is sent. body,
// when not nil, is sent as JSON ([]byte and json.RawMessage as they are); a 2xx JSON answer is
// decoded into out (nil discards it). A non-2xx answer is a *paykit.Error.
//
// Do authenticates with the API key only. For the endpoints that also need a JWT (payouts, the
// payments list), use DoJWT, or the wrapped methods (ListPayments). JovePay has no idempotency
// mechanism, so WithIdempotencyKey fails with a *paykit.ValidationError and a POST, PUT or PATCH
// is never retried once it may have reached JovePay (an ambiguous failure wraps
// paykit.ErrUnknownOutcome); GET and DELETE are retried like every read.
func (c *Client) Do(ctx context.Context, method, path string, body, out any, opts ...paykit.CallOption) error {
	req, err := transport.RawRequest(method, path, body, opts)
	if err != nil {
		return err
	}
	return c.t.Do(ctx, req, out)
}

// DoJWT is Do for the endpoints that need a JWT as well as the API key (payouts, for example):
// it sends x-api-key and the cached Bearer token, logging in first when needed, exactly as
// ListPayments does. It needs a client built WithCredentials; without one it returns
// ErrCredentialsRequired before anything is sent.
func (c *Client) DoJWT(ctx context.Context, method, path string, body, out any, opts ...paykit.CallOption) error {
	req, err := transport.RawRequest(method, path, body, opts)
	if err != nil {
		return err
	}
	if req.Auth, err = c.jwtAuth("DoJWT"); err != nil {
		return err
	}
	return c.t.Do(ctx, req, out)
}
