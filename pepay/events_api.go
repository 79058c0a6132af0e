package pepay

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paykit-go/paykit/internal/transport"
)

const eventsPath = apiPrefix + "events"

// ListEventsParams filters and pages the events API. All fields are optional.
type ListEventsParams struct {
	// Types keeps events whose type matches any entry: exact names or prefix wildcards
	// ("invoice.*", "invoice_payment.*").
	Types []string
	// CreatedGTE and CreatedLTE bound the creation time (inclusive, whole seconds).
	CreatedGTE, CreatedLTE time.Time
	// Limit is the page size, 1–100 (Pepay's default is 10; EventsAfter uses 100).
	Limit int
	// StartingAfter returns events older than this id; EndingBefore events newer than it. Give
	// at most one.
	StartingAfter, EndingBefore string
	// InvoiceID keeps one invoice's events.
	InvoiceID string
	// Environment overrides the client's WithEnvironment.
	Environment Environment
}

// EventList is one page of events. Pepay lists newest first.
type EventList struct {
	Object string `json:"object"` // "list"
	// Data holds the page's events, newest first.
	Data []Event `json:"data"`
	// HasMore reports whether more events exist past this page in the direction of the cursor
	// (older, or newer with EndingBefore).
	HasMore bool `json:"has_more"`
	// URL is the list's url as sent by Pepay; "" when absent.
	URL string `json:"url,omitempty"`
}

// ListEventsPage returns one page of events, newest first.
func (c *Client) ListEventsPage(ctx context.Context, p ListEventsParams) (*EventList, error) {
	q, err := c.eventQuery(p)
	if err != nil {
		return nil, err
	}
	var out EventList
	if err := doRequest(ctx, c.t, transport.Request{Method: http.MethodGet, Path: eventsPath, Query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListEvents iterates over events matching p, newest first, fetching pages lazily (next page:
// starting_after=<last id>). To catch up after downtime in the order events happened, use
// EventsAfter instead.
func (c *Client) ListEvents(ctx context.Context, p ListEventsParams) iter.Seq2[*Event, error] {
	if p.EndingBefore != "" {
		return errSeq[*Event](&ValidationError{Field: "ending_before", Reason: "ListEvents walks towards older events; use EventsAfter for newer ones"})
	}
	return paginate(func(cursor string) ([]Event, bool, error) {
		q := p
		if cursor != "" {
			q.StartingAfter = cursor
		}
		page, err := c.ListEventsPage(ctx, q)
		if err != nil {
			return nil, false, err
		}
		return page.Data, page.HasMore, nil
	}, func(e *Event) string { return e.ID }, false)
}

// GetEvent retrieves one event.
func (c *Client) GetEvent(ctx context.Context, id string) (*Event, error) {
	if err := checkID("event_id", id); err != nil {
		return nil, err
	}
	var out Event
	if err := doRequest(ctx, c.t, transport.Request{Method: http.MethodGet, Path: eventsPath + "/" + url.PathEscape(id)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// EventsAfter is the recovery helper: it yields every event newer than lastEventID (the last
// one you processed) in the order they happened, oldest first, until it has caught up with the
// newest event. p filters as in ListEvents; its cursors must be empty and its Limit defaults to
// 100.
//
// How: Pepay lists events newest first and its cursors are Stripe-style. ending_before=<id>
// returns the page of events immediately newer than <id> (still listed newest first) and
// has_more says whether even newer ones exist. So each page is reversed and yielded, and the
// next request uses ending_before=<newest id of the page>, walking forward in time without
// skipping or repeating anything: events created while the walk runs are picked up by its
// later pages. (Walking starting_after from the top instead would have to buffer everything
// before yielding the oldest.) An id seen twice is yielded once; a page that does not move the
// cursor ends the walk with ErrPaginationStuck. If lastEventID is older than Pepay's event
// retention the first request fails with Pepay's error: reconcile with GetInvoice then.
func (c *Client) EventsAfter(ctx context.Context, lastEventID string, p ListEventsParams) iter.Seq2[*Event, error] {
	if err := checkID("ending_before", lastEventID); err != nil {
		return errSeq[*Event](err)
	}
	if p.StartingAfter != "" || p.EndingBefore != "" {
		return errSeq[*Event](&ValidationError{Field: "starting_after", Reason: "EventsAfter sets the cursor itself; leave StartingAfter and EndingBefore empty"})
	}
	if p.Limit == 0 {
		p.Limit = maxPageSize
	}
	return func(yield func(*Event, error) bool) {
		cursor := lastEventID
		seen := map[string]struct{}{lastEventID: {}}
		for {
			q := p
			q.EndingBefore = cursor
			page, err := c.ListEventsPage(ctx, q)
			if err != nil {
				yield(nil, err)
				return
			}
			fresh := 0
			for i := len(page.Data) - 1; i >= 0; i-- { // newest first on the wire: reverse
				e := &page.Data[i]
				if _, dup := seen[e.ID]; dup {
					continue
				}
				seen[e.ID] = struct{}{}
				fresh++
				if !yield(e, nil) {
					return
				}
			}
			if !page.HasMore {
				return
			}
			if fresh == 0 || page.Data[0].ID == cursor {
				yield(nil, fmt.Errorf("%w: ending_before=%s returned no new events", ErrPaginationStuck, cursor))
				return
			}
			cursor = page.Data[0].ID
		}
	}
}

func (c *Client) eventQuery(p ListEventsParams) (url.Values, error) {
	q := url.Values{}
	if err := setLimit(q, p.Limit); err != nil {
		return nil, err
	}
	if p.StartingAfter != "" && p.EndingBefore != "" {
		return nil, &ValidationError{Field: "starting_after", Reason: "give starting_after or ending_before, not both"}
	}
	setIf(q, "starting_after", p.StartingAfter)
	setIf(q, "ending_before", p.EndingBefore)
	if len(p.Types) > 0 {
		for _, t := range p.Types {
			if t == "" || strings.ContainsAny(t, ", ") {
				return nil, &ValidationError{Field: "type", Reason: "event types must be non-empty and contain no comma or space"}
			}
		}
		q.Set("type", strings.Join(p.Types, ","))
	}
	if !p.CreatedGTE.IsZero() {
		q.Set("created[gte]", strconv.FormatInt(p.CreatedGTE.Unix(), 10))
	}
	if !p.CreatedLTE.IsZero() {
		q.Set("created[lte]", strconv.FormatInt(p.CreatedLTE.Unix(), 10))
	}
	setIf(q, "invoice_id", p.InvoiceID)
	c.setEnv(q, p.Environment)
	return q, nil
}
