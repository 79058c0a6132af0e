package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/webhook"
)

// obsRecorder is a webhook.Observer that records what it hears.
type obsRecorder struct {
	mu         sync.Mutex
	rejections []webhook.Rejection
	outcomes   []webhook.DedupeOutcome
}

func (r *obsRecorder) Rejected(_ context.Context, rej webhook.Rejection) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rej.Err = nil // compared separately
	r.rejections = append(r.rejections, rej)
}

func (r *obsRecorder) Deduped(_ context.Context, outcome webhook.DedupeOutcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outcomes = append(r.outcomes, outcome)
}

func (r *obsRecorder) takeOutcomes() []webhook.DedupeOutcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.outcomes
	r.outcomes = nil
	return out
}

// obsStore wraps a MemoryStore (so that Deduper.Do takes its general Store path) and can fail
// or answer InFlight on demand.
type obsStore struct {
	mem         *webhook.MemoryStore
	claimErr    error
	claimResult webhook.ClaimResult
	completeErr error
}

func (s *obsStore) Claim(ctx context.Context, id, token string, now time.Time, lease time.Duration) (webhook.ClaimResult, error) {
	if s.claimErr != nil || s.claimResult != 0 {
		return s.claimResult, s.claimErr
	}
	return s.mem.Claim(ctx, id, token, now, lease)
}

func (s *obsStore) Complete(ctx context.Context, id, token string, now time.Time, retention time.Duration) error {
	if s.completeErr != nil {
		return s.completeErr
	}
	return s.mem.Complete(ctx, id, token, now, retention)
}

func (s *obsStore) Release(ctx context.Context, id, token string) error {
	return s.mem.Release(ctx, id, token)
}

func TestDeduperReportsEveryOutcome(t *testing.T) {
	ctx := context.Background()
	ok := func(context.Context) error { return nil }
	boom := errors.New("handler failed")
	fail := func(context.Context) error { return boom }
	storeDown := errors.New("store down")

	for _, tc := range []struct {
		name  string
		store func() webhook.Store
	}{
		{"MemoryStore", func() webhook.Store { return webhook.NewMemoryStore() }},
		{"Store", func() webhook.Store { return &obsStore{mem: webhook.NewMemoryStore()} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &obsRecorder{}
			d := webhook.NewDeduper(tc.store(), webhook.WithDedupeObserver(rec))

			require.NoError(t, d.Do(ctx, "evt_1", ok))
			require.ErrorIs(t, d.Do(ctx, "evt_1", ok), webhook.ErrDuplicate)
			require.ErrorIs(t, d.Do(ctx, "evt_2", fail), boom)
			require.ErrorIs(t, d.Do(ctx, "", ok), webhook.ErrEmptyEventID)
			require.Panics(t, func() {
				_ = d.Do(ctx, "evt_3", func(context.Context) error { panic("handler bug") })
			})
			require.NoError(t, d.Do(ctx, "evt_3", ok), "the panic released the claim")

			// In flight: evt_4's handler runs a redelivery of the same id.
			require.NoError(t, d.Do(ctx, "evt_4", func(ctx context.Context) error {
				assert.ErrorIs(t, d.Do(ctx, "evt_4", ok), webhook.ErrInFlight)
				return nil
			}))

			want := []webhook.DedupeOutcome{
				webhook.DedupeProcessed, webhook.DedupeDuplicate, webhook.DedupeFailed, webhook.DedupeEmptyID,
				webhook.DedupeFailed, webhook.DedupeProcessed,
				webhook.DedupeInFlight, webhook.DedupeProcessed,
			}
			assert.Empty(t, cmp.Diff(want, rec.takeOutcomes()))
		})
	}

	t.Run("StoreErrors", func(t *testing.T) {
		rec := &obsRecorder{}
		s := &obsStore{mem: webhook.NewMemoryStore(), claimErr: storeDown}
		d := webhook.NewDeduper(s, webhook.WithDedupeObserver(rec))
		ran := false
		require.ErrorIs(t, d.Do(ctx, "evt_1", func(context.Context) error { ran = true; return nil }), storeDown)
		assert.False(t, ran)

		s.claimErr, s.claimResult = nil, webhook.ClaimResult(42) // a broken Store
		require.Error(t, d.Do(ctx, "evt_1", ok))

		s.claimResult, s.completeErr = 0, storeDown
		require.ErrorIs(t, d.Do(ctx, "evt_1", ok), storeDown)

		want := []webhook.DedupeOutcome{webhook.DedupeStoreError, webhook.DedupeStoreError, webhook.DedupeStoreError}
		assert.Empty(t, cmp.Diff(want, rec.takeOutcomes()))
	})
}

