package webhook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/paykit-go/paykit/webhook"
)

// memInbox is an in-process Inbox for tests: Enqueue stores (once per endpoint and key),
// drain runs the stored deliveries through the registered functions.
type memInbox struct {
	mu      sync.Mutex
	process map[string]func(context.Context, *webhook.Delivery) error
	queue   []*webhook.Delivery
	keys    map[string]bool
	failing error
}

func newMemInbox() *memInbox {
	return &memInbox{process: map[string]func(context.Context, *webhook.Delivery) error{}, keys: map[string]bool{}}
}

func (m *memInbox) Register(endpoint string, fn func(context.Context, *webhook.Delivery) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.process[endpoint]; ok {
		return errors.New("endpoint " + endpoint + " already registered")
	}
	m.process[endpoint] = fn
	return nil
}

func (m *memInbox) Enqueue(_ context.Context, d *webhook.Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failing != nil {
		return m.failing
	}
	if d.Key != "" {
		if m.keys[d.Endpoint+"\x00"+d.Key] {
			return nil
		}
		m.keys[d.Endpoint+"\x00"+d.Key] = true
	}
	m.queue = append(m.queue, d)
	return nil
}

// drain processes every queued delivery once and returns the errors, in order.
func (m *memInbox) drain(ctx context.Context) []error {
	m.mu.Lock()
	queue := m.queue
	m.queue = nil
	m.mu.Unlock()
	var errs []error
	for _, d := range queue {
		errs = append(errs, m.process[d.Endpoint](ctx, d))
	}
	return errs
}

func TestInboxAnswersAtOnceAndProcessesLater(t *testing.T) {
	ib := newMemInbox()
	f := newHandlerFixture(t, true, webhook.WithInbox(ib, "test"))
	body := eventBody("evt_inbox_1")
	sig := webhook.SignTimestamp(handlerSecret, f.now, body)
	for i := 0; i < 3; i++ {
		resp := f.deliver(http.MethodPost, body, sig)
		text, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(text)) != "queued" {
			t.Fatalf("delivery %d: %d %q, want 200 queued", i, resp.StatusCode, text)
		}
	}
	if got := f.processed(); len(got) != 0 {
		t.Fatalf("handler ran while the request waited: %v", got)
	}
	if errs := ib.drain(context.Background()); len(errs) != 1 || errs[0] != nil {
		t.Fatalf("drain = %v, want one delivery processed (redeliveries are stored once)", errs)
	}
	if got := f.processed(); len(got) != 1 || got[0].ID != "evt_inbox_1" {
		t.Fatalf("processed %v, want evt_inbox_1 once", got)
	}
	// The same delivery processed again (a worker retried after a lost acknowledgement) is a
	// duplicate for the Deduper: done, effects once.
	_ = ib.Enqueue(context.Background(), &webhook.Delivery{Endpoint: "test", Key: "other", Body: body})
	ib.keys = map[string]bool{}
	_ = ib.Enqueue(context.Background(), &webhook.Delivery{Endpoint: "test", Key: "evt_inbox_1", Body: body})
	for _, err := range ib.drain(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := f.processed(); len(got) != 2 {
		t.Fatalf("processed %d events, want 2 (evt_inbox_1 once, then under key other)", len(got))
	}
}

func TestInboxFailuresReachTheProviderOrTheWorker(t *testing.T) {
	ib := newMemInbox()
	f := newHandlerFixture(t, true, webhook.WithInbox(ib, "test"))
	body := eventBody("evt_inbox_2")
	sig := webhook.SignTimestamp(handlerSecret, f.now, body)

	ib.failing = errors.New("database down")
	if resp := f.deliver(http.MethodPost, body, sig); resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("enqueue failure answered %d, want 500 so the provider redelivers", resp.StatusCode)
	}
	if strings.Contains(f.logs.String(), bodyMarker) {
		t.Error("the body was logged")
	}
	ib.failing = nil
	if resp := f.deliver(http.MethodPost, body, sig); resp.StatusCode != http.StatusOK {
		t.Fatalf("redelivery answered %d", resp.StatusCode)
	}
	f.mu.Lock()
	f.fail = errors.New("fulfilment down")
	f.mu.Unlock()
	errs := ib.drain(context.Background())
	if len(errs) != 1 || errs[0] == nil {
		t.Fatalf("drain = %v, want the handler's error for the inbox to retry", errs)
	}
	// The Deduper released the claim: the retry runs the handler.
	f.mu.Lock()
	f.fail = nil
	f.mu.Unlock()
	_ = ib.Enqueue(context.Background(), &webhook.Delivery{Endpoint: "test", Key: "evt_inbox_2", Body: body})
	ib.mu.Lock()
	ib.queue = append(ib.queue, &webhook.Delivery{Endpoint: "test", Key: "evt_inbox_2", Body: body})
	ib.mu.Unlock()
	for _, err := range ib.drain(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := f.processed(); len(got) != 1 {
		t.Fatalf("processed %d, want 1", len(got))
	}
	// A delivery that no longer parses is an invalid payload, not silently dropped.
	ib.mu.Lock()
	ib.queue = append(ib.queue, &webhook.Delivery{Endpoint: "test", Key: "bad", Body: []byte("{")})
	ib.mu.Unlock()
	if errs := ib.drain(context.Background()); len(errs) != 1 || !errors.Is(errs[0], webhook.ErrInvalidPayload) {
		t.Fatalf("drain of an unparsable body = %v, want ErrInvalidPayload", errs)
	}
}

func TestWithInboxValidated(t *testing.T) {
	ep := webhook.Endpoint[int]{
		Verify: func([]byte, http.Header) error { return nil },
		Parse:  func([]byte) (int, error) { return 0, nil },
	}
	fn := func(context.Context, int) error { return nil }
	ib := newMemInbox()
	for name, opt := range map[string]webhook.Option{
		"nil inbox":  webhook.WithInbox(nil, "x"),
		"empty name": webhook.WithInbox(ib, " "),
	} {
		if _, err := webhook.NewEndpointHandler(ep, fn, opt); err == nil || !strings.Contains(err.Error(), "WithInbox") {
			t.Errorf("%s: err = %v, want a WithInbox error", name, err)
		}
	}
	if _, err := webhook.NewEndpointHandler(ep, fn, webhook.WithInbox(ib, "x")); err != nil {
		t.Fatal(err)
	}
	if _, err := webhook.NewEndpointHandler(ep, fn, webhook.WithInbox(ib, "x")); err == nil {
		t.Error("a second handler registered under the same endpoint name")
	}
	if _, err := webhook.NewTimestampVerifier("s", webhook.WithInbox(ib, "y")); err == nil {
		t.Error("a verifier accepted WithInbox")
	}
}
