package pepay_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
	"github.com/paykit-go/paykit/webhook"
)

// fast makes reconnects and retries quick for tests.
func fast(p pepay.StreamParams) pepay.StreamParams {
	p.MinBackoff, p.MaxBackoff = time.Millisecond, 5*time.Millisecond
	return p
}

// statusRecord is one OnStatus report.
type statusRecord struct {
	State      pepay.StreamState
	Err        error
	Since      string
	Backfilled int
}

// recorder collects what a stream handler saw and what OnStatus reported.
type recorder struct {
	mu       sync.Mutex
	ids      []string
	byID     map[string]int
	statuses []statusRecord
	notify   chan struct{}
}

func newRecorder() *recorder {
	return &recorder{byID: map[string]int{}, notify: make(chan struct{}, 1)}
}

func (r *recorder) handle(_ context.Context, e *pepay.Event) error {
	r.mu.Lock()
	r.ids = append(r.ids, e.ID)
	r.byID[e.ID]++
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
	return nil
}

func (r *recorder) status(s pepay.StreamStatus) {
	r.mu.Lock()
	r.statuses = append(r.statuses, statusRecord{State: s.State, Err: s.Err, Since: s.Since, Backfilled: s.Backfilled})
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ids)
}

func (r *recorder) states(s pepay.StreamState) []statusRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []statusRecord
	for _, st := range r.statuses {
		if st.State == s {
			out = append(out, st)
		}
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			var buf bytes.Buffer
			_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
			_ = os.WriteFile(filepath.Join(os.TempDir(), "pepay-stream-timeout.txt"), buf.Bytes(), 0o600)
			t.Fatalf("timed out waiting for %s (goroutines in %s)", what, filepath.Join(os.TempDir(), "pepay-stream-timeout.txt"))
		}
		time.Sleep(time.Millisecond)
	}
}

// startStream runs Stream in the background; stop cancels it and returns its error.
func startStream(t *testing.T, c *pepay.Client, p pepay.StreamParams, fn func(context.Context, *pepay.Event) error) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Stream(ctx, p, fn) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Error("Stream did not return after cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// The figure: 10,000 events, the server cutting the stream every 100 frames (at least
// 100 disconnects) and, like real servers that resend around the cursor, sending the last 30
// events before since again on every resume: every event handled exactly once and in order, so
// the stream's own dedupe dropped every resent frame.
func TestStream_100DisconnectsTenThousandEvents(t *testing.T) {
	ctx := context.Background()
	if testing.Short() {
		t.Skip("long")
	}
	const invoices = 2500 // × 4 events (created, payment.created, invoice.updated, payment.updated)
	const resend = 30
	srv := pepaytest.NewServer(pepaytest.WithReplayWindow(20000))
	defer srv.Close()
	c, _ := srv.NewClient()
	srv.DropStreamEvery(100)
	srv.ResendOnResume(resend)
	rec := newRecorder()
	start := time.Now()
	stop := startStream(t, c, fast(pepay.StreamParams{OnStatus: rec.status}), rec.handle)
	waitFor(t, 5*time.Second, "first connection", func() bool { return len(rec.states(pepay.StreamConnected)) > 0 })

	ids := make([]string, invoices)
	for i := range ids {
		id, err := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.NewDecimal(int64(100+i), 2)})
		require.NoError(t, err)
		ids[i] = id
	}
	for _, id := range ids {
		_, err := srv.Pay(ctx, id)
		require.NoError(t, err)
	}
	log := srv.EventLog()
	require.Len(t, log, 4*invoices, "server logged %d events", len(log))
	// A hang guard, not a speed check: under -race on two busy cores this takes ~15 s.
	waitFor(t, 2*time.Minute, "10,000 events", func() bool { return rec.count() >= len(log) })
	elapsed := time.Since(start)
	assert.ErrorIs(t, stop(), context.Canceled, "Stream, want context.Canceled")

	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := make([]string, len(log))
	for i, e := range log {
		want[i] = e.ID
	}
	// Exactly once, in the server's order (so in order per invoice too).
	if diff := cmp.Diff(want, rec.ids); diff != "" {
		t.Fatalf("handler saw a different sequence (-want +got):\n%.2000s", diff)
	}
	perInvoice := map[string][]pepay.EventType{}
	for _, e := range log {
		perInvoice[e.InvoiceID] = append(perInvoice[e.InvoiceID], e.Type)
	}
	wantTypes := []pepay.EventType{pepay.EventInvoiceCreated, pepay.EventInvoicePaymentCreated, pepay.EventInvoiceUpdated, pepay.EventInvoicePaymentUpdated}
	for id, types := range perInvoice {
		require.Empty(t, cmp.Diff(wantTypes, types), "invoice %s order (-want +got)", id)
	}
	stats := srv.StreamStats()
	reconnects := 0
	for _, st := range rec.statuses {
		if st.State == pepay.StreamConnected {
			reconnects++
		}
	}
	reconnects-- // the first connection
	assert.GreaterOrEqual(t, stats.Drops, 100, "server drops = %d, client reconnects = %d; want ≥ 100 and ≥ 99", stats.Drops, reconnects)
	assert.GreaterOrEqual(t, reconnects, 99, "server drops = %d, client reconnects = %d; want ≥ 100 and ≥ 99", stats.Drops, reconnects)
	assert.GreaterOrEqual(t, stats.Resent, resend*99, "server resent %d frames, want at least (%d on each of 99 resumes)", stats.Resent, resend)
	t.Logf("10,000 events, %d forced disconnects, %d reconnects, %d frames resent, handled exactly once in order in %v",
		stats.Drops, reconnects, stats.Resent, elapsed.Round(time.Millisecond))
}

