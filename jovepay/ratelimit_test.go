package jovepay_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jovepay"
)

// countingLimiter admits every request and counts the waits; err, when set, refuses them.
type countingLimiter struct {
	waits atomic.Int64
	err   error
}

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.waits.Add(1)
	return l.err
}

// The *rate.Limiter of golang.org/x/time/rate is a paykit.RateLimiter.
var _ paykit.RateLimiter = (*rate.Limiter)(nil)

// TestRateLimiterWaitsPerAttempt: the limiter is waited on once before every attempt, retries
// included.
func TestRateLimiterWaitsPerAttempt(t *testing.T) {
	srv := newCoServer(t)
	coFlaky(srv, 503, 503)
	lim := new(countingLimiter)
	c := srv.client(jovepay.WithRateLimiter(lim))
	var info paykit.ResponseInfo
	_, err := c.GetPayment(context.Background(), coPaymentID, paykit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, 3, info.Attempts, "attempts")
	assert.Equal(t, int64(3), lim.waits.Load(), "waits: one per attempt")

	_, err = c.GetPayment(context.Background(), coPaymentID)
	require.NoError(t, err)
	assert.Equal(t, int64(4), lim.waits.Load(), "waits after one more call")
}

// TestRateLimiterRefuses: a limiter error wrapping paykit.ErrRateLimited fails the call with
// that error, and nothing is sent.
func TestRateLimiterRefuses(t *testing.T) {
	srv := newCoServer(t)
	srv.serveAll()
	lim := &countingLimiter{err: fmt.Errorf("shared quota exhausted: %w", paykit.ErrRateLimited)}
	c := srv.client(jovepay.WithRateLimiter(lim))
	var info paykit.ResponseInfo
	_, err := c.GetPayment(context.Background(), coPaymentID, paykit.WithResponseInfo(&info))
	require.ErrorIs(t, err, paykit.ErrRateLimited)
	assert.Contains(t, err.Error(), "shared quota exhausted", "the limiter's reason is kept")
	assert.Zero(t, srv.count(), "requests sent")
	assert.Zero(t, info.Attempts, "info.Attempts")
	assert.Zero(t, info.StatusCode, "info.StatusCode")

	// A create is refused the same way: nothing sent, so its outcome is known.
	_, err = c.CreatePayment(context.Background(), jovepay.CreatePaymentParams{PriceAmount: paykit.MustDecimal("10"), PriceCurrency: "usd", PayCurrency: "btc"})
	require.ErrorIs(t, err, paykit.ErrRateLimited)
	assert.NotErrorIs(t, err, paykit.ErrUnknownOutcome)
	assert.Zero(t, srv.count(), "requests sent")
}

// TestRateLimiterXTimeRate: a *rate.Limiter fits WithRateLimiter; when its next slot is beyond
// the context's deadline the call fails at once with paykit.ErrRateLimited, nothing sent.
func TestRateLimiterXTimeRate(t *testing.T) {
	srv := newCoServer(t)
	srv.serveAll()
	c := srv.client(jovepay.WithRateLimiter(rate.NewLimiter(rate.Every(time.Hour), 1)))
	require.NoError(t, c.Status(context.Background()), "the burst admits the first call")
	require.Equal(t, 1, srv.count(), "requests")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	err := c.Status(ctx)
	require.ErrorIs(t, err, paykit.ErrRateLimited)
	assert.Less(t, time.Since(start), 5*time.Second, "refused at once, not after sleeping")
	assert.Equal(t, 1, srv.count(), "requests: the refused call sent nothing")
}

// TestRateLimiterNone: JovePay publishes no limits, so a client has no default limiter, and
// WithRateLimiter(nil) is accepted.
func TestRateLimiterNone(t *testing.T) {
	srv := newCoServer(t)
	srv.serveAll()
	for _, opts := range [][]jovepay.Option{nil, {jovepay.WithRateLimiter(nil)}} {
		c := srv.client(opts...)
		for range 50 {
			require.NoError(t, c.Status(context.Background()))
		}
	}
	assert.Equal(t, 100, srv.count(), "requests")
}
