package jopay

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/transport"
)

// Page sizes of GET /requests.
const (
	DefaultListLimit = 50
	MaxListLimit     = 100
)

// ListRequestsParams filters GET /requests. Every field is optional.
type ListRequestsParams struct {
	// MerchantID keeps one merchant's requests.
	MerchantID string
	// Status keeps requests in one lifecycle state (StatusExpired to find failed charges).
	Status Status
	// ProofStatus keeps requests with one proof state (ProofStatusVerified for reconciliation).
	ProofStatus ProofStatus
	// Since and Until bound created_at (sent as RFC 3339). Zero means unbounded.
	Since, Until time.Time
	// Limit is the page size: 1–100, 0 means 50. It must be larger than the number of requests
	// that can share one created_at, or the iterator cannot move past them
	// (paykit.ErrPaginationStuck).
	Limit int
	// Cursor is the NextCursor of the previous page, for ListRequestsPage; "" fetches the first
	// page. The iterators ignore it: they keep their own cursor (see ListRequestsFrom).
	Cursor string
}

// Validate checks the limit and the time window.
func (p *ListRequestsParams) Validate() error {
	if p.Limit < 0 || p.Limit > MaxListLimit {
		return &paykit.ValidationError{Field: "limit", Reason: "must be between 1 and 100 (0 means 50), got " + strconv.Itoa(p.Limit)}
	}
	if !p.Since.IsZero() && !p.Until.IsZero() && p.Until.Before(p.Since) {
		return &paykit.ValidationError{Field: "until", Reason: "must not be before since"}
	}
	return nil
}

func (p *ListRequestsParams) limit() int {
	if p.Limit == 0 {
		return DefaultListLimit
	}
	return p.Limit
}

// ListRequestsPage fetches one page of GET /requests, oldest first: p.Cursor is the NextCursor
// of the previous page, or "" for the first. NextCursor is JoPay's opaque cursor, "" when it
// sends none. Most callers want ListRequests or ListRequestsFrom, which handle servers that send
// no cursor and requests that share a timestamp.
func (c *Client) ListRequestsPage(ctx context.Context, p ListRequestsParams, opts ...paykit.CallOption) (*paykit.Page[*PaymentRequest], error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return c.listPage(ctx, &p, p.Since, p.limit(), p.Cursor, opts)
}

// ListRequests returns an iterator over every request matching p, fetching pages lazily. It
// yields each request exactly once, oldest first, following JoPay's documented reconciliation pattern:
// the next page starts at the last created_at seen (or at next_cursor, when JoPay sends one).
//
// Requests that share the boundary timestamp come back on the next page; the iterator remembers
// the ids it yielded at that timestamp and skips them, and it asks from just before the boundary
// so that no request is lost whether the server treats since as inclusive or exclusive. Rows
// created while iterating are picked up when they sort after the cursor.
//
// When a whole page shares one created_at the cursor cannot move: the iterator retries that page
// once with Limit 100 and otherwise stops with an error wrapping paykit.ErrPaginationStuck, never looping.
// An error ends the iteration; it is yielded with a nil request.
//
// opts apply to every page's request; paykit.WithResponseInfo receives the last page's.
//
// To resume a later run where this one stopped, use ListRequestsFrom and store its Cursor.
func (c *Client) ListRequests(ctx context.Context, p ListRequestsParams, opts ...paykit.CallOption) iter.Seq2[*PaymentRequest, error] {
	return c.ListRequestsFrom(p, Cursor{}, opts...).All(ctx)
}

// ListRequestsFrom returns an iterator that starts after from (a Cursor stored by an earlier
// run), or at p.Since when from is zero. Range over All, then store Cursor for the next run:
//
//	it := client.ListRequestsFrom(params, saved)
//	for r, err := range it.All(ctx) { … }
//	saved = it.Cursor()
//
// opts apply to every page's request (All may add more); paykit.WithResponseInfo receives the
// last page's.
func (c *Client) ListRequestsFrom(p ListRequestsParams, from Cursor, opts ...paykit.CallOption) *RequestIterator {
	it := &RequestIterator{c: c, p: p, opts: opts, limit: p.limit(), seen: make(map[string]struct{})}
	if from.IsZero() {
		it.bound = p.Since
		it.since = p.Since
	} else {
		it.bound = from.Since
		it.since = overlap(from.Since)
		for _, id := range from.SeenIDs {
			it.markSeen(id)
		}
	}
	return it
}

// overlap returns the since that re-reads the boundary instant itself (zero stays zero: no
// since parameter).
func overlap(bound time.Time) time.Time {
	if bound.IsZero() {
		return bound
	}
	return bound.Add(-time.Nanosecond)
}

