package jovepay

import (
	"context"
	"encoding/json"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/jsonx"
	"github.com/paykit-go/paykit/internal/transport"
)

// MaxListLimit is the largest page size GET /payment/ accepts.
const MaxListLimit = 500

// Sort orders for ListPaymentsParams.OrderBy.
const (
	OrderAsc  = "asc"  // oldest first (JovePay's default)
	OrderDesc = "desc" // newest first
)

// Common sort fields for ListPaymentsParams.SortBy; most payment fields are accepted.
const (
	SortByCreatedAt     = "created_at" // JovePay's default
	SortByUpdatedAt     = "updated_at"
	SortByPaymentID     = "payment_id"
	SortByPaymentStatus = "payment_status"
	SortByPriceAmount   = "price_amount"
	SortByPayAmount     = "pay_amount"
	SortByActuallyPaid  = "actually_paid"
	SortByOrderID       = "order_id"
	SortByOutcomeAmount = "outcome_amount"
)

// ListPaymentsParams are the query of GET /payment/ (a JWT endpoint).
type ListPaymentsParams struct {
	// Limit is the page size, 1–500 (0: JovePay's default, 10).
	Limit int
	// Cursor is the page to fetch (ListPaymentsPage) or to start from (ListPayments): the
	// NextCursor of the previous page, which is JovePay's 0-based page number as text. ""
	// means the first page.
	Cursor string
	// SortBy is the field to sort on (SortByCreatedAt by default).
	SortBy string
	// OrderBy is OrderAsc (default) or OrderDesc.
	OrderBy string
	// DateFrom and DateTo bound created_at (zero: unbounded). Sent as ISO 8601 in UTC.
	DateFrom, DateTo time.Time
	// InvoiceID lists only the payments of one invoice.
	InvoiceID ID
}

func (p *ListPaymentsParams) validate() error {
	switch {
	case p.Limit < 0 || p.Limit > MaxListLimit:
		return &paykit.ValidationError{Field: "limit", Reason: "must be between 1 and 500 (0 for the default)"}
	case p.Cursor != "" && pageNumber(p.Cursor) < 0:
		return &paykit.ValidationError{Field: "page", Reason: "cursor must be a NextCursor: a 0-based page number"}
	case p.OrderBy != "" && p.OrderBy != OrderAsc && p.OrderBy != OrderDesc:
		return &paykit.ValidationError{Field: "orderBy", Reason: `must be "asc" or "desc"`}
	case p.SortBy != "" && strings.TrimSpace(p.SortBy) != p.SortBy:
		return &paykit.ValidationError{Field: "sortBy", Reason: "must not contain surrounding spaces"}
	case !p.DateFrom.IsZero() && !p.DateTo.IsZero() && p.DateTo.Before(p.DateFrom):
		return &paykit.ValidationError{Field: "dateTo", Reason: "must not be before dateFrom"}
	}
	return nil
}

// pageNumber returns the page number a cursor names, 0 for "", or -1 for anything that is not a
// non-negative decimal number.
func pageNumber(cursor string) int {
	if cursor == "" {
		return 0
	}
	n, err := strconv.Atoi(cursor)
	if err != nil || n < 0 || strconv.Itoa(n) != cursor {
		return -1
	}
	return n
}

// isoTime is the date format sent for dateFrom/dateTo (the docs accept YYYY-MM-DD or ISO).
const isoTime = "2006-01-02T15:04:05.000Z"

func (p *ListPaymentsParams) query(page int) url.Values {
	q := url.Values{"page": {strconv.Itoa(page)}}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.SortBy != "" {
		q.Set("sortBy", p.SortBy)
	}
	if p.OrderBy != "" {
		q.Set("orderBy", p.OrderBy)
	}
	if !p.DateFrom.IsZero() {
		q.Set("dateFrom", p.DateFrom.UTC().Format(isoTime))
	}
	if !p.DateTo.IsZero() {
		q.Set("dateTo", p.DateTo.UTC().Format(isoTime))
	}
	if !p.InvoiceID.IsZero() {
		q.Set("invoiceId", string(p.InvoiceID))
	}
	return q
}

