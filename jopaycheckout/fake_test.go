package jopaycheckout_test

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/jopaycheckout/jopaycheckouttest"
	"github.com/paykit-go/paykit/webhook"
)

// counter counts the API requests the fake received, per method.
type counter struct{ fake *jopaycheckouttest.Server }

func (c counter) count(method string) int {
	n := 0
	for _, r := range c.fake.Calls() {
		if r.Method == method {
			n++
		}
	}
	return n
}

func (c counter) posts() int { return c.count(http.MethodPost) }
func (c counter) gets() int  { return c.count(http.MethodGet) }

func fakeClient(t *testing.T, fake *jopaycheckouttest.Server, opts ...jopaycheckout.Option) (*jopaycheckout.Client, counter) {
	t.Helper()
	c, err := fake.NewClient(opts...)
	require.NoError(t, err)
	return c, counter{fake}
}

// The server creates the session, then the connection drops before the answer: the client must
// not send the create again (that would make a second session) and must say the outcome is
// unknown.
func TestCreateNotRetriedAfterServerActed(t *testing.T) {
	fake := jopaycheckouttest.NewServer()
	defer fake.Close()
	c, ct := fakeClient(t, fake)
	fake.LoseResponseNext(1)

	_, err := c.CreateSession(context.Background(), validParams())
	require.ErrorIs(t, err, paykit.ErrUnknownOutcome)
	assert.Equal(t, 1, ct.posts(), "create sent")
	assert.Len(t, fake.Sessions(), 1, "fake holds sessions, want exactly 1")
}

// A 503 reached the server too: not retried, unknown outcome, and the API error is kept.
func TestCreateNotRetriedOn503(t *testing.T) {
	fake := jopaycheckouttest.NewServer()
	defer fake.Close()
	c, ct := fakeClient(t, fake)
	fake.FailNext(1, http.StatusServiceUnavailable, 0)

	_, err := c.CreateSession(context.Background(), validParams())
	var apiErr *paykit.Error
	require.ErrorIs(t, err, paykit.ErrUnknownOutcome)
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 503, apiErr.Status, "err = %v", err)
	require.Equal(t, "service_unavailable", apiErr.Code, "err = %v", err)
	assert.Equal(t, 1, ct.posts(), "create sent")
	// The documented way on: create again (an orphan session cannot be paid and expires).
	_, err = c.CreateSession(context.Background(), validParams())
	require.NoError(t, err)
}

// A 429 is a definite "not done": still not retried automatically (no key), but not unknown.
func TestCreateRateLimited(t *testing.T) {
	fake := jopaycheckouttest.NewServer()
	defer fake.Close()
	c, _ := fakeClient(t, fake)
	fake.FailNext(1, http.StatusTooManyRequests, 2*time.Second)
	_, err := c.CreateSession(context.Background(), validParams())
	var apiErr *paykit.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 429, apiErr.Status, "err = %v", err)
	require.Equal(t, 2*time.Second, apiErr.RetryAfter, "err = %v", err)
	require.NotErrorIs(t, err, paykit.ErrUnknownOutcome)
	assert.Empty(t, fake.Sessions(), "a rejected create made a session")
}

func TestGetRetriedOn503(t *testing.T) {
	fake := jopaycheckouttest.NewServer()
	defer fake.Close()
	c, ct := fakeClient(t, fake)
	s, err := c.CreateSession(context.Background(), validParams())
	require.NoError(t, err)
	fake.FailNext(2, http.StatusServiceUnavailable, 0)
	got, err := c.GetSession(context.Background(), s.ID)
	require.NoError(t, err)
	assert.Equal(t, s.ID, got.ID, "session = %+v", got)
	assert.Equal(t, jopaycheckout.StatusOpen, got.Status, "session = %+v", got)
	assert.Equal(t, 3, ct.gets(), "GET sent (two 503s, then success)")

	// Out of retries: the last 503 is returned.
	fake.FailNext(10, http.StatusServiceUnavailable, 0)
	c2, _ := fakeClient(t, fake, jopaycheckout.WithMaxRetries(1))
	_, err = c2.GetSession(context.Background(), s.ID)
	assert.True(t, jopaycheckoutIsStatus(err, 503), "err = %v", err)
	fake.ResetFaults()
}

func TestGetRetriedAfterDroppedConnection(t *testing.T) {
	fake := jopaycheckouttest.NewServer()
	defer fake.Close()
	c, ct := fakeClient(t, fake)
	s, err := c.CreateSession(context.Background(), validParams())
	require.NoError(t, err)
	fake.DropNext(1)
	_, err = c.GetSession(context.Background(), s.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, ct.gets(), "GET sent")
}

// With an idempotency header both sides honour, a lost response is retried safely.
func TestCreateRetriedWithIdempotencyHeader(t *testing.T) {
	fake := jopaycheckouttest.NewServer(jopaycheckouttest.WithIdempotencyHeader("Idempotency-Key"))
	defer fake.Close()
	c, ct := fakeClient(t, fake, jopaycheckout.WithIdempotencyHeader("Idempotency-Key"))
	fake.LoseResponseNext(1)
	s, err := c.CreateSession(context.Background(), validParams())
	require.NoError(t, err)
	assert.Equal(t, 2, ct.posts(), "create sent")
	if sessions := fake.Sessions(); assert.Len(t, sessions, 1, "fake sessions = %+v, want exactly %s", sessions, s.ID) {
		assert.Equal(t, s.ID, sessions[0].ID, "fake sessions = %+v", sessions)
	}
}

