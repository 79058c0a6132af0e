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

func statusPolls(srv *pepaytest.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodGet && len(r.Path) > 7 && r.Path[len(r.Path)-7:] == "/status" {
			n++
		}
	}
	return n
}

func TestWaitForInvoice_reportsChangesAndStopsWhenPaid(t *testing.T) {
	srv, c, id := newFakeInvoice(t)
	var mu sync.Mutex
	var seen []pepay.Status
	changed := make(chan struct{}, 10)
	go func() {
		<-changed // unpaid seen
		_ = srv.Underpay(id, 10_000)
		<-changed // underpaid seen
		_ = srv.Pay(id)
	}()
	st, err := c.WaitForInvoice(context.Background(), id,
		pepay.WithPollInterval(time.Millisecond, 5*time.Millisecond),
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
	// It stopped at the terminal status: no poll after it.
	n := statusPolls(srv)
	time.Sleep(20 * time.Millisecond)
	if statusPolls(srv) != n {
		t.Error("polling went on after a terminal status")
	}
}

func TestWaitForInvoice_terminalStates(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(*pepaytest.Server, string) error
		want pepay.Status
	}{
		{"expired", (*pepaytest.Server).Expire, pepay.StatusExpired},
		{"canceled", (*pepaytest.Server).Cancel, pepay.StatusCanceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c, id := newFakeInvoice(t)
			if err := tc.end(srv, id); err != nil {
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
	st, err := c.WaitForInvoice(ctx, id, pepay.WithPollInterval(time.Millisecond, 2*time.Millisecond),
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
	n := statusPolls(srv)
	time.Sleep(10 * time.Millisecond)
	if statusPolls(srv) != n {
		t.Error("polling went on after cancellation")
	}
}

func TestWaitForInvoice_transientErrorsRetriedInLoop(t *testing.T) {
	srv, _, id := newFakeInvoice(t)
	c, err := srv.NewClient(pepay.WithMaxRetries(0)) // so every 503 reaches the wait loop
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNext(3, http.StatusServiceUnavailable, 0)
	go func() {
		for statusPolls(srv) < 4 {
			time.Sleep(time.Millisecond)
		}
		_ = srv.Pay(id)
	}()
	st, err := c.WaitForInvoice(context.Background(), id, pepay.WithPollInterval(time.Millisecond, 2*time.Millisecond))
	if err != nil || st.Status() != pepay.StatusPaid {
		t.Fatalf("got %v, %v", st, err)
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
