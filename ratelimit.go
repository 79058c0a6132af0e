package paykit

import (
	"context"
	"errors"
)

// RateLimiter paces a client's requests. Wait blocks until one more request may be sent, or
// returns an error when it cannot be sent in time (the context ends, or would end first). The
// *rate.Limiter of golang.org/x/time/rate fits, and so does a limiter backed by a shared store
// (Redis, for example) that keeps several replicas under one quota.
//
// A client calls Wait once before every attempt, retries included, so each request the
// provider counts is paced.
type RateLimiter interface {
	Wait(ctx context.Context) error
}

// ErrRateLimited is wrapped when a client-side rate limiter refused to let a call wait: the wait
// would outlast the context's deadline, so the call fails at once instead of sleeping into a
// timeout. Nothing was sent. A 429 from the provider is not this error: it goes through the
// retry policy and, when retries are exhausted, surfaces as a *Error with status 429.
var ErrRateLimited = errors.New("paykit: rate limited: the client-side limiter cannot admit the request before the context's deadline")
