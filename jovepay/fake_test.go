package jovepay_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

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
	if err != nil {
		t.Fatal(err)
	}
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
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			list := func() {
				t.Helper()
				if _, err := c.ListPaymentsPage(ctx, jovepay.ListPaymentsParams{}); err != nil {
					t.Fatal(err)
				}
			}
			list()
			clk.Advance(tc.reuseUntil)
			list()
			if n := srv.Logins(); n != 1 {
				t.Fatalf("logins after %v = %d, want 1 (token still fresh)", tc.reuseUntil, n)
			}
			clk.Advance(tc.renewAt - tc.reuseUntil)
			list()
			if n := srv.Logins(); n != 2 {
				t.Fatalf("logins after %v = %d, want 2 (renewed before exp)", tc.renewAt, n)
			}
			// No request ever carried an expired token: every list call succeeded first time.
			if n := srv.CountCalls("GET", "/v1/payment/"); n != 3 {
				t.Errorf("list requests = %d, want 3 (no 401 retries)", n)
			}
		})
	}
}

// TestRevokedTokenRelogin: the fake revokes tokens; the client's next call gets a 401, logs in
// again once and succeeds.
func TestRevokedTokenRelogin(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	if _, err := c.ListPaymentsPage(ctx, jovepay.ListPaymentsParams{}); err != nil {
		t.Fatal(err)
	}
	srv.RevokeTokens()
	if _, err := c.ListPaymentsPage(ctx, jovepay.ListPaymentsParams{}); err != nil {
		t.Fatal(err)
	}
	if srv.Logins() != 2 || srv.CountCalls("GET", "/v1/payment/") != 3 {
		t.Errorf("logins = %d, list requests = %d; want 2 and 3", srv.Logins(), srv.CountCalls("GET", "/v1/payment/"))
	}
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
			if !errors.Is(err, paykit.ErrUnknownOutcome) {
				t.Fatalf("err = %v, want ErrUnknownOutcome", err)
			}
			if n := srv.CountCalls("POST", "/v1/payment"); n != 1 {
				t.Errorf("POST /payment sent %d times, want exactly 1", n)
			}
			_, err = c.CreateInvoice(ctx, jovepay.CreateInvoiceParams{PriceAmount: paykit.MustDecimal("5"), PriceCurrency: "usd"})
			if err != nil {
				t.Fatalf("the fault was used up, yet: %v", err)
			}
		})
	}
	t.Run("invoice 502", func(t *testing.T) {
		srv, c := newFake(t)
		srv.FailNext(1, http.StatusBadGateway, 0)
		_, err := c.CreateInvoice(ctx, jovepay.CreateInvoiceParams{PriceAmount: paykit.MustDecimal("5"), PriceCurrency: "usd"})
		var apiErr *paykit.Error
		if !errors.Is(err, paykit.ErrUnknownOutcome) || !errors.As(err, &apiErr) || apiErr.Status != 502 {
			t.Fatalf("err = %v, want ErrUnknownOutcome wrapping the 502", err)
		}
		if n := srv.CountCalls("POST", "/v1/invoice"); n != 1 {
			t.Errorf("POST /invoice sent %d times, want 1", n)
		}
	})
	t.Run("reads are retried", func(t *testing.T) {
		srv, c := newFake(t)
		p, err := c.CreatePayment(ctx, order("A-2"))
		if err != nil {
			t.Fatal(err)
		}
		srv.FailNext(2, http.StatusInternalServerError, 0)
		if _, err := c.GetPayment(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		if n := srv.CountCalls("GET", "/v1/payment/"+p.ID.String()); n != 3 {
			t.Errorf("GET sent %d times, want 3", n)
		}
	})
	t.Run("context ends during create", func(t *testing.T) {
		srv, c := newFake(t)
		srv.SetLatency(200 * time.Millisecond)
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := c.CreatePayment(cctx, order("A-3"))
		if !errors.Is(err, paykit.ErrUnknownOutcome) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want ErrUnknownOutcome and DeadlineExceeded", err)
		}
	})
}