// When the resume point is outside the replay window, Pepay says so with a ws_control frame and
// the stream backfills through the events API, oldest first, without gaps or repeats.
func TestStream_resyncBackfillsThroughEventsAPI(t *testing.T) {
	ctx := context.Background()
	srv := pepaytest.NewServer(pepaytest.WithReplayWindow(5))
	defer srv.Close()
	c, _ := srv.NewClient()
	seed, _ := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("1")})
	processed := srv.LastEventID() // the consumer has handled everything up to here

	// While the consumer is down, 20 events happen: more than the replay window.
	for i := range 5 {
		id, _ := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.NewDecimal(int64(i+2), 0)})
		_, _ = srv.Pay(ctx, id)
	}
	_, _ = srv.Cancel(ctx, seed)
	missed := srv.EventCount() - 1

	rec := newRecorder()
	p := fast(pepay.StreamParams{Since: processed, OnStatus: func(s pepay.StreamStatus) {
		rec.status(s)
		if s.State == pepay.StreamResyncing {
			// An event in the gap between connecting and backfilling: it arrives on both paths.
			id, _ := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("99")})
			_ = id
		}
	}})
	stop := startStream(t, c, p, rec.handle)
	waitFor(t, 5*time.Second, "backfill", func() bool { return len(rec.states(pepay.StreamBackfilled)) > 0 })
	live, _ := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("7")})
	// The stream is in order: once an event logged after everything else has arrived, any
	// duplicate of an earlier one would have arrived before it.
	srv.Ping(ctx)
	total := srv.EventCount() - 1
	waitFor(t, 5*time.Second, "live events after backfill", func() bool { return rec.count() >= total })
	stop()

	var want []string
	for _, e := range srv.Events()[1:] {
		want = append(want, e.ID)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Empty(t, cmp.Diff(want, rec.ids), "events (-want +got)")
	bf := rec.statuses
	var backfilled int
	for _, s := range bf {
		if s.State == pepay.StreamBackfilled {
			backfilled = s.Backfilled
		}
	}
	assert.GreaterOrEqual(t, backfilled, missed, "backfilled, want at least the %d missed events", missed)
	st := srv.StreamStats()
	assert.Equal(t, 1, st.Resyncs, "resyncs")
	_ = live
}