func TestHandlerReportsRejections(t *testing.T) {
	const secret = "whsec_observer"
	v, err := webhook.NewTimestampVerifier(secret)
	require.NoError(t, err)
	type event struct {
		ID string `json:"id"`
	}
	inFlight := &obsStore{mem: webhook.NewMemoryStore()}
	rec := &obsRecorder{}
	ep := webhook.Endpoint[event]{
		Verify: v.VerifyFunc("X-Sig"),
		Parse: func(b []byte) (event, error) {
			var e event
			err := json.Unmarshal(b, &e)
			return e, err
		},
		EventID: func(_ []byte, _ http.Header, e event) string { return e.ID },
		Name:    "acme",
	}
	h, err := webhook.NewEndpointHandler(ep, func(context.Context, event) error { return nil },
		webhook.WithObserver(rec), webhook.WithMaxPayloadBytes(64),
		webhook.WithDeduper(webhook.NewDeduper(inFlight)))
	require.NoError(t, err)

	send := func(method, body, sig string) int {
		req := httptest.NewRequest(method, "/hook", strings.NewReader(body))
		if sig != "" {
			req.Header.Set("X-Sig", sig)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	now := time.Now()
	good := `{"id":"evt_1"}`
	assert.Equal(t, http.StatusMethodNotAllowed, send(http.MethodGet, "", ""))
	assert.Equal(t, http.StatusRequestEntityTooLarge, send(http.MethodPost, strings.Repeat("x", 65), "t=1,v1=00"))
	assert.Equal(t, http.StatusBadRequest, send(http.MethodPost, good, ""))
	assert.Equal(t, http.StatusBadRequest, send(http.MethodPost, good, "garbage"))
	assert.Equal(t, http.StatusBadRequest, send(http.MethodPost, good, webhook.SignTimestamp("wrong", now, []byte(good))))
	assert.Equal(t, http.StatusBadRequest, send(http.MethodPost, good, webhook.SignTimestamp(secret, now.Add(-time.Hour), []byte(good))))
	assert.Equal(t, http.StatusBadRequest, send(http.MethodPost, "not json", webhook.SignTimestamp(secret, now, []byte("not json"))))
	assert.Equal(t, http.StatusOK, send(http.MethodPost, good, webhook.SignTimestamp(secret, now, []byte(good))))
	assert.Equal(t, http.StatusOK, send(http.MethodPost, good, webhook.SignTimestamp(secret, now, []byte(good))), "duplicate")
	inFlight.claimResult = webhook.InFlight
	assert.Equal(t, http.StatusServiceUnavailable, send(http.MethodPost, good, webhook.SignTimestamp(secret, now, []byte(good))))

	want := []webhook.Rejection{
		{Reason: webhook.RejectMethod, Endpoint: "acme", Status: 405},
		{Reason: webhook.RejectPayloadTooLarge, Endpoint: "acme", Status: 413},
		{Reason: webhook.RejectMissingSignature, Endpoint: "acme", Status: 400},
		{Reason: webhook.RejectMalformedSignature, Endpoint: "acme", Status: 400},
		{Reason: webhook.RejectSignatureMismatch, Endpoint: "acme", Status: 400},
		{Reason: webhook.RejectTimestamp, Endpoint: "acme", Status: 400},
		{Reason: webhook.RejectInvalidPayload, Endpoint: "acme", Status: 400},
		{Reason: webhook.RejectInFlight, Endpoint: "acme", Status: 503},
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Empty(t, cmp.Diff(want, rec.rejections))
	assert.Empty(t, rec.outcomes, "a Deduper of the caller's reports to its own observer only")
}

func TestHandlerDefaultDeduperReportsToTheHandlersObserver(t *testing.T) {
	rec := &obsRecorder{}
	ep := webhook.Endpoint[string]{
		Verify:  func([]byte, http.Header) error { return nil },
		Parse:   func(b []byte) (string, error) { return string(b), nil },
		EventID: func(_ []byte, _ http.Header, e string) string { return e },
	}
	inbox := &obsInbox{}
	h := webhook.NewHandler(ep, func(context.Context, string) error { return nil }, webhook.WithObserver(rec))
	for range 2 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("evt_1")))
		require.Equal(t, http.StatusOK, w.Code)
	}
	assert.Empty(t, cmp.Diff([]webhook.DedupeOutcome{webhook.DedupeProcessed, webhook.DedupeDuplicate}, rec.takeOutcomes()))

	// Without Endpoint.Name, the inbox endpoint name names the endpoint.
	failing := webhook.Endpoint[string]{Verify: func([]byte, http.Header) error { return errors.New("custom") }, Parse: ep.Parse}
	h = webhook.NewHandler(failing, func(context.Context, string) error { return nil },
		webhook.WithObserver(rec), webhook.WithInbox(inbox, "shop"))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("evt_1")))
	require.Equal(t, http.StatusInternalServerError, w.Code)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Empty(t, cmp.Diff([]webhook.Rejection{{Reason: webhook.RejectOther, Endpoint: "shop", Status: 500}}, rec.rejections))
}

// obsInbox is an Inbox that accepts a registration and stores nothing.
type obsInbox struct{}

func (obsInbox) Register(string, func(context.Context, *webhook.Delivery) error) error { return nil }
func (obsInbox) Enqueue(context.Context, *webhook.Delivery) error                      { return nil }

func TestWithObserverIsAHandlerOption(t *testing.T) {
	_, err := webhook.NewTimestampVerifier("s", webhook.WithObserver(&obsRecorder{}))
	var ce *webhook.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "WithObserver", ce.Arg)
}

func TestReasonOf(t *testing.T) {
	for err, want := range map[error]webhook.RejectReason{
		nil:                                    "",
		webhook.ErrPayloadTooLarge:             webhook.RejectPayloadTooLarge,
		webhook.ErrMissingSignature:            webhook.RejectMissingSignature,
		webhook.ErrMalformedSignature:          webhook.RejectMalformedSignature,
		webhook.ErrSignatureMismatch:           webhook.RejectSignatureMismatch,
		webhook.ErrTimestampOutOfTolerance:     webhook.RejectTimestamp,
		webhook.ErrInvalidPayload:              webhook.RejectInvalidPayload,
		webhook.ErrInFlight:                    webhook.RejectInFlight,
		errors.New("something else"):           webhook.RejectOther,
		errors.Join(webhook.ErrInvalidPayload): webhook.RejectInvalidPayload,
	} {
		assert.Equal(t, want, webhook.ReasonOf(err), "%v", err)
	}
}
