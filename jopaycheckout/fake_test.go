package jopaycheckout_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

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
	if err != nil {
		t.Fatal(err)
	}
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
	if !errors.Is(err, paykit.ErrUnknownOutcome) {
		t.Fatalf("err = %v, want ErrUnknownOutcome", err)
	}
	if n := ct.posts(); n != 1 {
		t.Errorf("create sent %d times, want 1", n)
	}
	if got := len(fake.Sessions()); got != 1 {
		t.Errorf("fake holds %d sessions, want exactly 1", got)
	}
}

// A 503 reached the server too: not retried, unknown outcome, and the API error is kept.
func TestCreateNotRetriedOn503(t *testing.T) {
	fake := jopaycheckouttest.NewServer()
	defer fake.Close()
	c, ct := fakeClient(t, fake)
	fake.FailNext(1, http.StatusServiceUnavailable, 0)

	_, err := c.CreateSession(context.Background(), validParams())
	var apiErr *paykit.Error
	if !errors.Is(err, paykit.ErrUnknownOutcome) || !errors.As(err, &apiErr) || apiErr.Status != 503 || apiErr.Code != "service_unavailable" {
		t.Fatalf("err = %v", err)
	}
	if n := ct.posts(); n != 1 {
		t.Errorf("create sent %d times, want 1", n)
	}
	// The documented way on: create again (an orphan session cannot be paid and expires).
	if _, err := c.CreateSession(context.Background(), validParams()); err != nil {
		t.Fatal(err)
	}
}

// A 429 is a definite "not done": still not retried automatically (no key), but not unknown.
func TestCreateRateLimited(t *testing.T) {
	fake := jopaycheckouttest.NewServer()
	defer fake.Close()
	c, _ := fakeClient(t, fake)
	fake.FailNext(1, http.StatusTooManyRequests, 2*time.Second)
	_, err := c.CreateSession(context.Background(), validParams())
	var apiErr *paykit.Error
	if !errors.As(err, &apiErr) || apiErr.Status != 429 || apiErr.RetryAfter != 2*time.Second || errors.Is(err, paykit.ErrUnknownOutcome) {
		t.Fatalf("err = %v", err)
	}
	if len(fake.Sessions()) != 0 {
		t.Error("a rejected create made a session")
	}
}

func TestGetRetriedOn503(t *testing.T) {
	fake := jopaycheckouttest.NewServer()
	defer fake.Close()
	c, ct := fakeClient(t, fake)
	s, err := c.CreateSession(context.Background(), validParams())
	if err != nil {
		t.Fatal(err)
	}
	fake.FailNext(2, http.StatusServiceUnavailable, 0)
	got, err := c.GetSession(context.Background(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != s.ID || got.Status != jopaycheckout.StatusOpen {
		t.Errorf("session = %+v", got)
	}
	if n := ct.gets(); n != 3 {
		t.Errorf("GET sent %d times, want 3 (two 503s, then success)", n)
	}

	// Out of retries: the last 503 is returned.
	fake.FailNext(10, http.StatusServiceUnavailable, 0)
	c2, _ := fakeClient(t, fake, jopaycheckout.WithMaxRetries(1))
	if _, err := c2.GetSession(context.Background(), s.ID); !jopaycheckoutIsStatus(err, 503) {
		t.Errorf("err = %v", err)
	}
	fake.ResetFaults()
}

func TestGetRetriedAfterDroppedConnection(t *testing.T) {
	fake := jopaycheckouttest.NewServer()
	defer fake.Close()
	c, ct := fakeClient(t, fake)
	s, err := c.CreateSession(context.Background(), validParams())
	if err != nil {
		t.Fatal(err)
	}
	fake.DropNext(1)
	if _, err := c.GetSession(context.Background(), s.ID); err != nil {
		t.Fatal(err)
	}
	if n := ct.gets(); n != 2 {
		t.Errorf("GET sent %d times, want 2", n)
	}
}

// With an idempotency header both sides honour, a lost response is retried safely.
func TestCreateRetriedWithIdempotencyHeader(t *testing.T) {
	fake := jopaycheckouttest.NewServer(jopaycheckouttest.WithIdempotencyHeader("Idempotency-Key"))
	defer fake.Close()
	c, ct := fakeClient(t, fake, jopaycheckout.WithIdempotencyHeader("Idempotency-Key"))
	fake.LoseResponseNext(1)
	s, err := c.CreateSession(context.Background(), validParams())
	if err != nil {
		t.Fatal(err)
	}
	if n := ct.posts(); n != 2 {
		t.Errorf("create sent %d times, want 2", n)
	}
	if sessions := fake.Sessions(); len(sessions) != 1 || sessions[0].ID != s.ID {
		t.Errorf("fake sessions = %+v, want exactly %s", sessions, s.ID)
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
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("call took %v after its deadline", time.Since(start))
	}
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
		if err != nil {
			t.Fatal(err)
		}
		if s.URL != fake.URL+"/checkout/"+s.ID || s.Status != jopaycheckout.StatusOpen || s.RawStatus != tt.raw ||
			s.AmountCents != 1999 || s.Currency != "gbp" || s.ExpiresAt.Sub(s.CreatedAt) != time.Hour {
			t.Errorf("version %d: session = %+v", tt.version, s)
		}
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
	if err != nil {
		t.Fatal(err)
	}
	receiver := httptestServer(t, h)
	fake.SetWebhook(receiver, whSecret)
	c, _ := fakeClient(t, fake)

	s, err := c.CreateSession(ctx, validParams())
	if err != nil {
		t.Fatal(err)
	}
	if want := clock.Now().Add(time.Hour); !s.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", s.ExpiresAt, want)
	}
	clock.Advance(59 * time.Minute)
	if got, _ := c.GetSession(ctx, s.ID); got.Status != jopaycheckout.StatusOpen {
		t.Errorf("after 59m: %q", got.Status)
	}
	if ds := fake.ExpireDue(ctx); len(ds) != 0 {
		t.Errorf("ExpireDue before the hour delivered %d", len(ds))
	}
	clock.Advance(time.Minute)
	if got, _ := c.GetSession(ctx, s.ID); got.Status != jopaycheckout.StatusExpired || got.RawStatus != "expired" {
		t.Errorf("after 60m: %q", got.Status)
	}
	if _, err := fake.Pay(ctx, s.ID); !errors.Is(err, jopaycheckouttest.ErrInvalidState) {
		t.Errorf("completing an expired session: %v", err)
	}
	ds := fake.ExpireDue(ctx)
	if len(ds) != 1 || !ds[0].Delivered {
		t.Fatalf("ExpireDue deliveries = %+v", ds)
	}
	if len(fake.ExpireDue(ctx)) != 0 {
		t.Error("expiry announced twice")
	}
	_, events := rec.snapshot()
	if len(events) != 1 || events[0].Type != jopaycheckout.EventSessionExpired || events[0].Data.ID != s.ID || events[0].Data.Status != jopaycheckout.StatusExpired {
		t.Errorf("events = %+v", events)
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
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || landed == nil || landed.Path != "/success" || landed.Query().Get("order") != "A-1" {
		t.Fatalf("landed on %v (status %d)", landed, resp.StatusCode)
	}
	id, err := jopaycheckout.SessionIDFromRedirect(landed)
	if err != nil || id != s.ID {
		t.Fatalf("SessionIDFromRedirect = %q, %v", id, err)
	}
	got, err := c.GetSession(ctx, id)
	if err != nil || !got.IsPaid() || got.CompletedAt.IsZero() {
		t.Errorf("GetSession = %+v, %v", got, err)
	}
}

func httptestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := newLocalServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