// A resume refused mid-stream (RefuseResumes after a drop) also backfills.
func TestStream_refusedResumeAfterDrop(t *testing.T) {
	ctx := context.Background()
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	rec := newRecorder()
	stop := startStream(t, c, fast(pepay.StreamParams{OnStatus: rec.status}), rec.handle)
	waitFor(t, 5*time.Second, "connect", func() bool { return srv.OpenStreams() == 1 })
	id, _ := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("3")})
	waitFor(t, 5*time.Second, "first event", func() bool { return rec.count() == 1 })
	srv.RefuseResumes(1)
	srv.DropStreams()
	_, _ = srv.Pay(ctx, id) // happens while disconnected
	srv.Ping(ctx)           // logged last: once it arrives, a duplicate of an earlier event would have too
	waitFor(t, 5*time.Second, "all events", func() bool { return rec.count() == 5 })
	stop()
	var want []string
	for _, e := range srv.EventLog() {
		want = append(want, e.ID)
	}
	assert.Len(t, rec.states(pepay.StreamResyncing), 1, "resyncs")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Empty(t, cmp.Diff(want, rec.ids), "events (-want +got)")
}

func TestStream_wsErrorTerminalIsTyped(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	srv.InjectStreamError("API_KEY_INVALID", "Invalid API key")
	err := c.Stream(context.Background(), fast(pepay.StreamParams{}), func(context.Context, *pepay.Event) error { return nil })
	var se *pepay.StreamError
	require.ErrorAs(t, err, &se, "err = %#v", err)
	require.Equal(t, "API_KEY_INVALID", se.Code, "err = %#v", err)
	require.Equal(t, "Invalid API key", se.Message, "err = %#v", err)
	require.True(t, se.Terminal(), "err = %#v", err)
	st := srv.StreamStats()
	assert.Equal(t, 1, st.Connects, "reconnected after a terminal error")
}

func TestStream_wsErrorTransientReconnects(t *testing.T) {
	ctx := context.Background()
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	srv.InjectStreamError("INTERNAL_ERROR", "try again")
	rec := newRecorder()
	stop := startStream(t, c, fast(pepay.StreamParams{OnStatus: rec.status}), rec.handle)
	waitFor(t, 5*time.Second, "reconnect", func() bool { return srv.OpenStreams() == 1 && len(rec.states(pepay.StreamConnected)) == 2 })
	srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("1")})
	waitFor(t, 5*time.Second, "event", func() bool { return rec.count() == 1 })
	stop()
	d := rec.states(pepay.StreamDisconnected)
	var se *pepay.StreamError
	require.Len(t, d, 1, "disconnects = %+v", d)
	require.ErrorAs(t, d[0].Err, &se, "disconnects = %+v", d)
	assert.Equal(t, "INTERNAL_ERROR", se.Code, "disconnects = %+v", d)
	assert.False(t, se.Terminal(), "disconnects = %+v", d)
}

func TestStream_refusedUpgrade(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, err := pepay.NewClient("pk_wrong_key_that_must_not_leak", pepay.WithBaseURL(srv.BaseURL))
	require.NoError(t, err)
	err = c.Stream(context.Background(), fast(pepay.StreamParams{}), func(context.Context, *pepay.Event) error { return nil })
	var se *pepay.StreamError
	require.ErrorAs(t, err, &se, "err = %#v", err)
	require.Equal(t, 401, se.HTTPStatus, "err = %#v", err)
	require.Equal(t, "API_KEY_INVALID", se.Code, "err = %#v", err)
	require.True(t, se.Terminal(), "err = %#v", err)
	assert.NotContains(t, err.Error(), "pk_wrong_key", "key in error: %v", err)
}

