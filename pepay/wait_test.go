package pepay_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
)

func newFakeInvoice(t *testing.T) (*pepaytest.Server, *pepay.Client, string) {
	t.Helper()
	srv := pepaytest.NewServer()
	t.Cleanup(srv.Close)
	c, err := srv.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	inv, err := c.CreateInvoice(context.Background(), pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("25")})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, inv.InvoiceID
}

// countingSleep waits like the real poll loop does and counts the waits that ran to the end.
type countingSleep struct {
	mu   sync.Mutex
	done int
}

func (c *countingSleep) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	}
	c.mu.Lock()
	c.done++
	c.mu.Unlock()
	return nil
}

func (c *countingSleep) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done
}

// recordingSleep returns at once and records what it was asked to wait.
type recordingSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (r *recordingSleep) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	r.waits = append(r.waits, d)
	r.mu.Unlock()
	return nil
}

func statusPolls(srv *pepaytest.Server) int {
	n := 0
	for _, r := range srv.Calls() {
		if r.Method == http.MethodGet && len(r.Path) > 7 && r.Path[len(r.Path)-7:] == "/status" {
			n++
		}
	}
	return n
}

func TestWaitForInvoice_reportsChangesAndStopsWhenPaid(t *testing.T) {
	ctx := context.Background()
	srv, c, id := newFakeInvoice(t)
	var mu sync.Mutex
	var seen []pepay.Status
	changed := make(chan struct{}, 10)
	go func() {
		<-changed // unpaid seen
		_, _ = srv.PayAmount(ctx, id, 10_000)
		<-changed // underpaid seen
		_, _ = srv.Pay(ctx, id)
	}()
	var waits countingSleep
	st, err := c.WaitForInvoice(context.Background(), id,
		pepay.WithPollInterval(time.Millisecond, 5*time.Millisecond), pepay.WithWaitSleep(waits.sleep),
		pepay.OnStatusChange(func(s *pepay.InvoiceStatus) {
			mu.Lock()
			seen = append(seen, s.Status())
			mu.Unlock()
			changed <- struct{}{}
		}))
	if err != nil {
		t.Fatal(err)
	}
	if st.Status() != pepay.StatusPaid || st.LatestPayment == nil || st.LatestPayment.Status != pepay.PaymentConfirmed {
		t.Errorf("final status = %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]pepay.Status{pepay.StatusUnpaid, pepay.StatusUnderpaid, pepay.StatusPaid}, seen); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	// It stopped at the terminal status: one poll, then one more after each wait, and no wait
	// after the poll that saw paid. WaitForInvoice starts no goroutine, so nothing polls later.
	if polls, w := statusPolls(srv), waits.count(); polls != w+1 {
		t.Errorf("%d polls after %d waits: polling went on after a terminal status", polls, w)
	}
}

func TestWaitForInvoice_terminalStates(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(*pepaytest.Server, context.Context, string) (*pepaytest.Delivery, error)
		want pepay.Status
	}{
		{"expired", (*pepaytest.Server).Expire, pepay.StatusExpired},
		{"canceled", (*pepaytest.Server).Cancel, pepay.StatusCanceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c, id := newFakeInvoice(t)
			if _, err := tc.end(srv, context.Background(), id); err != nil {
				t.Fatal(err)
			}
			st, err := c.WaitForInvoice(context.Background(), id)
			if err != nil || st.Status() != tc.want {
				t.Fatalf("got %v, %v; want %s", st, err, tc.want)
			}
			if n := statusPolls(srv); n != 1 {
				t.Errorf("polls = %d, want 1", n)
			}
		})
	}
}

func TestWaitForInvoice_cancellation(t *testing.T) {
	srv, c, id := newFakeInvoice(t)
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan struct{})
	go func() {
		<-first
		cancel()
	}()
	start := time.Now()
	var waits countingSleep
	st, err := c.WaitForInvoice(ctx, id, pepay.WithPollInterval(time.Millisecond, 2*time.Millisecond), pepay.WithWaitSleep(waits.sleep),
		pepay.OnStatusChange(func(*pepay.InvoiceStatus) { close(first) }))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if st == nil || st.Status() != pepay.StatusUnpaid {
		t.Errorf("last status = %v, want unpaid", st)
	}
	if time.Since(start) > 2*time.Second {
		t.Error("cancellation was slow")
	}
	// Every poll but the first follows a finished wait; the wait cancellation cut short was the
	// last. (A poll cancelled in flight may reach the server after WaitForInvoice returned: it is
	// already counted in the bound.)
	if polls, w := statusPolls(srv), waits.count(); polls > w+1 {
		t.Errorf("%d polls after %d finished waits: polling went on after cancellation", polls, w)
	}
}

