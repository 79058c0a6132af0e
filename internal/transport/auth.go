package transport

import (
	"context"
	"net/http"
)

// Auth puts credentials on an outgoing request. Implementations must be safe for concurrent use.
type Auth interface {
	// Apply sets the credential headers on req. It runs once per call, before the first
	// attempt; retries resend the same headers, and a 401 re-authentication (see Refresher)
	// runs it again.
	Apply(ctx context.Context, req *http.Request) error
}

// Refresher is an Auth whose credential can go stale (a JWT). On a 401 the transport calls
// Refresh with the credential that failed and, if it returns true, sends the request once more.
type Refresher interface {
	Auth
	// Refresh forgets the credential used on req, so the next Apply fetches a new one. It
	// returns false when there is nothing to refresh (a static key).
	Refresh(req *http.Request) bool
}

// Redactor is an Auth that knows secret values the transport must scrub from error bodies.
type Redactor interface {
	// Secrets returns the credential values in use now.
	Secrets() []string
}

// headerAuth and bearerAuth build their header value once: the slice is shared by every
// request (net/http never modifies it), so applying a static key allocates nothing.
type headerAuth struct {
	name  string // canonical
	value string
	vals  []string
}

// Header returns an Auth that sends value in the named header (x-api-key).
func Header(name, value string) Auth {
	return headerAuth{name: http.CanonicalHeaderKey(name), value: value, vals: []string{value}}
}

func (a headerAuth) Apply(_ context.Context, req *http.Request) error {
	req.Header[a.name] = a.vals
	return nil
}

func (a headerAuth) Secrets() []string { return []string{a.value} }

type bearerAuth struct {
	token string
	vals  []string
}

// Bearer returns an Auth that sends "Authorization: Bearer <token>".
func Bearer(token string) Auth { return bearerAuth{token: token, vals: []string{"Bearer " + token}} }

func (a bearerAuth) Apply(_ context.Context, req *http.Request) error {
	req.Header["Authorization"] = a.vals
	return nil
}

func (a bearerAuth) Secrets() []string { return []string{a.token} }

type chain []Auth

// Chain applies several Auths in order (JovePay sends x-api-key and a Bearer JWT together).
func Chain(auths ...Auth) Auth { return chain(auths) }

func (c chain) Apply(ctx context.Context, req *http.Request) error {
	for _, a := range c {
		if err := a.Apply(ctx, req); err != nil {
			return err
		}
	}
	return nil
}

func (c chain) Refresh(req *http.Request) bool {
	refreshed := false
	for _, a := range c {
		if r, ok := a.(Refresher); ok && r.Refresh(req) {
			refreshed = true
		}
	}
	return refreshed
}

func (c chain) Secrets() []string {
	var out []string
	for _, a := range c {
		if r, ok := a.(Redactor); ok {
			out = append(out, r.Secrets()...)
		}
	}
	return out
}
