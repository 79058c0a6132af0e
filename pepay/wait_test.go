package pepay_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
)

func newFakeInvoice(t *testing.T) (*pepaytest.Server, *pepay.Client, string) {
	t.Helper()
	srv := pepaytest.NewServer()
	t.Cleanup(srv.Close)
	c, err := srv.NewClient()
	require.NoError(t, err)
	inv, err := c.CreateInvoice(context.Background(), pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("25")})
	require.NoError(t, err)
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
	require.NoError(t, err)
	assert.Equal(t, pepay.StatusPaid, st.Status(), "final status = %+v", st)
	require.NotNil(t, st.LatestPayment, "final status = %+v", st)
	assert.Equal(t, pepay.PaymentConfirmed, st.LatestPayment.Status, "final status = %+v", st)
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, cmp.Diff([]pepay.Status{pepay.StatusUnpaid, pepay.StatusUnderpaid, pepay.StatusPaid}, seen), "changes (-want +got)")
	// It stopped at the terminal status: one poll, then one more after each wait, and no wait
	// after the poll that saw paid. WaitForInvoice starts no goroutine, so nothing polls later.
	polls, w := statusPolls(srv), waits.count()
	assert.Equal(t, w+1, polls, "polls after %d waits: polling went on after a terminal status", w)
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
			_, err := tc.end(srv, context.Background(), id)
			require.NoError(t, err)
			st, err := c.WaitForInvoice(context.Background(), id)
			require.NoError(t, err, "got %v, %v; want %s", st, err, tc.want)
			require.Equal(t, tc.want, st.Status(), "got %v, %v; want %s", st, err, tc.want)
			assert.Equal(t, 1, statusPolls(srv), "polls, want 1")
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
	require.ErrorIs(t, err, context.Canceled, "err, want context.Canceled")
	require.NotNil(t, st, "last status = %v, want unpaid", st)
	assert.Equal(t, pepay.StatusUnpaid, st.Status(), "last status = %v, want unpaid", st)
	assert.LessOrEqual(t, time.Since(start), 2*time.Second, "cancellation was slow")
	// Every poll but the first follows a finished wait; the wait cancellation cut short was the
	// last. (A poll cancelled in flight may reach the server after WaitForInvoice returned: it is
	// already counted in the bound.)
	polls, w := statusPolls(srv), waits.count()
	assert.LessOrEqual(t, polls, w+1, "polls after %d finished waits: polling went on after cancellation", w)
}

func TestWaitForInvoice_transientErrorsRetriedInLoop(t *testing.T) {
	srv, _, id := newFakeInvoice(t)
	c, err := srv.NewClient(pepay.WithMaxRetries(0)) // so every 503 reaches the wait loop
	require.NoError(t, err)
	srv.FailNext(3, http.StatusServiceUnavailable, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c.WaitForInvoice(ctx, id, pepay.WithPollInterval(time.Millisecond, 2*time.Millisecond),
		pepay.OnStatusChange(func(s *pepay.InvoiceStatus) {
			if s.Status() == pepay.StatusUnpaid { // the first answer after the three 503s
				_, err := srv.Pay(ctx, id)
				assert.NoError(t, err)
			}
		}))
	require.NoError(t, err, "got %v, %v", st, err)
	require.Equal(t, pepay.StatusPaid, st.Status(), "got %v, %v", st, err)
	assert.Equal(t, 5, statusPolls(srv), "polls, want 5 (three 503s, unpaid, paid)")
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
			require.NoError(t, err)
			srv.FailNext(1, tc.status, tc.retryAfter)
			var waits recordingSleep
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			st, err := c.WaitForInvoice(ctx, id, pepay.WithPollInterval(time.Millisecond, time.Millisecond), pepay.WithWaitSleep(waits.sleep),
				pepay.OnStatusChange(func(*pepay.InvoiceStatus) { _, _ = srv.Pay(ctx, id) }))
			require.NoError(t, err, "got %v, %v", st, err)
			require.Equal(t, pepay.StatusPaid, st.Status(), "got %v, %v", st, err)
			waits.mu.Lock()
			defer waits.mu.Unlock()
			assert.NotZero(t, len(waits.waits), "waits = %v, want the first to be %v", waits.waits, tc.want)
			assert.Equal(t, tc.want, waits.waits[0], "waits = %v, want the first to be %v", waits.waits, tc.want)
		})
	}
}

// The same on the wall clock: with a small WithMaxRetryAfter, Retry-After: 86400 delays the next
// poll by that cap, and the invoice is seen paid long before the test's deadline.
func TestWaitForInvoice_retryAfterCappedWallClock(t *testing.T) {
	srv, _, id := newFakeInvoice(t)
	c, err := srv.NewClient(pepay.WithMaxRetries(0), pepay.WithMaxRetryAfter(50*time.Millisecond))
	require.NoError(t, err)
	srv.FailNext(1, http.StatusTooManyRequests, 24*time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	st, err := c.WaitForInvoice(ctx, id, pepay.WithPollInterval(time.Millisecond, time.Millisecond),
		pepay.OnStatusChange(func(*pepay.InvoiceStatus) { _, _ = srv.Pay(ctx, id) }))
	require.NoError(t, err, "got %v, %v (a day's Retry-After was not capped)", st, err)
	require.Equal(t, pepay.StatusPaid, st.Status(), "got %v, %v (a day's Retry-After was not capped)", st, err)
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond, "returned after: the capped Retry-After (50 ms) was not waited")
}

func TestWaitForInvoice_permanentErrorReturned(t *testing.T) {
	srv, c, _ := newFakeInvoice(t)
	_, err := c.WaitForInvoice(context.Background(), "00000000-0000-4000-8000-000000000000", pepay.WithPollInterval(time.Millisecond, time.Millisecond))
	require.True(t, paykit.IsStatus(err, http.StatusNotFound), "err = %v, want 404", err)
	assert.Equal(t, 1, statusPolls(srv), "polls, want 1 (404 is not retried)")
}