// Filters and auth reach the upgrade request; other invoices' events are not delivered.
func TestStream_queryHeadersAndFilters(t *testing.T) {
	ctx := context.Background()
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient(pepay.WithEnvironment(pepay.EnvironmentDevnet))
	mine, _ := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("5"), CustomerID: "cus_1"})
	other, _ := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("6"), CustomerID: "cus_1"})
	since := srv.LastEventID()
	rec := newRecorder()
	stop := startStream(t, c, fast(pepay.StreamParams{
		Types: []string{"invoice.*"}, InvoiceID: mine, CustomerID: "cus_1", InvoiceType: pepay.InvoiceTypeStandard, Since: since,
	}), rec.handle)
	waitFor(t, 5*time.Second, "connect", func() bool { return srv.OpenStreams() == 1 })
	_, _ = srv.Pay(ctx, other)
	_, err := srv.PayAmount(ctx, mine, 1_000) // invoice_payment.created, invoice.updated
	require.NoError(t, err)
	// Logged last and let through: once it arrives, every event before it has been filtered.
	_, err = srv.Cancel(ctx, mine)
	require.NoError(t, err)
	var want []string
	for _, e := range srv.EventLog() {
		if e.InvoiceID == mine && e.Type == pepay.EventInvoiceUpdated {
			want = append(want, e.ID)
		}
	}
	waitFor(t, 5*time.Second, "events", func() bool { return rec.count() == len(want) })
	stop()
	rec.mu.Lock()
	assert.Empty(t, cmp.Diff(want, rec.ids), "want only the invoice.updated events of %s (-want +got)", mine)
	rec.mu.Unlock()
	st := srv.StreamStats()
	assert.Equal(t, len(want), st.Frames, "frames sent by the server: the filters did not reach it")
	var upgrade *pepaytest.Call
	for _, r := range srv.Calls() {
		if r.Path == pepay.StreamPath {
			upgrade = &r
		}
	}
	require.NotNil(t, upgrade, "no upgrade request")
	assert.Equal(t, srv.APIKey, upgrade.Header.Get("x-api-key"), "upgrade not authenticated by x-api-key header")
	assert.Empty(t, upgrade.Query.Get("token"), "upgrade not authenticated by x-api-key header")
	wantQ := map[string]string{"format": "event_v1", "types": "invoice.*", "invoice_id": mine, "customer_id": "cus_1",
		"invoice_type": "standard", "environment": "devnet", "since": since}
	gotQ := map[string]string{}
	for k := range upgrade.Query {
		gotQ[k] = upgrade.Query.Get(k)
	}
	assert.Empty(t, cmp.Diff(wantQ, gotQ), "query (-want +got)")
}

