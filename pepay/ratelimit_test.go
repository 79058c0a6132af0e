package pepay_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/pepay"
)

// countingLimiter admits every request and counts the waits.
type countingLimiter struct{ waits atomic.Int32 }

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.waits.Add(1)
	return ctx.Err()
}

// refusingLimiter refuses every request with err.
type refusingLimiter struct {
	err   error
	waits atomic.Int32
}

func (l *refusingLimiter) Wait(context.Context) error {
	l.waits.Add(1)
	return l.err
}

// The limiter is waited on once per attempt, retries included.
func TestRateLimiter_oncePerAttempt(t *testing.T) {
	var lim countingLimiter
	var hits atomic.Int32
	c := coServer(t, func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) < 3 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		_, _ = w.Write([]byte(statusBody))
	}, pepay.WithRateLimiter(&lim))
	var info paykit.ResponseInfo
	_, err := c.GetInvoiceStatus(context.Background(), "inv_1", paykit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, int32(3), hits.Load())
	assert.Equal(t, int32(3), lim.waits.Load(), "limiter waits")
	assert.Equal(t, 3, info.Attempts)

	// A 429 from Pepay goes through the retry policy and is a *paykit.Error, not ErrRateLimited.
	hits.Store(0)
	lim.waits.Store(0)
	_, err = c.GetInvoiceStatus(context.Background(), "inv_1", paykit.WithMaxRetries(0))
	require.True(t, paykit.IsStatus(err, http.StatusTooManyRequests), "err = %v", err)
	assert.NotErrorIs(t, err, paykit.ErrRateLimited)
	assert.Equal(t, int32(1), lim.waits.Load())
}

// The limiter covers every client built from the options: payor sessions share the merchant
// client's transport, and each page of an iterator is paced.
func TestRateLimiter_coversEveryRequest(t *testing.T) {
	f := newCallFixture(t)
	var lim countingLimiter
	c, err := f.srv.NewClient(pepay.WithRateLimiter(&lim))
	require.NoError(t, err)
	ctx := context.Background()
	_, err = c.GetInvoice(ctx, f.invoiceID)
	require.NoError(t, err)
	payor, err := c.PayorSession(pepay.PaymentSessionHeaders{SessionToken: "pst_x", Signature: "sig_x.1"})
	require.NoError(t, err)
	_, _ = payor.PaymentStatus(ctx) // the fake refuses the session; the request was still paced
	require.NoError(t, drainSeq(c.ListInvoices(ctx, pepay.ListInvoicesParams{Limit: 1})))
	assert.Equal(t, int32(len(f.srv.Calls())), lim.waits.Load(), "one wait per request")
}

// A limiter that refuses fails the call with ErrRateLimited and nothing is sent; a limiter's
// own error is wrapped so errors.Is finds ErrRateLimited too.
func TestRateLimiter_refusal(t *testing.T) {
	for name, limErr := range map[string]error{
		"wraps ErrRateLimited": fmt.Errorf("shared quota: %w", paykit.ErrRateLimited),
		"plain error":          errors.New("redis: connection refused"),
	} {
		t.Run(name, func(t *testing.T) {
			lim := &refusingLimiter{err: limErr}
			c, _ := failOnRequest(t, pepay.WithRateLimiter(lim))
			var info paykit.ResponseInfo
			_, err := c.CreateInvoice(context.Background(), pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("5")}, paykit.WithResponseInfo(&info))
			require.ErrorIs(t, err, paykit.ErrRateLimited)
			require.ErrorIs(t, err, limErr)
			assert.NotErrorIs(t, err, paykit.ErrUnknownOutcome, "nothing was sent")
			assert.Equal(t, int32(1), lim.waits.Load())
			assert.Equal(t, 0, info.Attempts)
			assert.Equal(t, 0, info.StatusCode)

			err = c.Do(context.Background(), http.MethodGet, "webhooks", nil, nil)
			require.ErrorIs(t, err, paykit.ErrRateLimited)
		})
	}
}

// *rate.Limiter fits WithRateLimiter; a wait it cannot finish before the context's deadline
// fails at once with ErrRateLimited, before anything is sent.
func TestRateLimiter_xTimeRate(t *testing.T) {
	var hits atomic.Int32
	lim := rate.NewLimiter(rate.Every(time.Hour), 1)
	c := coServer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(statusBody))
	}, pepay.WithRateLimiter(lim))
	_, err := c.GetInvoiceStatus(context.Background(), "inv_1")
	require.NoError(t, err, "the burst admits the first call")

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err = c.GetInvoiceStatus(ctx, "inv_1")
	require.ErrorIs(t, err, paykit.ErrRateLimited)
	assert.Less(t, time.Since(start), 500*time.Millisecond, "the refused wait was slept")
	assert.Equal(t, int32(1), hits.Load(), "the refused call reached the server")
}

// WithRateLimiter(nil) is accepted and means no limiter.
func TestRateLimiter_nilTurnsOff(t *testing.T) {
	c := coServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(statusBody)) }, pepay.WithRateLimiter(nil))
	_, err := c.GetInvoiceStatus(context.Background(), "inv_1")
	require.NoError(t, err)
}