func TestCallHonoursContext(t *testing.T) {
	fake := jopaycheckouttest.NewServer()
	defer fake.Close()
	c, _ := fakeClient(t, fake)
	fake.SetLatency(5 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.GetSession(ctx, "cs_fake_000001")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.LessOrEqual(t, time.Since(start), 2*time.Second, "call took")
	fake.ResetFaults()
}

func TestFakeVersionsDecodeAlike(t *testing.T) {
	for _, tt := range []struct {
		version jopaycheckouttest.Version
		raw     string
	}{{jopaycheckouttest.VersionA, "open"}, {jopaycheckouttest.VersionB, "pending"}} {
		fake := jopaycheckouttest.NewServer(jopaycheckouttest.WithVersion(tt.version))
		c, _ := fakeClient(t, fake)
		p := jopaycheckout.CreateSessionParams{AmountCents: 1999, Currency: "GBP", SuccessURL: "https://s.example/ok", CancelURL: "https://s.example/no"}
		s, err := c.CreateSession(context.Background(), p)
		require.NoError(t, err)
		assert.Equal(t, fake.URL+"/checkout/"+s.ID, s.URL, "version %d: session = %+v", tt.version, s)
		assert.Equal(t, jopaycheckout.StatusOpen, s.Status, "version %d: session = %+v", tt.version, s)
		assert.Equal(t, tt.raw, s.RawStatus, "version %d: session = %+v", tt.version, s)
		assert.Equal(t, int64(1999), s.AmountCents, "version %d: session = %+v", tt.version, s)
		assert.Equal(t, "gbp", s.Currency, "version %d: session = %+v", tt.version, s)
		assert.Equal(t, time.Hour, s.ExpiresAt.Sub(s.CreatedAt), "version %d: session = %+v", tt.version, s)
		fake.Close()
	}
}

// fakeClock is a settable clock shared by the fake and the verifier.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestSessionExpiresAfterAnHour(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2025, 1, 10, 12, 0, 0, 0, time.UTC)}
	fake := jopaycheckouttest.NewServer(jopaycheckouttest.WithClock(clock.Now))
	defer fake.Close()
	rec := &recorder{}
	h, err := jopaycheckout.NewWebhookHandler(whSecret, rec.handle,
		webhook.WithClock(clock.Now))
	require.NoError(t, err)
	receiver := httptestServer(t, h)
	fake.SetWebhook(receiver, whSecret)
	c, _ := fakeClient(t, fake)

	s, err := c.CreateSession(ctx, validParams())
	require.NoError(t, err)
	want := clock.Now().Add(time.Hour)
	assert.True(t, s.ExpiresAt.Equal(want), "ExpiresAt = %v, want %v", s.ExpiresAt, want)
	clock.Advance(59 * time.Minute)
	got, _ := c.GetSession(ctx, s.ID)
	assert.Equal(t, jopaycheckout.StatusOpen, got.Status, "after 59m")
	assert.Empty(t, fake.ExpireDue(ctx), "ExpireDue before the hour delivered")
	clock.Advance(time.Minute)
	got, _ = c.GetSession(ctx, s.ID)
	assert.Equal(t, jopaycheckout.StatusExpired, got.Status, "after 60m")
	assert.Equal(t, "expired", got.RawStatus, "after 60m: %q", got.Status)
	_, err = fake.Pay(ctx, s.ID)
	assert.ErrorIs(t, err, jopaycheckouttest.ErrInvalidState, "completing an expired session")
	ds := fake.ExpireDue(ctx)
	require.Len(t, ds, 1, "ExpireDue deliveries")
	require.True(t, ds[0].Delivered, "ExpireDue deliveries = %+v", ds)
	assert.Empty(t, fake.ExpireDue(ctx), "expiry announced twice")
	_, events := rec.snapshot()
	if assert.Len(t, events, 1, "events = %+v", events) {
		assert.Equal(t, jopaycheckout.EventSessionExpired, events[0].Type, "events = %+v", events)
		assert.Equal(t, s.ID, events[0].Data.ID, "events = %+v", events)
		assert.Equal(t, jopaycheckout.StatusExpired, events[0].Data.Status, "events = %+v", events)
	}
}

// The buyer follows the hosted page's redirect to the success URL, as a browser would.
func TestHostedPageRedirectFlow(t *testing.T) {
	ctx := context.Background()
	fake := jopaycheckouttest.NewServer(jopaycheckouttest.WithVersion(jopaycheckouttest.VersionA))
	defer fake.Close()
	c, _ := fakeClient(t, fake)

	var landed *url.URL
	success := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		landed = r.URL
		w.WriteHeader(http.StatusOK)
	}))
	p := validParams()
	p.SuccessURL = success + "/success?order=A-1"
	p.CancelURL = success + "/cancel"
	s, err := c.CreateSession(ctx, p)
	require.NoError(t, err)
	resp, err := http.Get(s.URL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "landed on %v", landed)
	require.NotNil(t, landed, "landed on %v (status %d)", landed, resp.StatusCode)
	require.Equal(t, "/success", landed.Path, "landed on %v (status %d)", landed, resp.StatusCode)
	require.Equal(t, "A-1", landed.Query().Get("order"), "landed on %v (status %d)", landed, resp.StatusCode)
	id, err := jopaycheckout.SessionIDFromRedirect(landed)
	require.NoError(t, err, "SessionIDFromRedirect = %q", id)
	require.Equal(t, s.ID, id, "SessionIDFromRedirect")
	got, err := c.GetSession(ctx, id)
	require.NoError(t, err, "GetSession = %+v", got)
	assert.True(t, got.IsPaid(), "GetSession = %+v", got)
	assert.False(t, got.CompletedAt.IsZero(), "GetSession = %+v", got)
}

func httptestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := newLocalServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