// RequestIterator walks GET /requests with a moving since cursor; see ListRequests. It is not
// safe for concurrent use.
type RequestIterator struct {
	c    *Client
	p    ListRequestsParams
	opts []paykit.CallOption // ListRequestsFrom's per-call options, for every page

	bound    time.Time           // newest created_at yielded so far (or the starting point)
	seen     map[string]struct{} // ids yielded (or given) with created_at == bound
	seenList []string            // the same ids, in order, for Cursor
	since    time.Time           // since to send on the next since-based page
	cursor   string              // server cursor for the next page ("" = since-based)
	limit    int                 // page size; raised to MaxListLimit once when a page is stuck

	page   *paykit.Page[*PaymentRequest] // the page being yielded, nil between pages
	buf    []*PaymentRequest             // its requests not yielded yet
	before time.Time                     // bound when the page was fetched
	// bySince: the page was asked for by since (not by a server cursor), so its rows older
	// than the boundary are re-sent ones (the overlap, or a server truncating since).
	bySince bool
	empty   int // consecutive empty pages with has_more
	done    bool
	pages   int
}

// Cursor returns the position after the last request yielded: store it (MarshalText) and pass
// it to ListRequestsFrom next time. When ranging stopped early, by a break or an error, the
// cursor still covers exactly the requests that were yielded.
func (it *RequestIterator) Cursor() Cursor {
	return Cursor{Since: it.bound, SeenIDs: append([]string(nil), it.seenList...)}
}

// Pages reports how many pages were fetched so far.
func (it *RequestIterator) Pages() int { return it.pages }

// maxEmptyPages bounds consecutive empty pages that still claim has_more with a fresh cursor.
const maxEmptyPages = 10

// All returns the iterator. Ranging again after a break continues with the next request;
// after an API error it retries the failed page; after the end or paykit.ErrPaginationStuck it yields
// nothing more.
//
// Every page's request gets ListRequestsFrom's options followed by opts (a later option wins);
// paykit.WithResponseInfo receives the last page's.
func (it *RequestIterator) All(ctx context.Context, opts ...paykit.CallOption) iter.Seq2[*PaymentRequest, error] {
	callOpts := it.opts
	if len(opts) > 0 {
		callOpts = append(append([]paykit.CallOption(nil), it.opts...), opts...)
	}
	return func(yield func(*PaymentRequest, error) bool) {
		if it.done {
			return
		}
		if err := it.p.Validate(); err != nil {
			it.done = true
			yield(nil, err)
			return
		}
		for {
			for len(it.buf) > 0 {
				r := it.buf[0]
				it.buf[0] = nil
				it.buf = it.buf[1:]
				if it.skip(r) {
					continue
				}
				it.advance(r)
				if !yield(r, nil) {
					return
				}
			}
			if it.page != nil {
				err := it.finishPage()
				if it.done {
					if err != nil {
						yield(nil, err)
					}
					return
				}
			}
			page, err := it.c.listPage(ctx, &it.p, it.since, it.limit, it.cursor, callOpts)
			if err != nil {
				yield(nil, err) // not done: ranging again retries this page
				return
			}
			it.pages++
			if page.NextCursor == "" {
				if err := checkOrder(page.Data); err != nil {
					it.done = true
					yield(nil, err)
					return
				}
			}
			it.page, it.buf, it.before, it.bySince = page, page.Data, it.bound, it.cursor == ""
		}
	}
}

// finishPage decides the query after a fully yielded page, setting done (with an error when
// the walk cannot continue).
func (it *RequestIterator) finishPage() error {
	page, sent := it.page, it.cursor
	it.page = nil
	if !page.HasMore {
		it.done = true
		return nil
	}
	if len(page.Data) == 0 {
		if it.empty++; it.empty > maxEmptyPages {
			it.done = true
			return fmt.Errorf("%w: %d empty pages in a row still report has_more", paykit.ErrPaginationStuck, it.empty)
		}
	} else {
		it.empty = 0
	}
	if page.NextCursor != "" {
		if page.NextCursor == sent {
			it.done = true
			return fmt.Errorf("%w: the server returned the same next_cursor again", paykit.ErrPaginationStuck)
		}
		it.cursor = page.NextCursor
		return nil
	}
	it.cursor = ""
	// Ask from just before the boundary: an exclusive server then still returns the rest of a
	// tie group, an inclusive one also returns the ids already seen, which skip drops.
	it.since = overlap(it.bound)
	if it.bound.After(it.before) {
		return nil
	}
	// The whole page sat on the boundary: the same query would return the same page.
	if it.limit < MaxListLimit {
		it.limit = MaxListLimit // the tie group may fit in a bigger page
		return nil
	}
	it.done = true
	return fmt.Errorf("%w: at least %d requests share created_at %s; no page can move past them",
		paykit.ErrPaginationStuck, it.limit, it.bound.Format(time.RFC3339Nano))
}

// skip reports whether r was already yielded: it sorts before the boundary (an inclusive or
// overlapping since brought it back), or it sits on the boundary and its id was seen. Pages
// walked by the server's own cursor may be in any order, so only the id check applies there.
func (it *RequestIterator) skip(r *PaymentRequest) bool {
	switch c := r.CreatedAt.Compare(it.bound); {
	case c < 0:
		return it.bySince
	case c == 0:
		_, ok := it.seen[r.ID]
		return ok
	}
	return false
}

