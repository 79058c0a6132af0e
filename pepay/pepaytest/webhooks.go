package pepaytest

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/paykit-go/paykit/internal/fakeserver"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/webhook"
)

// hookConfig is the webhook endpoint and its delivery queue; its fields are guarded by
// Server.mu.
type hookConfig struct {
	url, secret, previous string
	attempts              int
	backoff               func(int) time.Duration

	queue      []*eventRec
	inflight   bool
	cond       *sync.Cond
	deliveries []*Delivery
	ctx        context.Context
	cancel     context.CancelFunc
	started    bool
	done       chan struct{}
}

func (h *hookConfig) init(s *Server) {
	h.cond = sync.NewCond(&s.mu)
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.done = make(chan struct{})
}

// SetWebhook registers the endpoint that receives every later event, signed with secret
// (X-Pepay-Signature over "<X-Pepay-Timestamp ms>.<body>"). With previousSecret, deliveries also
// carry X-Pepay-Signature-Previous made with it, as during a secret rotation. Deliveries run in
// order on one goroutine and are retried on any non-2xx answer. A lifecycle helper returns once
// the deliveries of its events finished; events caused by API requests (invoice.created after
// POST /api/v1/invoices) are delivered after the response, and WaitWebhooks waits for them. An
// empty url stops deliveries.
func (s *Server) SetWebhook(url, secret string, previousSecret ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook.url, s.hook.secret, s.hook.previous = url, secret, ""
	if len(previousSecret) > 0 {
		s.hook.previous = previousSecret[0]
	}
	if url != "" && !s.hook.started && !s.closed {
		s.hook.started = true
		go s.deliverLoop()
	}
}

// enqueueLocked queues rec for delivery when an endpoint is set; rec.delivered is closed once
// the delivery finished.
func (h *hookConfig) enqueueLocked(rec *eventRec) {
	if h.url == "" {
		return
	}
	rec.delivered = make(chan struct{})
	h.queue = append(h.queue, rec)
	h.cond.Broadcast()
}

// awaitDelivery waits until rec's webhook delivery finished and returns its record: nil when
// rec is nil or was not queued (no endpoint set). The queue is delivered in order, so the
// deliveries of the events logged before rec are finished too.
func (s *Server) awaitDelivery(ctx context.Context, rec *eventRec) (*Delivery, error) {
	if rec == nil || rec.delivered == nil {
		return nil, nil
	}
	select {
	case <-rec.delivered:
		s.mu.Lock()
		defer s.mu.Unlock()
		return rec.delivery, nil
	case <-s.stop:
		return nil, errClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Server) deliverLoop() {
	defer close(s.hook.done)
	for {
		s.mu.Lock()
		for len(s.hook.queue) == 0 && !s.closed {
			s.hook.cond.Wait()
		}
		if s.closed {
			s.mu.Unlock()
			return
		}
		rec := s.hook.queue[0]
		s.hook.queue = s.hook.queue[1:]
		s.hook.inflight = true
		url, secret, prev := s.hook.url, s.hook.secret, s.hook.previous
		d := fakeserver.Deliverer{
			Client:      &http.Client{Timeout: 5 * time.Second},
			MaxAttempts: s.hook.attempts,
			Backoff:     s.hook.backoff,
			Retry:       fakeserver.RetryNon2xx,
			Now:         s.now,
		}
		s.mu.Unlock()

		del := d.Deliver(s.hook.ctx, url, rec.body, func(body []byte, now time.Time) http.Header {
			h := SignatureHeaders(secret, prev, now, body)
			h.Set(pepay.EventTypeHeader, string(rec.typ))
			h.Set(pepay.EventIDHeader, rec.id)
			h.Set(pepay.NetworkEnvironmentHeader, string(rec.env))
			return h
		})

		attempts := make([]Attempt, len(del.Attempts))
		for i, a := range del.Attempts {
			attempts[i] = Attempt(a)
		}
		rd := &Delivery{Event: rec.typ, EventID: rec.id, InvoiceID: rec.invoiceID, URL: del.URL, Body: del.Body,
			Header: del.Header, Attempts: attempts, Delivered: del.Delivered, Abandoned: del.Abandoned}
		s.mu.Lock()
		s.hook.deliveries = append(s.hook.deliveries, rd)
		rec.delivery = rd
		close(rec.delivered)
		s.hook.inflight = false
		s.hook.cond.Broadcast()
		s.mu.Unlock()
	}
}

// SignatureHeaders returns the headers Pepay signs a delivery of body with at t:
// X-Pepay-Timestamp (unix milliseconds) and X-Pepay-Signature, the hex HMAC-SHA256 of
// "<timestamp>.<body>" under secret, plus, when previousSecret is not empty,
// X-Pepay-Signature-Previous made with it over the same timestamp, as during a secret rotation.
// The fake signs its deliveries with it; tests that post webhooks themselves use it too.
func SignatureHeaders(secret, previousSecret string, t time.Time, body []byte) http.Header {
	ms := strconv.FormatInt(t.UnixMilli(), 10)
	h := http.Header{}
	h.Set(pepay.TimestampHeader, ms)
	h.Set(pepay.SignatureHeader, webhook.Sign(secret, ms, body))
	if previousSecret != "" {
		h.Set(pepay.PreviousSignatureHeader, webhook.Sign(previousSecret, ms, body))
	}
	return h
}

func (h *hookConfig) close() {
	h.cancel()
	h.cond.Broadcast()
	if h.started {
		<-h.done
	}
}

// Attempt is one attempt of a webhook Delivery.
type Attempt struct {
	// At is when the attempt was made, on the server's clock; its signature is made for it.
	At time.Time
	// Status is the HTTP status the receiver answered, or 0 when no answer arrived.
	Status int
	// Err is the transport error when no answer arrived, nil otherwise.
	Err error
}

// Delivery records one event sent to the registered webhook endpoint, with every attempt. Pepay
// retries every non-2xx answer.
type Delivery struct {
	// Event is the event type, e.g. pepay.EventInvoiceUpdated.
	Event pepay.EventType
	// EventID is the event's id ("evt_<ms>-<seq>").
	EventID string
	// InvoiceID is the invoice the event is about ("" for events about none, such as test.ping).
	InvoiceID string
	// URL is where the webhook was posted.
	URL string
	// Body is the event JSON, identical in every attempt.
	Body []byte
	// Header holds the headers of the last attempt, signature and event headers included.
	Header http.Header
	// Attempts lists every attempt, oldest first.
	Attempts []Attempt
	// Delivered is true when an attempt was answered 2xx.
	Delivered bool
	// Abandoned is true when the receiver answered a status that is not retried. Pepay retries
	// every non-2xx answer, so it stays false.
	Abandoned bool
}

// Deliveries returns the finished webhook deliveries, oldest first, with every attempt's status.
func (s *Server) Deliveries() []*Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Delivery(nil), s.hook.deliveries...)
}

// WaitWebhooks blocks until every queued webhook has been delivered (or given up on), or ctx
// ends. Lifecycle helpers wait for their own deliveries; WaitWebhooks is for the events API
// requests caused, such as invoice.created.
func (s *Server) WaitWebhooks(ctx context.Context) error {
	for {
		s.mu.Lock()
		idle := len(s.hook.queue) == 0 && !s.hook.inflight
		s.mu.Unlock()
		if idle {
			return nil
		}
		t := time.NewTimer(2 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
