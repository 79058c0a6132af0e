package jovepay_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/jovepay/jovepaytest"
)

// clock is a settable clock shared by a fake server and a client.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newFake(t *testing.T, opts ...jovepaytest.Option) (*jovepaytest.Server, *jovepay.Client) {
	t.Helper()
	srv := jovepaytest.NewServer(opts...)
	t.Cleanup(srv.Close)
	c, err := srv.NewClient()
	require.NoError(t, err)
	return srv, c
}

func order(id string) jovepay.CreatePaymentParams {
	return jovepay.CreatePaymentParams{PriceAmount: paykit.MustDecimal("49.99"), PriceCurrency: "usd", PayCurrency: "btc", OrderID: id}
}

// TestTokenRefreshBeforeExp: with JovePay's 5-minute tokens the client logs in again 30 s
// before exp, not after a 401; a token shorter than a minute is renewed at half its life.
func TestTokenRefreshBeforeExp(t *testing.T) {
	for _, tc := range []struct {
		life, reuseUntil, renewAt time.Duration
	}{
		{5 * time.Minute, 4*time.Minute + 29*time.Second, 4*time.Minute + 31*time.Second},
		{40 * time.Second, 19 * time.Second, 21 * time.Second},
	} {
		t.Run(tc.life.String(), func(t *testing.T) {
			clk := newClock()
			srv := jovepaytest.NewServer(jovepaytest.WithClock(clk.Now), jovepaytest.WithJWTLifetime(tc.life))
			defer srv.Close()
			c, err := srv.NewClient(jovepay.WithClock(clk.Now))
			require.NoError(t, err)
			ctx := context.Background()
			list := func() {
				t.Helper()
				_, err := c.ListPaymentsPage(ctx, jovepay.ListPaymentsParams{})
				require.NoError(t, err)
			}
			list()
			clk.Advance(tc.reuseUntil)
			list()
			require.Equal(t, 1, srv.Logins(), "logins after %v (token still fresh)", tc.reuseUntil)
			clk.Advance(tc.renewAt - tc.reuseUntil)
			list()
			require.Equal(t, 2, srv.Logins(), "logins after %v (renewed before exp)", tc.renewAt)
			// No request ever carried an expired token: every list call succeeded first time.
			assert.Equal(t, 3, srv.CountCalls("GET", "/v1/payment/"), "list requests (no 401 retries)")
		})
	}
}

// TestRevokedTokenRelogin: the fake revokes tokens; the client's next call gets a 401, logs in
// again once and succeeds.
func TestRevokedTokenRelogin(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	_, err := c.ListPaymentsPage(ctx, jovepay.ListPaymentsParams{})
	require.NoError(t, err)
	srv.RevokeTokens()
	_, err = c.ListPaymentsPage(ctx, jovepay.ListPaymentsParams{})
	require.NoError(t, err)
	assert.Equal(t, 2, srv.Logins(), "logins")
	assert.Equal(t, 3, srv.CountCalls("GET", "/v1/payment/"), "list requests")
}