// With UseToken every connection mints a ws_token and authenticates with ?token=, never with
// the key; neither the key nor a token appears in logs.
func TestStream_useTokenAndNoSecretsInLogs(t *testing.T) {
	ctx := context.Background()
	srv := pepaytest.NewServer()
	defer srv.Close()
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, _ := srv.NewClient(pepay.WithLogger(logger))
	rec := newRecorder()
	stop := startStream(t, c, fast(pepay.StreamParams{UseToken: true, OnStatus: rec.status}), rec.handle)
	waitFor(t, 5*time.Second, "connect", func() bool { return srv.OpenStreams() == 1 })
	srv.DropStreams()
	waitFor(t, 5*time.Second, "reconnect", func() bool { return len(rec.states(pepay.StreamConnected)) == 2 })
	_, _ = srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("1")})
	waitFor(t, 5*time.Second, "event", func() bool { return rec.count() == 1 })
	stop()

	var tokens []string
	mints, upgrades := 0, 0
	for _, r := range srv.Calls() {
		switch r.Path {
		case "/api/v1/ws/token":
			mints++
			testJSONBodyBytes(t, r.Body, []byte(`{"scope":"merchant","ttl_seconds":60}`))
		case pepay.StreamPath:
			upgrades++
			assert.Empty(t, r.Header.Get("x-api-key"), "upgrade sent x-api-key with UseToken")
			tokens = append(tokens, r.Query.Get("token"))
		}
	}
	assert.Equal(t, 2, mints, "mints %d, upgrades %d, tokens %q", mints, upgrades, tokens)
	assert.Equal(t, 2, upgrades, "mints %d, upgrades %d, tokens %q", mints, upgrades, tokens)
	assert.NotEmpty(t, tokens[0], "mints %d, upgrades %d, tokens %q", mints, upgrades, tokens)
	assert.NotEqual(t, tokens[1], tokens[0], "mints %d, upgrades %d, tokens %q", mints, upgrades, tokens)
	logMu.Lock()
	defer logMu.Unlock()
	out := logs.String()
	for _, secret := range append(tokens, srv.APIKey) {
		assert.NotContains(t, out, secret, "log leaks")
	}
	for _, st := range rec.statuses {
		if st.Err != nil && strings.Contains(st.Err.Error(), tokens[0]) {
			t.Errorf("status error leaks the token: %v", st.Err)
		}
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func testJSONBodyBytes(t *testing.T, got, want []byte) {
	t.Helper()
	assert.Empty(t, cmp.Diff(apitest.DecodeJSON(t, want), apitest.DecodeJSON(t, got)), "body (-want +got)")
}

// A half-open connection (no frames, no pongs) is replaced after IdleTimeout; a quiet but
// healthy one (pongs arrive) is kept.
func TestStream_idleTimeout(t *testing.T) {
	ctx := context.Background()
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()

	// Healthy but quiet: a ping every 25 ms, so only a pong stalled for a whole second — forty
	// ping intervals, far beyond a loaded runner's scheduling delays — could end it.
	rec := newRecorder()
	quiet := fast(pepay.StreamParams{PingInterval: 25 * time.Millisecond, IdleTimeout: time.Second, OnStatus: rec.status})
	stop := startStream(t, c, quiet, rec.handle)
	waitFor(t, 5*time.Second, "connect", func() bool { return srv.OpenStreams() == 1 })
	time.Sleep(2200 * time.Millisecond) // over two idle timeouts without a single event
	assert.Empty(t, rec.states(pepay.StreamDisconnected), "healthy quiet stream reconnected")
	stop()

	// Half-open: nothing comes back, so the idle timeout (short here: it only has to fire) ends
	// the connection.
	srv.SetStreamsSilent(true)
	rec = newRecorder()
	p := fast(pepay.StreamParams{PingInterval: 50 * time.Millisecond, IdleTimeout: 200 * time.Millisecond})
	p.OnStatus = func(s pepay.StreamStatus) {
		rec.status(s)
		if s.State == pepay.StreamDisconnected {
			srv.SetStreamsSilent(false)
		}
	}
	stop = startStream(t, c, p, rec.handle)
	waitFor(t, 5*time.Second, "idle reconnect", func() bool { return len(rec.states(pepay.StreamConnected)) == 2 })
	_, _ = srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("1")})
	waitFor(t, 5*time.Second, "event after reconnect", func() bool { return rec.count() == 1 })
	stop()
	d := rec.states(pepay.StreamDisconnected)
	assert.NotZero(t, len(d), "disconnect = %+v, want ErrStreamIdle", d)
	assert.ErrorIs(t, d[0].Err, pepay.ErrStreamIdle, "disconnect = %+v, want ErrStreamIdle", d)
}

// A failing handler is retried in place; the stream never moves past the event, and gives up
// with a *HandlerError naming the resume point.
func TestStream_handlerErrors(t *testing.T) {
	ctx := context.Background()
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	a, _ := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("1")})
	start := srv.Events()[0].ID
	_, _ = srv.Pay(ctx, a) // 3 events after start
	log := srv.Events()

	var mu sync.Mutex
	var seen []string
	failures := map[string]int{log[2].ID: 2} // the second event after start fails twice
	fn := func(_ context.Context, e *pepay.Event) error {
		mu.Lock()
		defer mu.Unlock()
		if failures[e.ID] > 0 {
			failures[e.ID]--
			return errors.New("transient")
		}
		seen = append(seen, e.ID)
		return nil
	}
	rec := newRecorder()
	stop := startStream(t, c, fast(pepay.StreamParams{Since: start, OnStatus: rec.status}), fn)
	waitFor(t, 5*time.Second, "events", func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) == 3 })
	stop()
	assert.Empty(t, cmp.Diff([]string{log[1].ID, log[2].ID, log[3].ID}, seen), "(-want +got)")
	assert.Len(t, rec.states(pepay.StreamHandlerRetry), 2, "retries reported")

	boom := errors.New("poison")
	err := c.Stream(context.Background(), fast(pepay.StreamParams{Since: start, HandlerAttempts: 3}), func(_ context.Context, e *pepay.Event) error {
		if e.ID == log[2].ID {
			return boom
		}
		return nil
	})
	var he *pepay.HandlerError
	require.ErrorAs(t, err, &he, "err = %#v", err)
	require.ErrorIs(t, err, boom, "err = %#v", err)
	require.Equal(t, log[2].ID, he.EventID, "err = %#v", err)
	require.Equal(t, log[1].ID, he.Resume, "err = %#v", err)
	require.Equal(t, 3, he.Attempts, "err = %#v", err)
}

