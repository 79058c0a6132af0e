package pepaytest

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/paykit-go/paykit/internal/fakeserver"
	"github.com/paykit-go/paykit/pepay"
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
	deliveries []fakeserver.Delivery
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
// order on one goroutine and are retried on any non-2xx answer. An empty url stops deliveries.
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

// enqueueLocked queues rec for delivery when an endpoint is set.
func (h *hookConfig) enqueueLocked(rec *eventRec) {
	if h.url == "" {
		return
	}
	h.queue = append(h.queue, rec)
	h.cond.Broadcast()
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
			h := pepay.SignWebhook(secret, now, body)
			if prev != "" {
				pepay.SignWebhookPrevious(h, prev, body)
			}
			h.Set(pepay.EventTypeHeader, string(rec.typ))
			h.Set(pepay.EventIDHeader, rec.id)
			h.Set(pepay.NetworkEnvironmentHeader, string(rec.env))
			return h
		})

		s.mu.Lock()
		s.hook.deliveries = append(s.hook.deliveries, del)
		s.hook.inflight = false
		s.hook.cond.Broadcast()
		s.mu.Unlock()
	}
}

func (h *hookConfig) close() {
	h.cancel()
	h.cond.Broadcast()
	if h.started {
		<-h.done
	}
}

// Delivery is the record of one webhook delivery and its attempts.
type Delivery = fakeserver.Delivery

// Attempt is one attempt of a Delivery.
type Attempt = fakeserver.Attempt

// Deliveries returns the finished webhook deliveries, in order, with every attempt's status.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.hook.deliveries...)
}

// WaitWebhooks blocks until every queued webhook has been delivered (or given up on), or ctx
// ends.
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
