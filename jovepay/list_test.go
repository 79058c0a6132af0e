package jovepay_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		require.NoError(t, err)
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
		require.NoError(t, err)
		got = append(got, p.ID)
	}
	assert.Empty(t, cmp.Diff(ids, got), "ids (-want +got)")
	reqs := srv.Calls()
	var pages []string
	for _, r := range reqs {
		if r.Path == "/v1/payment/" {
			pages = append(pages, r.Query.Encode())
			assert.Equal(t, srv.APIKey(), r.Header.Get("x-api-key"), "list request without both credentials: %v", r.Header)
			assert.NotEmpty(t, r.Header.Get("Authorization"), "list request without both credentials: %v", r.Header)
		}
	}
	want := []string{"limit=10&page=0", "limit=10&page=1", "limit=10&page=2"}
	assert.Empty(t, cmp.Diff(want, pages), "pages requested (-want +got)")

	// One page: the envelope.
	first, err := c.ListPaymentsPage(ctx, jovepay.ListPaymentsParams{Limit: 10, OrderBy: jovepay.OrderDesc})
	require.NoError(t, err)
	assert.True(t, first.HasMore, "first page %+v", first)
	assert.Equal(t, "1", first.NextCursor, "first page %+v", first)
	assert.Len(t, first.Data, 10, "first page %+v", first)
	// Page 2 of 3 (23 payments): the last one.
	page, err := c.ListPaymentsPage(ctx, jovepay.ListPaymentsParams{Limit: 10, Cursor: "2", OrderBy: jovepay.OrderDesc})
	require.NoError(t, err)
	assert.False(t, page.HasMore, "envelope %+v", page)
	assert.Empty(t, page.NextCursor, "envelope %+v", page)
	require.Len(t, page.Data, 3, "envelope %+v", page)
	assert.Equal(t, ids[2], page.Data[0].ID, "desc page 2 first")
	assert.Equal(t, ids[0], page.Data[2].ID, "desc page 2 last")

	// Stopping early fetches no further page.
	before := srv.CountCalls("GET", "/v1/payment/")
	n := 0
	for _, err := range c.ListPayments(ctx, jovepay.ListPaymentsParams{Limit: 10}) {
		require.NoError(t, err)
		if n++; n == 5 {
			break
		}
	}
	assert.Equal(t, 1, srv.CountCalls("GET", "/v1/payment/")-before, "break after 5 items fetched")

	// Filters: dates and sorting on a field.
	from := clk.Now().Add(-5*time.Minute - time.Second)
	got = nil
	for p, err := range c.ListPayments(ctx, jovepay.ListPaymentsParams{DateFrom: from, SortBy: jovepay.SortByPriceAmount, OrderBy: jovepay.OrderDesc}) {
		require.NoError(t, err)
		got = append(got, p.ID)
	}
	assert.Empty(t, cmp.Diff([]jovepay.ID{ids[22], ids[21], ids[20], ids[19], ids[18]}, got), "dateFrom + sort (-want +got)")
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
			assert.True(t, paykit.IsStatus(err, http.StatusBadRequest), "err = %v", err)
			continue
		}
		items++
	}
	// The first page, then one error.
	assert.Equal(t, 2, items, "items")
	assert.Equal(t, 1, errs, "errors")
}

func TestListPaymentsByInvoice(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	inv, err := c.CreateInvoice(ctx, jovepay.CreateInvoiceParams{PriceAmount: paykit.MustDecimal("30"), PriceCurrency: "usd", OrderID: "I-1"})
	require.NoError(t, err)
	_, err = c.CreatePayment(ctx, order("other"))
	require.NoError(t, err)
	p, err := c.CreateInvoicePayment(ctx, jovepay.CreateInvoicePaymentParams{InvoiceID: inv.ID, PayCurrency: "eth"})
	require.NoError(t, err)
	assert.Equal(t, inv.ID, p.InvoiceID, "invoice payment %+v", p)
	assert.Equal(t, "I-1", p.OrderID(), "invoice payment %+v", p)
	assert.True(t, p.PriceAmount.Equal(paykit.MustDecimal("30")), "invoice payment %+v", p)
	page, err := c.ListPaymentsPage(ctx, jovepay.ListPaymentsParams{InvoiceID: inv.ID})
	require.NoError(t, err)
	assert.False(t, page.HasMore, "by invoice: %+v", page)
	if assert.Len(t, page.Data, 1, "by invoice: %+v", page) {
		assert.Equal(t, p.ID, page.Data[0].ID, "by invoice: %+v", page)
		assert.Equal(t, inv.ID, page.Data[0].InvoiceID, "by invoice: %+v", page)
	}
	_ = srv
}