// advance moves the boundary to r when r is newer, or adds r to the ids seen on it.
func (it *RequestIterator) advance(r *PaymentRequest) {
	switch c := r.CreatedAt.Compare(it.bound); {
	case c > 0:
		it.bound = r.CreatedAt
		clear(it.seen)
		it.seenList = it.seenList[:0]
		it.markSeen(r.ID)
	case c == 0:
		it.markSeen(r.ID)
	}
}

func (it *RequestIterator) markSeen(id string) {
	if _, ok := it.seen[id]; ok {
		return
	}
	it.seen[id] = struct{}{}
	it.seenList = append(it.seenList, id)
}

// checkOrder requires a page sorted by created_at, oldest first: a since cursor taken from the
// last row is only correct then.
func checkOrder(rs []*PaymentRequest) error {
	for i := 1; i < len(rs); i++ {
		if rs[i].CreatedAt.Before(rs[i-1].CreatedAt) {
			return fmt.Errorf("%w: request %d (created %s) comes after one created %s", ErrUnorderedPage,
				i, rs[i].CreatedAt.Format(time.RFC3339Nano), rs[i-1].CreatedAt.Format(time.RFC3339Nano))
		}
	}
	return nil
}

func (l *wireList) envelope() (*bool, string, string) { return l.OK, l.Error, l.Message }

type wireList struct {
	OK         *bool         `json:"ok"`
	Error      string        `json:"error"`
	Message    string        `json:"message"`
	Requests   []wireRequest `json:"requests"`
	HasMore    bool          `json:"has_more"`
	NextCursor string        `json:"next_cursor"`

	fast []*PaymentRequest // set instead of Requests when the fast path decoded the page
}

// fastList is a page in exactly the documented shape (see fastRequest).
type fastList struct {
	OK         *bool         `json:"ok"`
	Error      string        `json:"error"`
	Message    string        `json:"message"`
	Requests   []fastRequest `json:"requests"`
	HasMore    bool          `json:"has_more"`
	NextCursor string        `json:"next_cursor"`
}

// UnmarshalJSON decodes a page in the documented shape in one pass, and any other page
// tolerantly, request by request.
func (l *wireList) UnmarshalJSON(b []byte) error { return l.DecodeBody(b) }

// DecodeBody implements transport.BodyDecoder (see wireRequest.DecodeBody).
func (l *wireList) DecodeBody(b []byte) error {
	f := getFastList()
	defer putFastList(f)
	if json.Unmarshal(b, f) == nil {
		out := make([]*PaymentRequest, len(f.Requests))
		ok := true
		for i := range f.Requests {
			if out[i], ok = f.Requests[i].request(); !ok {
				break
			}
		}
		if ok {
			*l = wireList{OK: f.OK, Error: f.Error, Message: f.Message, HasMore: f.HasMore, NextCursor: f.NextCursor, fast: out}
			return nil
		}
	}
	type tolerant wireList // the same fields without this method
	var t tolerant
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	*l = wireList(t)
	return nil
}

// fastLists keeps the rows of decoded pages for the next page: encoding/json appends into a
// slice's spare capacity, so a walk through many pages grows the slice once instead of per page.
var fastLists = sync.Pool{New: func() any { return new(fastList) }}

// getFastList returns an empty fastList, its Requests slice kept from an earlier page.
func getFastList() *fastList {
	f := fastLists.Get().(*fastList)
	*f = fastList{Requests: f.Requests[:0]}
	return f
}

// putFastList zeroes f's rows (encoding/json decodes into an element as it finds it, so an old
// row must not show through a new one, and none may keep its strings alive) and keeps it.
func putFastList(f *fastList) {
	if cap(f.Requests) > 4*MaxListLimit {
		return // an oversized page from a server ignoring the limit: let it go
	}
	clear(f.Requests[:cap(f.Requests)])
	f.Requests = f.Requests[:0]
	fastLists.Put(f)
}

// listPage sends one GET /requests with p's filters, since and limit, or the server cursor.
func (c *Client) listPage(ctx context.Context, p *ListRequestsParams, since time.Time, limit int, cursor string, opts []paykit.CallOption) (*paykit.Page[*PaymentRequest], error) {
	q := url.Values{}
	if p.MerchantID != "" {
		q.Set("merchant_id", p.MerchantID)
	}
	if p.Status != "" {
		q.Set("status", string(p.Status))
	}
	if p.ProofStatus != "" {
		q.Set("proof_status", string(p.ProofStatus))
	}
	if !since.IsZero() {
		q.Set("since", since.UTC().Format(time.RFC3339Nano))
	}
	if !p.Until.IsZero() {
		q.Set("until", p.Until.UTC().Format(time.RFC3339Nano))
	}
	q.Set("limit", strconv.Itoa(limit))
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var w wireList
	if err := c.do(ctx, transport.Request{Method: http.MethodGet, Path: "requests", Route: "requests", Query: q, Options: opts}, &w); err != nil {
		return nil, err
	}
	page := &paykit.Page[*PaymentRequest]{Data: w.fast, HasMore: w.HasMore, NextCursor: w.NextCursor}
	if page.Data == nil {
		page.Data = make([]*PaymentRequest, len(w.Requests))
		for i := range w.Requests {
			page.Data[i] = w.Requests[i].request()
		}
	}
	return page, nil
}