// TestUnkeyedCreateSentOnce: POST /payment has no idempotency key, so a 5xx or a connection
// dropped after the request was read must not be retried, and the error must say the outcome
// is unknown.
func TestUnkeyedCreateSentOnce(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		inject func(*jovepaytest.Server)
	}{
		{"500", func(s *jovepaytest.Server) { s.FailNext(1, http.StatusInternalServerError, 0) }},
		{"503 with Retry-After", func(s *jovepaytest.Server) { s.FailNext(1, http.StatusServiceUnavailable, time.Second) }},
		{"dropped after read", func(s *jovepaytest.Server) { s.DropNext(1) }},
		{"processed, answer lost", func(s *jovepaytest.Server) { s.LoseResponseNext(1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := newFake(t)
			tc.inject(srv)
			_, err := c.CreatePayment(ctx, order("A-1"))
			require.ErrorIs(t, err, paykit.ErrUnknownOutcome)
			assert.Equal(t, 1, srv.CountCalls("POST", "/v1/payment"), "POST /payment sent")
			_, err = c.CreateInvoice(ctx, jovepay.CreateInvoiceParams{PriceAmount: paykit.MustDecimal("5"), PriceCurrency: "usd"})
			require.NoError(t, err, "the fault was used up, yet")
		})
	}
	t.Run("invoice 502", func(t *testing.T) {
		srv, c := newFake(t)
		srv.FailNext(1, http.StatusBadGateway, 0)
		_, err := c.CreateInvoice(ctx, jovepay.CreateInvoiceParams{PriceAmount: paykit.MustDecimal("5"), PriceCurrency: "usd"})
		var apiErr *paykit.Error
		require.ErrorIs(t, err, paykit.ErrUnknownOutcome)
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, 502, apiErr.Status, "err = %v, want ErrUnknownOutcome wrapping the 502", err)
		assert.Equal(t, 1, srv.CountCalls("POST", "/v1/invoice"), "POST /invoice sent")
	})
	t.Run("reads are retried", func(t *testing.T) {
		srv, c := newFake(t)
		p, err := c.CreatePayment(ctx, order("A-2"))
		require.NoError(t, err)
		srv.FailNext(2, http.StatusInternalServerError, 0)
		_, err = c.GetPayment(ctx, p.ID)
		require.NoError(t, err)
		assert.Equal(t, 3, srv.CountCalls("GET", "/v1/payment/"+p.ID.String()), "GET sent")
	})
	t.Run("context ends during create", func(t *testing.T) {
		srv, c := newFake(t)
		srv.SetLatency(200 * time.Millisecond)
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := c.CreatePayment(cctx, order("A-3"))
		require.ErrorIs(t, err, paykit.ErrUnknownOutcome)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestCreatePaymentOnce(t *testing.T) {
	ctx := context.Background()
	fast := jovepay.OnceOptions{LookupDelay: time.Millisecond}
	count := func(srv *jovepaytest.Server, orderID string) int {
		c, _ := srv.NewClient()
		n := 0
		for p, err := range c.ListPayments(ctx, jovepay.ListPaymentsParams{Limit: 500}) {
			require.NoError(t, err)
			if p.OrderID() == orderID {
				n++
			}
		}
		return n
	}
	t.Run("answer lost: found by order id, not created twice", func(t *testing.T) {
		srv, c := newFake(t)
		srv.AddFault(1, jovepaytest.Fault{LoseResponse: true, Match: jovepaytest.Match("POST", "/v1/payment")})
		p, err := c.CreatePaymentOnce(ctx, order("B-1"), fast)
		require.NoError(t, err)
		assert.Equal(t, "B-1", p.OrderID(), "payment = %+v", p)
		assert.Equal(t, jovepay.StatusWaiting, p.Status, "payment = %+v", p)
		assert.NotEmpty(t, p.PayAddress, "payment = %+v", p)
		assert.Equal(t, 1, srv.CountCalls("POST", "/v1/payment"), "creates sent")
		assert.Equal(t, 1, count(srv, "B-1"), "payments for the order")
	})
	t.Run("never processed: created again once", func(t *testing.T) {
		srv, c := newFake(t)
		srv.DropNext(1)
		p, err := c.CreatePaymentOnce(ctx, order("B-2"), fast)
		require.NoError(t, err)
		assert.Equal(t, "B-2", p.OrderID(), "payment %+v", p)
		assert.Equal(t, 2, srv.CountCalls("POST", "/v1/payment"), "creates")
		assert.Equal(t, 1, count(srv, "B-2"), "payments for the order")
	})
	t.Run("MaxCreates 1 reports the unknown outcome", func(t *testing.T) {
		srv, c := newFake(t)
		srv.FailNext(1, http.StatusInternalServerError, 0)
		_, err := c.CreatePaymentOnce(ctx, order("B-3"), jovepay.OnceOptions{MaxCreates: 1, LookupDelay: time.Millisecond})
		assert.ErrorIs(t, err, paykit.ErrUnknownOutcome, "err, creates = %d", srv.CountCalls("POST", "/v1/payment"))
		assert.Equal(t, 1, srv.CountCalls("POST", "/v1/payment"), "err = %v, creates", err)
	})
	t.Run("lookup fails: no second create", func(t *testing.T) {
		srv, c := newFake(t)
		srv.FailNext(1, http.StatusInternalServerError, 0)
		srv.AddFault(10, faultOn("GET", "/v1/payment/", http.StatusForbidden))
		_, err := c.CreatePaymentOnce(ctx, order("B-4"), fast)
		assert.ErrorIs(t, err, paykit.ErrUnknownOutcome)
		assert.Contains(t, err.Error(), "looking the payment up by order id failed: jovepay: 403 INVALID_API_KEY", "err = %v, want unknown outcome plus the lookup's 403", err)
		assert.Equal(t, 1, srv.CountCalls("POST", "/v1/payment"), "creates")
	})
	t.Run("a definite failure is returned as is", func(t *testing.T) {
		srv, c := newFake(t)
		p := order("B-5")
		p.PriceAmount = paykit.MustDecimal("0.01") // below the btc minimum
		_, err := c.CreatePaymentOnce(ctx, p, fast)
		assert.True(t, paykit.IsCode(err, jovepay.CodeAmountMinimal), "err = %v, want AMOUNT_MINIMAL_ERROR", err)
		assert.NotErrorIs(t, err, paykit.ErrUnknownOutcome)
		assert.Equal(t, 0, srv.CountCalls("GET", "/v1/payment/"), "a definite failure must not trigger a lookup")
	})
	t.Run("an older payment for another price is not mistaken for it", func(t *testing.T) {
		srv, c := newFake(t)
		old := order("B-6")
		old.PriceAmount = paykit.MustDecimal("99")
		_, err := c.CreatePayment(ctx, old)
		require.NoError(t, err)
		srv.DropNext(1)
		p, err := c.CreatePaymentOnce(ctx, order("B-6"), fast)
		require.NoError(t, err)
		assert.True(t, p.PriceAmount.Equal(paykit.MustDecimal("49.99")), "got the old payment: %+v", p)
	})
}

func faultOn(method, path string, status int) jovepaytest.Fault {
	return jovepaytest.Fault{Status: status, Match: jovepaytest.Match(method, path)}
}

func TestFindPaymentByOrderIDSkipsRepeatedDeposits(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	p, err := c.CreatePayment(ctx, order("C-1"))
	require.NoError(t, err)
	_, err = srv.Pay(ctx, p.ID)
	require.NoError(t, err)
	child, err := srv.Redeposit(ctx, p.ID, paykit.MustDecimal("0.0001"))
	require.NoError(t, err)
	got, err := c.FindPaymentByOrderID(ctx, "C-1", time.Time{})
	require.NoError(t, err)
	assert.Equal(t, p.ID, got.ID, "found %s, want the original (not the re-deposit %s)", got.ID, child)
	assert.NotEqual(t, child, got.ID, "found the re-deposit")
	_, err = c.FindPaymentByOrderID(ctx, "nope", time.Time{})
	assert.ErrorIs(t, err, jovepay.ErrPaymentNotFound)
}
