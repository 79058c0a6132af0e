// Package hookpreset holds what the provider packages' webhook constructors share
// (jopay.NewWebhookHandler, jopaycheckout.NewWebhookHandler, pepay.NewWebhookHandler,
// jovepay.NewIPNHandler and their verifiers): building the verifier and the webhook.NewHandler
// handler from one webhook.Option list, reporting errors in the provider's name, and the
// escaping of dedupe-key components. The handler itself, its options and their defaults live
// once, in package webhook.
package hookpreset

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/paykit-go/paykit/webhook"
)

// Verifier builds a verifier with newVerifier (webhook.NewTimestampVerifier or
// webhook.NewSortedJSONVerifier) and reports its error as made by pkg's constructor fn, for
// example "pepay: NewWebhookVerifier: secret: webhook: empty secret".
func Verifier[V any](pkg, fn string, newVerifier func(string, ...webhook.Option) (V, error), secret string, opts []webhook.Option) (V, error) {
	v, err := newVerifier(secret, opts...)
	return v, rename(err, pkg, fn)
}

// Handler builds a provider's webhook handler: the verifier from secret and the verifier
// options among opts, the provider's webhook.Endpoint around it, and the handler from the
// handler options among opts (webhook.SplitOptions; WithMaxPayloadBytes goes to both). Errors
// are reported as made by pkg's constructor fn.
func Handler[V, E any](pkg, fn string, newVerifier func(string, ...webhook.Option) (V, error),
	endpoint func(V) webhook.Endpoint[E], secret string, handle func(context.Context, E) error, opts []webhook.Option,
) (http.Handler, error) {
	vopts, hopts := webhook.SplitOptions(opts)
	v, err := Verifier(pkg, fn, newVerifier, secret, vopts)
	if err != nil {
		return nil, err
	}
	ep := endpoint(v)
	if ep.Name == "" {
		ep.Name = pkg // telemetry reports rejections under the provider's name
	}
	h, err := webhook.NewEndpointHandler(ep, handle, hopts...)
	if err != nil {
		return nil, rename(err, pkg, fn)
	}
	return h, nil
}

// TimestampEndpoint returns the endpoint builder for Handler of a provider that sends a
// "t=<unix>,v1=<hex>" signature (either order) in the request header named header, as JoPay
// and JoPay Checkout do: events are parsed with parse and deduped on key.
func TimestampEndpoint[E any](header string, parse func([]byte) (E, error), key func(E) string) func(*webhook.TimestampVerifier) webhook.Endpoint[E] {
	return func(v *webhook.TimestampVerifier) webhook.Endpoint[E] {
		return webhook.Endpoint[E]{
			Verify:  v.VerifyFunc(header),
			Parse:   parse,
			EventID: func(_ []byte, _ http.Header, e E) string { return key(e) },
		}
	}
}

// rename reports a *webhook.ConfigError from a webhook constructor as made by pkg's
// constructor fn.
func rename(err error, pkg, fn string) error {
	if err == nil {
		return nil
	}
	var ce *webhook.ConfigError
	if errors.As(err, &ce) {
		return &webhook.ConfigError{Package: pkg, Func: fn, Arg: ce.Arg, Err: ce.Err}
	}
	return fmt.Errorf("%s: %s: %w", pkg, fn, err)
}

// KeyPart escapes one component of a dedupe key built by joining components with ':' ("%" as
// "%25", ":" as "%3A"), so that the joined key identifies its components unambiguously: an id
// containing a colon cannot make two different events share a key. Components without either
// byte (the ids, event names and amounts providers send) are returned unchanged.
func KeyPart(s string) string {
	if !strings.ContainsAny(s, "%:") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			b.WriteString("%25")
		case ':':
			b.WriteString("%3A")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
