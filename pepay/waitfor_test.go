package pepay_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/pepay"
)

// WithCallOptions reaches every poll: the header is on each status request and the response
// info is the latest poll's.
func TestWaitForInvoice_callOptionsOnEveryPoll(t *testing.T) {
	srv, c, id := newFakeInvoice(t)
	srv.ResetCalls()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var info paykit.ResponseInfo
	st, err := c.WaitForInvoice(ctx, id,
		pepay.WithPollInterval(time.Millisecond, time.Millisecond),
		pepay.WithCallOptions(paykit.WithHeader("X-Paykit-Test", "wait")),
		pepay.WithCallOptions(paykit.WithResponseInfo(&info)),
		pepay.OnStatusChange(func(s *pepay.InvoiceStatus) {
			if s.Status() == pepay.StatusUnpaid {
				_, err := srv.PayAmount(ctx, id, 10_000)
				assert.NoError(t, err)
			} else if s.Status() == pepay.StatusUnderpaid {
				_, err := srv.Pay(ctx, id)
				assert.NoError(t, err)
			}
		}))
	require.NoError(t, err)
	assert.Equal(t, pepay.StatusPaid, st.Status())
	calls := srv.Calls()
	require.GreaterOrEqual(t, len(calls), 3)
	for _, call := range calls {
		require.True(t, strings.HasSuffix(call.Path, "/status"), call.Path)
		assert.Equal(t, "wait", call.Header.Get("X-Paykit-Test"))
	}
	assert.Equal(t, http.StatusOK, info.StatusCode, "the latest poll's info")
	assert.Equal(t, 1, info.Attempts)
}

// A call option that polling cannot take ends the wait at once, before any poll.
func TestWaitForInvoice_callOptionRefused(t *testing.T) {
	srv, c, id := newFakeInvoice(t)
	srv.ResetCalls()
	st, err := c.WaitForInvoice(context.Background(), id, pepay.WithCallOptions(paykit.WithIdempotencyKey("5f0c3a52-8f4e-4d4b-9a1e-2b7c9d0e1f23")))
	var vErr *paykit.ValidationError
	require.ErrorAs(t, err, &vErr)
	assert.Nil(t, st)
	assert.Empty(t, srv.Calls())
}

// WithMaxRetries(0) through WithCallOptions makes each failed poll reach the loop, which polls
// again: the wait still ends at the terminal status.
func TestWaitForInvoice_callOptionMaxRetries(t *testing.T) {
	srv, c, id := newFakeInvoice(t)
	srv.ResetCalls()
	srv.FailNext(2, http.StatusServiceUnavailable, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var info paykit.ResponseInfo
	var sawUnpaid atomic.Bool
	st, err := c.WaitForInvoice(ctx, id,
		pepay.WithPollInterval(time.Millisecond, time.Millisecond),
		pepay.WithCallOptions(paykit.WithMaxRetries(0), paykit.WithResponseInfo(&info)),
		pepay.OnStatusChange(func(s *pepay.InvoiceStatus) {
			if sawUnpaid.CompareAndSwap(false, true) {
				_, err := srv.Pay(ctx, id)
				assert.NoError(t, err)
			}
		}))
	require.NoError(t, err)
	assert.Equal(t, pepay.StatusPaid, st.Status())
	assert.Equal(t, 4, statusPolls(srv), "two 503s (not retried by the client), unpaid, paid")
	assert.Equal(t, 1, info.Attempts)
}

// A client-side rate limiter that cannot admit a poll ends the wait: it is not transient.
func TestWaitForInvoice_rateLimitedEnds(t *testing.T) {
	srv, _, id := newFakeInvoice(t)
	lim := &refusingLimiter{err: paykit.ErrRateLimited}
	c, err := srv.NewClient(pepay.WithRateLimiter(lim))
	require.NoError(t, err)
	srv.ResetCalls()
	_, err = c.WaitForInvoice(context.Background(), id, pepay.WithPollInterval(time.Millisecond, time.Millisecond))
	require.ErrorIs(t, err, paykit.ErrRateLimited)
	assert.Equal(t, int32(1), lim.waits.Load())
	assert.Empty(t, srv.Calls())
}
