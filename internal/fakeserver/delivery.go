package fakeserver

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"time"
)

// Signer returns the headers that sign body for one delivery attempt made at now. Providers
// sign each attempt afresh, so a redelivery carries a new timestamp.
type Signer func(body []byte, now time.Time) http.Header

// Attempt is the outcome of one delivery attempt. Each fake server declares a struct type with
// the same fields (and converts to it), so that its documentation shows them.
type Attempt struct {
	// At is when the attempt was made, on the deliverer's clock; its signature is made for it.
	At time.Time
	// Status is the HTTP status the receiver answered, or 0 when no answer arrived.
	Status int
	// Err is the transport error when no answer arrived, nil otherwise.
	Err error
}

// Delivery is the record of one webhook sent with retries.
type Delivery struct {
	// URL is where the webhook was posted.
	URL string
	// Body is the payload, identical in every attempt.
	Body []byte
	// Header holds the headers of the last attempt, signature included.
	Header http.Header
	// Attempts lists every attempt, oldest first.
	Attempts []Attempt
	// Delivered is true when an attempt was answered 2xx.
	Delivered bool
	// Abandoned is true when the receiver answered a status the provider does not retry.
	Abandoned bool
}

// Deliverer posts webhooks and retries them the way a provider does.
type Deliverer struct {
	// Client sends the requests (nil: a client with an 8 s timeout, JoPay's receiver deadline).
	Client *http.Client
	// MaxAttempts bounds attempts per delivery (0: 5).
	MaxAttempts int
	// Backoff is the wait before attempt n+1 (nil: 10ms·2^n, quick enough for tests).
	Backoff func(n int) time.Duration
	// Retry reports whether a status is worth another attempt (nil: RetryServerErrors).
	Retry func(status int) bool
	// Now is the clock used for signing (nil: time.Now).
	Now func() time.Time
}

// RetryServerErrors retries 5xx and 429 and abandons any other 4xx: JoPay's documented rule.
func RetryServerErrors(status int) bool { return status >= 500 || status == http.StatusTooManyRequests }

// RetryNon2xx retries every non-2xx answer (Pepay, JovePay).
func RetryNon2xx(status int) bool { return status < 200 || status >= 300 }

// Deliver posts body to url, signed by sign, until it is acknowledged, abandoned, out of
// attempts, or ctx ends.
func (d *Deliverer) Deliver(ctx context.Context, url string, body []byte, sign Signer) Delivery {
	client := d.Client
	if client == nil {
		client = &http.Client{Timeout: 8 * time.Second}
	}
	attempts := d.MaxAttempts
	if attempts <= 0 {
		attempts = 5
	}
	retry := d.Retry
	if retry == nil {
		retry = RetryServerErrors
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	del := Delivery{URL: url, Body: body}
	for n := 0; n < attempts; n++ {
		if n > 0 {
			wait := 10 * time.Millisecond << min(n-1, 10)
			if d.Backoff != nil {
				wait = d.Backoff(n)
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return del
			case <-t.C:
			}
		}
		at := now()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			del.Attempts = append(del.Attempts, Attempt{At: at, Err: err})
			return del
		}
		req.Header.Set("Content-Type", "application/json")
		if sign != nil {
			for k, vs := range sign(body, at) {
				req.Header[k] = vs
			}
		}
		del.Header = req.Header
		resp, err := client.Do(req)
		if err != nil {
			del.Attempts = append(del.Attempts, Attempt{At: at, Err: err})
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		del.Attempts = append(del.Attempts, Attempt{At: at, Status: resp.StatusCode})
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			del.Delivered = true
			return del
		}
		if !retry(resp.StatusCode) {
			del.Abandoned = true
			return del
		}
	}
	return del
}
