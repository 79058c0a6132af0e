package jovepay_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/jovepay/jovepaytest"
)

// seed creates n payments, one clock minute apart, and returns their ids in creation order.
func seed(t *testing.T, c *jovepay.Client, clk *clock, n int) []jovepay.ID {
	t.Helper()
	var ids []jovepay.ID
	for i := 0; i < n; i++ {
		p, err := c.CreatePayment(context.Background(), jovepay.CreatePaymentParams{
			PriceAmount: paykit.NewDecimal(int64(20+i), 0), PriceCurrency: "usd", PayCurrency: "usdttrc20", OrderID: "L-" + string(rune('a'+i)),
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
		clk.Advance(time.Minute)
	}
	return ids
}

func TestListPayments(t *testing.T) {
	clk := newClock()
	srv, c := newFake(t, jovepaytest.WithClock(clk.Now))
	ids := seed(t, c, clk, 23)
	ctx := context.Background()

	var got []jovepay.ID
	for p, err := range c.ListPayments(ctx, jovepay.ListPaymentsParams{Limit: 10}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.ID)
	}
	if diff := cmp.Diff(ids, got); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	reqs := srv.Calls()
	var pages []string
	for _, r := range reqs {
		if r.Path == "/v1/payment/" {
			pages = append(pages, r.Query.Encode())
			if r.Header.Get("x-api-key") != srv.APIKey() || r.Header.Get("Authorization") == "" {
				t.Errorf("list request without both credentials: %v", r.Header)
			}
		}
	}
	want := []string{"limit=10&page=0", "limit=10&page=1", "limit=10&page=2"}
	if diff := cmp.Diff(want, pages); diff != "" {
		t.Errorf("pages requested (-want +got):\n%s", diff)
	}

	// One page: the envelope.
	first, err := c.ListPaymentsPage(ctx, jovepay.ListPaymentsParams{Limit: 10, OrderBy: jovepay.OrderDesc})
	if err != nil {
		t.Fatal(err)
	}
	if !first.HasMore || first.NextCursor != "1" || len(first.Data) != 10 {
		t.Errorf("first page %+v", first)
	}
	// Page 2 of 3 (23 payments): the last one.
	page, err := c.ListPaymentsPage(ctx, jovepay.ListPaymentsParams{Limit: 10, Cursor: "2", OrderBy: jovepay.OrderDesc})
	if err != nil {
		t.Fatal(err)
	}
	if page.HasMore || page.NextCursor != "" || len(page.Data) != 3 {
		t.Errorf("envelope %+v", page)
	}
	if page.Data[0].ID != ids[2] || page.Data[2].ID != ids[0] {
		t.Errorf("desc page 2 = %s…%s", page.Data[0].ID, page.Data[2].ID)
	}

	// Stopping early fetches no further page.
	before := srv.CountCalls("GET", "/v1/payment/")
	n := 0
	for _, err := range c.ListPayments(ctx, jovepay.ListPaymentsParams{Limit: 10}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 5 {
			break
		}
	}
	if extra := srv.CountCalls("GET", "/v1/payment/") - before; extra != 1 {
		t.Errorf("break after 5 items fetched %d pages, want 1", extra)
	}

	// Filters: dates and sorting on a field.
	from := clk.Now().Add(-5*time.Minute - time.Second)
	got = nil
	for p, err := range c.ListPayments(ctx, jovepay.ListPaymentsParams{DateFrom: from, SortBy: jovepay.SortByPriceAmount, OrderBy: jovepay.OrderDesc}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.ID)
	}
	if diff := cmp.Diff([]jovepay.ID{ids[22], ids[21], ids[20], ids[19], ids[18]}, got); diff != "" {
		t.Errorf("dateFrom + sort (-want +got):\n%s", diff)
	}
}

func TestListPaymentsErrorEndsIteration(t *testing.T) {
	clk := newClock()
	srv, c := newFake(t, jovepaytest.WithClock(clk.Now))
	seed(t, c, clk, 5)
	srv.AddFault(1, jovepaytest.Fault{Status: http.StatusBadRequest, Match: func(r *http.Request) bool {
		return r.URL.Path == "/v1/payment/" && r.URL.Query().Get("page") == "1"
	}})
	items, errs := 0, 0
	for _, err := range c.ListPayments(context.Background(), jovepay.ListPaymentsParams{Limit: 2}) {
		if err != nil {
			errs++
			if !paykit.IsStatus(err, http.StatusBadRequest) {
				t.Errorf("err = %v", err)
			}
			continue
		}
		items++
	}
	if items != 2 || errs != 1 {
		t.Errorf("items = %d, errors = %d; want the first page, then one error", items, errs)
	}
}

func TestListPaymentsByInvoice(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	inv, err := c.CreateInvoice(ctx, jovepay.CreateInvoiceParams{PriceAmount: paykit.MustDecimal("30"), PriceCurrency: "usd", OrderID: "I-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreatePayment(ctx, order("other")); err != nil {
		t.Fatal(err)
	}
	p, err := c.CreateInvoicePayment(ctx, jovepay.CreateInvoicePaymentParams{InvoiceID: inv.ID, PayCurrency: "eth"})
	if err != nil {
		t.Fatal(err)
	}
	if p.InvoiceID != inv.ID || p.OrderID != "I-1" || !p.PriceAmount.Equal(paykit.MustDecimal("30")) {
		t.Errorf("invoice payment %+v", p)
	}
	page, err := c.ListPaymentsPage(ctx, jovepay.ListPaymentsParams{InvoiceID: inv.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 1 || page.HasMore || page.Data[0].ID != p.ID || page.Data[0].InvoiceID != inv.ID {
		t.Errorf("by invoice: %+v", page)
	}
	_ = srv
}