// One Deduper for both channels: an event that arrives by webhook and by stream is handled once.
func TestStream_sharedDeduperWithWebhook(t *testing.T) {
	ctx := context.Background()
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	d := webhook.NewDeduper(webhook.NewMemoryStore())
	var mu sync.Mutex
	handled := map[string][]string{}
	record := func(channel string) func(context.Context, *pepay.Event) error {
		return func(_ context.Context, e *pepay.Event) error {
			mu.Lock()
			handled[e.ID] = append(handled[e.ID], channel)
			mu.Unlock()
			time.Sleep(time.Millisecond) // widen the window in which both channels race
			return nil
		}
	}
	h, err := pepay.NewWebhookHandler("whsec_shared", record("webhook"), webhook.WithDeduper(d))
	require.NoError(t, err)
	endpoint := httptest.NewServer(h)
	defer endpoint.Close()
	srv.SetWebhook(endpoint.URL, "whsec_shared")
	stop := startStream(t, c, fast(pepay.StreamParams{Deduper: d}), record("stream"))
	waitFor(t, 5*time.Second, "connect", func() bool { return srv.OpenStreams() == 1 })
	for i := range 10 {
		id, _ := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.NewDecimal(int64(i+1), 0)})
		_, _ = srv.Pay(ctx, id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, srv.WaitWebhooks(ctx))
	waitFor(t, 5*time.Second, "all handled", func() bool { mu.Lock(); defer mu.Unlock(); return len(handled) == 40 })
	stop()
	mu.Lock()
	defer mu.Unlock()
	channels := map[string]int{}
	for id, by := range handled {
		assert.Len(t, by, 1, "event %s handled %d times", id, len(by))
		channels[by[0]]++
	}
	for _, del := range srv.Deliveries() {
		assert.True(t, del.Delivered, "webhook not acknowledged: %+v", del.Attempts)
	}
	t.Logf("40 events, each handled once: %v", channels)
}

func TestStream_invalidParams(t *testing.T) {
	c, _ := setup(t)
	ok := func(context.Context, *pepay.Event) error { return nil }
	for _, p := range []pepay.StreamParams{{Types: []string{"a,b"}}, {IdleTimeout: -1}, {Environment: "prod"}} {
		assert.ErrorAs(t, c.Stream(context.Background(), p, ok), new(*paykit.ValidationError), "%+v", p)
	}
	assert.Error(t, c.Stream(context.Background(), pepay.StreamParams{}, nil), "nil handler accepted")
}

// An event logged right after the stream reports it is connected is delivered: the
// subscription exists before the upgrade completes.
func TestStream_eventRightAfterConnect(t *testing.T) {
	ctx := context.Background()
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	for range 20 {
		rec := newRecorder()
		p := fast(pepay.StreamParams{OnStatus: func(s pepay.StreamStatus) {
			if s.State == pepay.StreamConnected {
				srv.Ping(ctx)
			}
		}})
		stop := startStream(t, c, p, rec.handle)
		waitFor(t, 5*time.Second, "event logged at connect", func() bool { return rec.count() == 1 })
		stop()
	}
}

// Bad frames and unknown control frames are skipped without losing the connection.
func TestStream_unknownFramesSkipped(t *testing.T) {
	ctx := context.Background()
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	rec := newRecorder()
	stop := startStream(t, c, fast(pepay.StreamParams{OnStatus: rec.status}), rec.handle)
	waitFor(t, 5*time.Second, "connect", func() bool { return srv.OpenStreams() == 1 })
	srv.Ping(ctx) // test.ping with a non-invoice object: passes through
	waitFor(t, 5*time.Second, "ping", func() bool { return rec.count() == 1 })
	stop()
	assert.Empty(t, rec.states(pepay.StreamDisconnected), "reconnected")
}