// wireList is one page of GET /payment/ as JovePay sends it.
type wireList struct {
	Data       []*Payment `json:"data"`
	Limit      int        `json:"limit"`      // the page size JovePay used
	PagesCount int        `json:"pagesCount"` // the number of pages
	Total      int        `json:"total"`      // the number of payments matching
}

// UnmarshalJSON accepts the counters as numbers or numeric strings.
func (l *wireList) UnmarshalJSON(b []byte) error {
	type plain wireList
	*l = wireList{}
	w := struct {
		*plain
		Limit      jsonx.Int64 `json:"limit"`
		PagesCount jsonx.Int64 `json:"pagesCount"`
		Total      jsonx.Int64 `json:"total"`
	}{plain: (*plain)(l)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	l.Limit, l.PagesCount, l.Total = int(w.Limit), int(w.PagesCount), int(w.Total)
	return nil
}

// ListPaymentsPage fetches one page (p.Cursor) of the merchant's payments. The page's
// NextCursor is the next page number, "" after the last page (decided from JovePay's
// pagesCount, then total, then a short page). It needs a JWT (WithCredentials); without one it
// returns ErrCredentialsRequired before sending.
func (c *Client) ListPaymentsPage(ctx context.Context, p ListPaymentsParams, opts ...paykit.CallOption) (*paykit.Page[*Payment], error) {
	auth, err := c.jwtAuth("ListPaymentsPage")
	if err != nil {
		return nil, err
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return c.listPage(ctx, auth, &p, pageNumber(p.Cursor), opts)
}

func (c *Client) listPage(ctx context.Context, auth transport.Auth, p *ListPaymentsParams, page int, opts []paykit.CallOption) (*paykit.Page[*Payment], error) {
	var w wireList
	// "payment/" with the slash, as documented: GET /payment/{id} is a different endpoint.
	err := c.t.Do(ctx, transport.Request{Method: "GET", Path: "payment/", Route: "payment/", Query: p.query(page), Auth: auth, Options: opts}, &w)
	if err != nil {
		return nil, err
	}
	out := &paykit.Page[*Payment]{Data: w.Data}
	if !lastPage(&w, page, p.Limit) {
		out.HasMore, out.NextCursor = true, strconv.Itoa(page+1)
	}
	return out, nil
}

// ListPayments iterates over the merchant's payments, fetching pages lazily from p.Cursor on
// (0-based) until the last one. It needs a JWT (WithCredentials). An error ends the iteration
// after being yielded once:
//
//	for pay, err := range c.ListPayments(ctx, jovepay.ListPaymentsParams{Limit: 100}) {
//		if err != nil { return err }
//		…
//	}
//
// Sort on a field that does not change (created_at, payment_id) so that payments updated while
// you iterate are not skipped or repeated.
//
// opts apply to every page request; WithResponseInfo receives the last page request's info.
func (c *Client) ListPayments(ctx context.Context, p ListPaymentsParams, opts ...paykit.CallOption) iter.Seq2[*Payment, error] {
	return func(yield func(*Payment, error) bool) {
		auth, err := c.jwtAuth("ListPayments")
		if err == nil {
			err = p.validate()
		}
		if err != nil {
			yield(nil, err)
			return
		}
		for page := pageNumber(p.Cursor); ; page++ {
			list, err := c.listPage(ctx, auth, &p, page, opts)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, pay := range list.Data {
				if !yield(pay, nil) {
					return
				}
			}
			if !list.HasMore {
				return
			}
		}
	}
}

// lastPage decides whether page was the last one, trusting pagesCount, then total, then a short
// page, so a response missing a counter neither stops early nor loops forever.
func lastPage(l *wireList, page, limit int) bool {
	size := l.Limit
	if size <= 0 {
		size = limit
	}
	switch {
	case len(l.Data) == 0:
		return true
	case l.PagesCount > 0:
		return page+1 >= l.PagesCount
	case l.Total > 0 && size > 0:
		return (page+1)*size >= l.Total
	}
	return size <= 0 || len(l.Data) < size
}
