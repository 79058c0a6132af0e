package jopay

import (
	"context"
	"encoding/json"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/transport"
)

// Do sends a request paykit does not wrap (yet) through the client: the same base URL, API
// key, retries, rate limits, response size cap, redaction and error decoding as every other
// call. path is relative to the base URL ("/merchants/m_1", "requests?limit=5"); a path that
// could leave it (an absolute or scheme-relative URL, a ".." segment, escaped or not, an
// escaped slash) is refused with a *paykit.ValidationError and nothing is sent. body, when not
// nil, is sent as JSON ([]byte and json.RawMessage as they are); a 2xx JSON answer is decoded
// into out (nil discards it). A non-2xx answer, or a 2xx one whose envelope says "ok": false,
// is a *paykit.Error.
//
// GET and DELETE are retried like reads. Any other method is a write without an idempotency
// key, never retried once it may have reached JoPay: such a failure wraps
// paykit.ErrUnknownOutcome. JoPay takes idempotency keys only in the body of a create, which
// Do cannot fill in for an arbitrary body, so paykit.WithIdempotencyKey is refused with a
// *paykit.ValidationError (use CreateRequest). The other per-call options apply as to any call.
func (c *Client) Do(ctx context.Context, method, path string, body, out any, opts ...paykit.CallOption) error {
	cc, err := paykit.ResolveCallOptions(opts...)
	if err != nil {
		return err
	}
	if cc.IdempotencyKey != "" {
		return &paykit.ValidationError{Field: "WithIdempotencyKey",
			Reason: "JoPay takes idempotency keys only in a create's body, which Do cannot fill in; use CreateRequest"}
	}
	req, err := transport.RawRequest(method, path, body, opts)
	if err != nil {
		return err
	}
	return c.do(ctx, req, &rawOut{out: out})
}

// rawOut decodes Do's answer into the caller's value and keeps JoPay's envelope, so that a 2xx
// answer saying "ok": false is an error as for every other call.
type rawOut struct {
	out     any
	ok      *bool
	code    string
	message string
}

func (r *rawOut) envelope() (*bool, string, string) { return r.ok, r.code, r.message }

// DecodeBody implements transport.BodyDecoder.
func (r *rawOut) DecodeBody(b []byte) error {
	var env struct {
		OK      *bool  `json:"ok"`
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &env) == nil { // a body that is not an object has no envelope
		r.ok, r.code, r.message = env.OK, env.Error, env.Message
	}
	switch out := r.out.(type) {
	case nil:
		return nil
	case transport.BodyDecoder:
		return out.DecodeBody(b)
	default:
		return json.Unmarshal(b, out)
	}
}