func TestWaitForInvoice_transientErrorsRetriedInLoop(t *testing.T) {
	srv, _, id := newFakeInvoice(t)
	c, err := srv.NewClient(pepay.WithMaxRetries(0)) // so every 503 reaches the wait loop
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNext(3, http.StatusServiceUnavailable, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c.WaitForInvoice(ctx, id, pepay.WithPollInterval(time.Millisecond, 2*time.Millisecond),
		pepay.OnStatusChange(func(s *pepay.InvoiceStatus) {
			if s.Status() == pepay.StatusUnpaid { // the first answer after the three 503s
				if _, err := srv.Pay(ctx, id); err != nil {
					t.Error(err)
				}
			}
		}))
	if err != nil || st.Status() != pepay.StatusPaid {
		t.Fatalf("got %v, %v", st, err)
	}
	if n := statusPolls(srv); n != 5 {
		t.Errorf("polls = %d, want 5 (three 503s, unpaid, paid)", n)
	}
}

// A 429 or 503 asking for a day's pause (Retry-After: 86400) makes the next poll wait only the
// client's WithMaxRetryAfter (default 60 s), as the client's own retries would; a shorter
// Retry-After is waited in full, without jitter shortening it.
func TestWaitForInvoice_retryAfterCapped(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		retryAfter time.Duration
		opts       []pepay.Option
		want       time.Duration
	}{
		{"429 a day, default cap", http.StatusTooManyRequests, 24 * time.Hour, nil, 60 * time.Second},
		{"503 a day, default cap", http.StatusServiceUnavailable, 24 * time.Hour, nil, 60 * time.Second},
		{"429 a day, WithMaxRetryAfter", http.StatusTooManyRequests, 24 * time.Hour, []pepay.Option{pepay.WithMaxRetryAfter(2 * time.Second)}, 2 * time.Second},
		{"429 under the cap", http.StatusTooManyRequests, 3 * time.Second, nil, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _, id := newFakeInvoice(t)
			c, err := srv.NewClient(append([]pepay.Option{pepay.WithMaxRetries(0)}, tc.opts...)...) // the error reaches the loop
			if err != nil {
				t.Fatal(err)
			}
			srv.FailNext(1, tc.status, tc.retryAfter)
			var waits recordingSleep
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			st, err := c.WaitForInvoice(ctx, id, pepay.WithPollInterval(time.Millisecond, time.Millisecond), pepay.WithWaitSleep(waits.sleep),
				pepay.OnStatusChange(func(*pepay.InvoiceStatus) { _, _ = srv.Pay(ctx, id) }))
			if err != nil || st.Status() != pepay.StatusPaid {
				t.Fatalf("got %v, %v", st, err)
			}
			waits.mu.Lock()
			defer waits.mu.Unlock()
			if len(waits.waits) == 0 || waits.waits[0] != tc.want {
				t.Errorf("waits = %v, want the first to be %v", waits.waits, tc.want)
			}
		})
	}
}

// The same on the wall clock: with a small WithMaxRetryAfter, Retry-After: 86400 delays the next
// poll by that cap, and the invoice is seen paid long before the test's deadline.
func TestWaitForInvoice_retryAfterCappedWallClock(t *testing.T) {
	srv, _, id := newFakeInvoice(t)
	c, err := srv.NewClient(pepay.WithMaxRetries(0), pepay.WithMaxRetryAfter(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNext(1, http.StatusTooManyRequests, 24*time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	st, err := c.WaitForInvoice(ctx, id, pepay.WithPollInterval(time.Millisecond, time.Millisecond),
		pepay.OnStatusChange(func(*pepay.InvoiceStatus) { _, _ = srv.Pay(ctx, id) }))
	if err != nil || st.Status() != pepay.StatusPaid {
		t.Fatalf("got %v, %v (a day's Retry-After was not capped)", st, err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("returned after %v: the capped Retry-After (50 ms) was not waited", d)
	}
}

func TestWaitForInvoice_permanentErrorReturned(t *testing.T) {
	srv, c, _ := newFakeInvoice(t)
	_, err := c.WaitForInvoice(context.Background(), "00000000-0000-4000-8000-000000000000", pepay.WithPollInterval(time.Millisecond, time.Millisecond))
	if !paykit.IsStatus(err, http.StatusNotFound) {
		t.Fatalf("err = %v, want 404", err)
	}
	if n := statusPolls(srv); n != 1 {
		t.Errorf("polls = %d, want 1 (404 is not retried)", n)
	}
}
