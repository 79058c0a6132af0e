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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		require.Equal(t, http.StatusOK, resp.StatusCode, "delivery %d (body %q)", i, text)
		require.Equal(t, "queued", strings.TrimSpace(string(text)), "delivery %d", i)
	}
	require.Empty(t, f.processed(), "handler ran while the request waited")
	errs := ib.drain(context.Background())
	require.Len(t, errs, 1, "drain = %v, want one delivery processed (redeliveries are stored once)", errs)
	require.NoError(t, errs[0], "drain")
	got := f.processed()
	require.Len(t, got, 1, "processed %v, want evt_inbox_1 once", got)
	require.Equal(t, "evt_inbox_1", got[0].ID, "processed")
	// The same delivery processed again (a worker retried after a lost acknowledgement) is a
	// duplicate for the Deduper: done, effects once.
	_ = ib.Enqueue(context.Background(), &webhook.Delivery{Endpoint: "test", Key: "other", Body: body})
	ib.keys = map[string]bool{}
	_ = ib.Enqueue(context.Background(), &webhook.Delivery{Endpoint: "test", Key: "evt_inbox_1", Body: body})
	for _, err := range ib.drain(context.Background()) {
		require.NoError(t, err)
	}
	require.Len(t, f.processed(), 2, "processed events, want evt_inbox_1 once, then under key other")
}

func TestInboxFailuresReachTheProviderOrTheWorker(t *testing.T) {
	ib := newMemInbox()
	f := newHandlerFixture(t, true, webhook.WithInbox(ib, "test"))
	body := eventBody("evt_inbox_2")
	sig := webhook.SignTimestamp(handlerSecret, f.now, body)

	ib.failing = errors.New("database down")
	resp := f.deliver(http.MethodPost, body, sig)
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode, "enqueue failure answer, want 500 so the provider redelivers")
	assert.NotContains(t, f.logs.String(), bodyMarker, "the body was logged")
	ib.failing = nil
	require.Equal(t, http.StatusOK, f.deliver(http.MethodPost, body, sig).StatusCode, "redelivery answered")
	f.mu.Lock()
	f.fail = errors.New("fulfilment down")
	f.mu.Unlock()
	errs := ib.drain(context.Background())
	require.Len(t, errs, 1, "drain = %v", errs)
	require.Error(t, errs[0], "drain: want the handler's error for the inbox to retry")
	// The Deduper released the claim: the retry runs the handler.
	f.mu.Lock()
	f.fail = nil
	f.mu.Unlock()
	_ = ib.Enqueue(context.Background(), &webhook.Delivery{Endpoint: "test", Key: "evt_inbox_2", Body: body})
	ib.mu.Lock()
	ib.queue = append(ib.queue, &webhook.Delivery{Endpoint: "test", Key: "evt_inbox_2", Body: body})
	ib.mu.Unlock()
	for _, err := range ib.drain(context.Background()) {
		require.NoError(t, err)
	}
	require.Len(t, f.processed(), 1, "processed")
	// A delivery that no longer parses is an invalid payload, not silently dropped.
	ib.mu.Lock()
	ib.queue = append(ib.queue, &webhook.Delivery{Endpoint: "test", Key: "bad", Body: []byte("{")})
	ib.mu.Unlock()
	errs = ib.drain(context.Background())
	require.Len(t, errs, 1, "drain of an unparsable body = %v", errs)
	require.ErrorIs(t, errs[0], webhook.ErrInvalidPayload, "drain of an unparsable body")
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
		_, err := webhook.NewEndpointHandler(ep, fn, opt)
		if assert.Error(t, err, name) {
			assert.Contains(t, err.Error(), "WithInbox", name)
		}
	}
	_, err := webhook.NewEndpointHandler(ep, fn, webhook.WithInbox(ib, "x"))
	require.NoError(t, err)
	_, err = webhook.NewEndpointHandler(ep, fn, webhook.WithInbox(ib, "x"))
	assert.Error(t, err, "a second handler registered under the same endpoint name")
	_, err = webhook.NewTimestampVerifier("s", webhook.WithInbox(ib, "y"))
	assert.Error(t, err, "a verifier accepted WithInbox")
}