func TestCreatePaymentOnce(t *testing.T) {
	ctx := context.Background()
	fast := jovepay.OnceOptions{LookupDelay: time.Millisecond}
	count := func(srv *jovepaytest.Server, orderID string) int {
		c, _ := srv.NewClient()
		n := 0
		for p, err := range c.ListPayments(ctx, jovepay.ListPaymentsParams{Limit: 500}) {
			if err != nil {
				t.Fatal(err)
			}
			if p.OrderID == orderID {
				n++
			}
		}
		return n
	}
	t.Run("answer lost: found by order id, not created twice", func(t *testing.T) {
		srv, c := newFake(t)
		srv.AddFault(1, jovepaytest.Fault{LoseResponse: true, Match: jovepaytest.Match("POST", "/v1/payment")})
		p, err := c.CreatePaymentOnce(ctx, order("B-1"), fast)
		if err != nil {
			t.Fatal(err)
		}
		if p.OrderID != "B-1" || p.Status != jovepay.StatusWaiting || p.PayAddress == "" {
			t.Errorf("payment = %+v", p)
		}
		if n := srv.CountCalls("POST", "/v1/payment"); n != 1 {
			t.Errorf("creates sent = %d, want 1", n)
		}
		if n := count(srv, "B-1"); n != 1 {
			t.Errorf("payments for the order = %d, want 1", n)
		}
	})
	t.Run("never processed: created again once", func(t *testing.T) {
		srv, c := newFake(t)
		srv.DropNext(1)
		p, err := c.CreatePaymentOnce(ctx, order("B-2"), fast)
		if err != nil {
			t.Fatal(err)
		}
		if p.OrderID != "B-2" || srv.CountCalls("POST", "/v1/payment") != 2 || count(srv, "B-2") != 1 {
			t.Errorf("payment %+v, creates %d, payments %d", p, srv.CountCalls("POST", "/v1/payment"), count(srv, "B-2"))
		}
	})
	t.Run("MaxCreates 1 reports the unknown outcome", func(t *testing.T) {
		srv, c := newFake(t)
		srv.FailNext(1, http.StatusInternalServerError, 0)
		_, err := c.CreatePaymentOnce(ctx, order("B-3"), jovepay.OnceOptions{MaxCreates: 1, LookupDelay: time.Millisecond})
		if !errors.Is(err, paykit.ErrUnknownOutcome) || srv.CountCalls("POST", "/v1/payment") != 1 {
			t.Errorf("err = %v, creates = %d", err, srv.CountCalls("POST", "/v1/payment"))
		}
	})
	t.Run("lookup fails: no second create", func(t *testing.T) {
		srv, c := newFake(t)
		srv.FailNext(1, http.StatusInternalServerError, 0)
		srv.AddFault(10, faultOn("GET", "/v1/payment/", http.StatusForbidden))
		_, err := c.CreatePaymentOnce(ctx, order("B-4"), fast)
		if !errors.Is(err, paykit.ErrUnknownOutcome) || !strings.Contains(err.Error(), "looking the payment up by order id failed: jovepay: 403 INVALID_API_KEY") {
			t.Errorf("err = %v, want unknown outcome plus the lookup's 403", err)
		}
		if n := srv.CountCalls("POST", "/v1/payment"); n != 1 {
			t.Errorf("creates = %d, want 1", n)
		}
	})
	t.Run("a definite failure is returned as is", func(t *testing.T) {
		srv, c := newFake(t)
		p := order("B-5")
		p.PriceAmount = paykit.MustDecimal("0.01") // below the btc minimum
		_, err := c.CreatePaymentOnce(ctx, p, fast)
		if !paykit.IsCode(err, jovepay.CodeAmountMinimal) || errors.Is(err, paykit.ErrUnknownOutcome) {
			t.Errorf("err = %v, want AMOUNT_MINIMAL_ERROR", err)
		}
		if srv.CountCalls("GET", "/v1/payment/") != 0 {
			t.Error("a definite failure must not trigger a lookup")
		}
	})
	t.Run("an older payment for another price is not mistaken for it", func(t *testing.T) {
		srv, c := newFake(t)
		old := order("B-6")
		old.PriceAmount = paykit.MustDecimal("99")
		if _, err := c.CreatePayment(ctx, old); err != nil {
			t.Fatal(err)
		}
		srv.DropNext(1)
		p, err := c.CreatePaymentOnce(ctx, order("B-6"), fast)
		if err != nil {
			t.Fatal(err)
		}
		if !p.PriceAmount.Equal(paykit.MustDecimal("49.99")) {
			t.Errorf("got the old payment: %+v", p)
		}
	})
}

func faultOn(method, path string, status int) jovepaytest.Fault {
	return jovepaytest.Fault{Status: status, Match: jovepaytest.Match(method, path)}
}

func TestFindPaymentByOrderIDSkipsRepeatedDeposits(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	p, err := c.CreatePayment(ctx, order("C-1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Pay(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	child, err := srv.Redeposit(ctx, p.ID, paykit.MustDecimal("0.0001"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.FindPaymentByOrderID(ctx, "C-1", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != p.ID || got.ID == child {
		t.Errorf("found %s, want the original %s (not the re-deposit %s)", got.ID, p.ID, child)
	}
	if _, err := c.FindPaymentByOrderID(ctx, "nope", time.Time{}); !errors.Is(err, jovepay.ErrPaymentNotFound) {
		t.Errorf("err = %v, want ErrPaymentNotFound", err)
	}
}
