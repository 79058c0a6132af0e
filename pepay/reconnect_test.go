package pepay_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
)

// fakeClock is a stream's reconnect clock that only moves when the stream sleeps or the test
// advances it: backoffs take no wall time and their lengths can be checked exactly.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	start time.Time
	// limit, when positive, ends the run: a sleep that would carry the clock past start+limit
	// calls stop and fails with context.Canceled instead.
	limit time.Duration
	stop  func()
}

func newFakeClock() *fakeClock {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return &fakeClock{t: t0, start: t0}
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	over := c.limit > 0 && c.t.Add(d).Sub(c.start) >= c.limit
	if !over {
		c.t = c.t.Add(d)
	}
	c.mu.Unlock()
	if over {
		c.stop()
		return context.Canceled
	}
	return nil
}

// reconnectCall is one OnReconnect call.
type reconnectCall struct {
	Attempt int
	Err     error
	Wait    time.Duration
}

// reconnects records OnReconnect calls and signals each one.
type reconnects struct {
	mu    sync.Mutex
	calls []reconnectCall
	ch    chan reconnectCall
}

func newReconnects() *reconnects { return &reconnects{ch: make(chan reconnectCall, 1000)} }

func (r *reconnects) record(attempt int, err error, wait time.Duration) {
	c := reconnectCall{attempt, err, wait}
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	select {
	case r.ch <- c:
	default:
	}
}

func (r *reconnects) all() []reconnectCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]reconnectCall(nil), r.calls...)
}

// next waits for the next OnReconnect call.
func (r *reconnects) next(t *testing.T) reconnectCall {
	t.Helper()
	select {
	case c := <-r.ch:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for OnReconnect")
		return reconnectCall{}
	}
}

// runClocked runs StreamWithClock in the background; wait returns its error (failing the test
// when it does not return within 20 s) and cleanup cancels it.
func runClocked(t *testing.T, c *pepay.Client, clock *fakeClock, p pepay.StreamParams, fn func(context.Context, *pepay.Event) error) (cancel func(), wait func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	clock.stop = cancel
	done := make(chan error, 1)
	go func() { done <- c.StreamWithClock(ctx, p, clock.now, clock.sleep, fn) }()
	var once sync.Once
	var err error
	wait = func() error {
		once.Do(func() {
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				cancel()
				t.Fatal("Stream did not return within 20 s")
			}
		})
		return err
	}
	t.Cleanup(func() {
		cancel()
		wait()
	})
	return cancel, wait
}

// The figure was 119 connections in 2 s against a server that drops the connection
// after every event: each delivered event reset the backoff. Now the backoff keeps doubling
// until a connection stays up for StableAfter, delivered events or not. On the stream's clock,
// 2 s hold at most the connections whose jittered waits (at least half of MinBackoff·2ⁿ) fit.
func TestStream_backoffGrowsAcrossDeliveringReconnects(t *testing.T) {
	ctx := context.Background()
	const (
		minBackoff = 10 * time.Millisecond
		window     = 2 * time.Second
		events     = 500 // more than the old behaviour's ≤ 400 connections could use up
	)
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	for i := range events {
		_, err := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.NewDecimal(int64(i+1), 0)})
		require.NoError(t, err)
	}
	srv.DropStreamEvery(1) // one event per connection, then the server cuts it

	clock := newFakeClock()
	clock.limit = window
	rec := newRecorder()
	calls := newReconnects()
	_, wait := runClocked(t, c, clock, pepay.StreamParams{
		Since: srv.Events()[0].ID, MinBackoff: minBackoff, OnReconnect: calls.record, OnStatus: rec.status,
	}, rec.handle)
	require.ErrorIs(t, wait(), context.Canceled, "Stream")

	// The most connections 2 s can hold: the first, plus one per wait while the shortest
	// possible waits still fit.
	bound, sum := 1, time.Duration(0)
	for n := 0; ; n++ {
		sum += (minBackoff << n) / 2
		if sum >= window {
			break
		}
		bound++
	}
	connects := srv.StreamStats().Connects
	assert.LessOrEqual(t, connects, bound, "connections in %v of backoff", window)
	assert.GreaterOrEqual(t, rec.count(), connects-1, "too few events over %d connections: the server was not delivering", connects)
	got := calls.all()
	require.GreaterOrEqual(t, len(got), 4, "too few reconnects")
	for i, call := range got {
		if !assert.Equal(t, i+1, call.Attempt, "reconnect %d reported another attempt: the backoff was reset by a delivered event", i+1) {
			break
		}
		if !assert.GreaterOrEqual(t, call.Wait, (minBackoff<<i)/2, "reconnect %d waited too little", i+1) {
			break
		}
	}
	waits := make([]time.Duration, min(len(got), 12))
	for i := range waits {
		waits[i] = got[i].Wait.Round(time.Millisecond)
	}
	t.Logf("%d connections, %d events in %v of reconnect backoff (bound %d); waits %v", connects, rec.count(), window, bound, waits)
}

// A connection that stays up for StableAfter makes the next failure a fresh outage: the backoff
// and the attempt count start again from 1. A shorter one does not.
func TestStream_backoffResetsAfterStableConnection(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	srv.FailStreamsNext(3, http.StatusServiceUnavailable, 0)

	clock := newFakeClock()
	calls := newReconnects()
	connected := make(chan struct{}, 10)
	runClocked(t, c, clock, pepay.StreamParams{
		StableAfter: time.Minute, MinBackoff: time.Second, MaxBackoff: time.Hour, OnReconnect: calls.record,
		OnStatus: func(s pepay.StreamStatus) {
			if s.State == pepay.StreamConnected {
				connected <- struct{}{}
			}
		},
	}, func(context.Context, *pepay.Event) error { return nil })
	awaitConnected := func() { // the client saw the connection open and the server has it
		t.Helper()
		select {
		case <-connected:
		case <-time.After(10 * time.Second):
			t.Fatal("timed out waiting for a connection")
		}
		waitFor(t, 10*time.Second, "the server to hold the connection", func() bool { return srv.OpenStreams() == 1 })
	}

	for range 3 { // three refused upgrades in a row
		calls.next(t)
	}
	awaitConnected()
	clock.advance(time.Minute) // the connection stays up for StableAfter
	srv.DropStreams()
	afterStable := calls.next(t)
	awaitConnected()
	clock.advance(59 * time.Second) // up, but not for long enough
	srv.DropStreams()
	afterShort := calls.next(t)

	var attempts []int
	for _, call := range calls.all() {
		attempts = append(attempts, call.Attempt)
	}
	assert.Empty(t, cmp.Diff([]int{1, 2, 3, 1, 2}, attempts), "attempts (-want +got)")
	assert.LessOrEqual(t, afterStable.Wait, time.Second, "waits after a stable and a short connection: %v and %v; want ≤ 1 s and ≥ 1 s", afterStable.Wait, afterShort.Wait)
	assert.GreaterOrEqual(t, afterShort.Wait, time.Second, "waits after a stable and a short connection: %v and %v; want ≤ 1 s and ≥ 1 s", afterStable.Wait, afterShort.Wait)
}

// A refused upgrade's Retry-After (429, 503) sets the wait before the next attempt when it is
// longer than the backoff, up to the client's WithMaxRetryAfter (default 60 s).
func TestStream_refusedUpgradeHonoursRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name          string
		status        int
		retryAfter    time.Duration
		opts          []pepay.Option
		want, wantMax time.Duration // the wait, or its range when there is no Retry-After
	}{
		{"503 Retry-After 5", http.StatusServiceUnavailable, 5 * time.Second, nil, 5 * time.Second, 5 * time.Second},
		{"429 Retry-After a day, default cap", http.StatusTooManyRequests, 24 * time.Hour, nil, time.Minute, time.Minute},
		{"503 Retry-After a day, WithMaxRetryAfter", http.StatusServiceUnavailable, 24 * time.Hour,
			[]pepay.Option{pepay.WithMaxRetryAfter(2 * time.Second)}, 2 * time.Second, 2 * time.Second},
		{"503 without Retry-After: backoff", http.StatusServiceUnavailable, 0, nil, pepay.DefaultMinBackoff / 2, pepay.DefaultMinBackoff},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := pepaytest.NewServer()
			defer srv.Close()
			c, err := srv.NewClient(tc.opts...)
			require.NoError(t, err)
			srv.FailStreamsNext(1, tc.status, tc.retryAfter)
			clock := newFakeClock()
			calls := newReconnects()
			rec := newRecorder()
			runClocked(t, c, clock, pepay.StreamParams{OnReconnect: calls.record, OnStatus: rec.status}, rec.handle)
			call := calls.next(t)
			var se *pepay.StreamError
			require.ErrorAs(t, call.Err, &se, "reconnect error = %v, want a non-terminal *StreamError with HTTP %d", call.Err, tc.status)
			assert.Equal(t, tc.status, se.HTTPStatus, "reconnect error = %v, want a non-terminal *StreamError with HTTP %d", call.Err, tc.status)
			assert.False(t, se.Terminal(), "reconnect error = %v, want a non-terminal *StreamError with HTTP %d", call.Err, tc.status)
			assert.Equal(t, 1, call.Attempt, "attempt %d waited %v, want %v–%v", call.Attempt, call.Wait, tc.want, tc.wantMax)
			assert.GreaterOrEqual(t, call.Wait, tc.want, "attempt %d waited %v, want %v–%v", call.Attempt, call.Wait, tc.want, tc.wantMax)
			assert.LessOrEqual(t, call.Wait, tc.wantMax, "attempt %d waited %v, want %v–%v", call.Attempt, call.Wait, tc.want, tc.wantMax)
			waitFor(t, 10*time.Second, "the connection after the refusal", func() bool { return len(rec.states(pepay.StreamConnected)) == 1 })
			d := rec.states(pepay.StreamDisconnected)
			require.Len(t, d, 1, "disconnect reports %+v", d)
			assert.ErrorAs(t, d[0].Err, &se, "disconnect reports %+v", d)
			st := srv.StreamStats()
			assert.Equal(t, 1, st.Refused, "stats %+v, want one refusal and one connection", st)
			assert.Equal(t, 1, st.Connects, "stats %+v, want one refusal and one connection", st)
		})
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// Against a host that refuses every connection, each of the three streams reports every failed
// attempt to OnReconnect and, with MaxConsecutiveFailures, gives up with a *ReconnectError that
// wraps the last dial error and names no credential.
func TestStreams_unreachableHostReportsAndGivesUp(t *testing.T) {
	const (
		key         = "pk_unreachable_key_that_must_not_leak"
		ckey        = "ck_unreachable_key_that_must_not_leak"
		payorTok    = "payor.session.jwt-that-must-not-leak"
		maxFailures = 4
	)
	base := "http://" + closedAddr(t)
	tuning := func(calls *reconnects) (time.Duration, time.Duration, int, func(int, error, time.Duration)) {
		return time.Millisecond, 2 * time.Millisecond, maxFailures, calls.record
	}
	for name, run := range map[string]func(ctx context.Context, calls *reconnects) error{
		"merchant": func(ctx context.Context, calls *reconnects) error {
			c, err := pepay.NewClient(key, pepay.WithBaseURL(base))
			if err != nil {
				return err
			}
			var p pepay.StreamParams
			p.MinBackoff, p.MaxBackoff, p.MaxConsecutiveFailures, p.OnReconnect = tuning(calls)
			return c.Stream(ctx, p, func(context.Context, *pepay.Event) error { return nil })
		},
		"commerce": func(ctx context.Context, calls *reconnects) error {
			c, err := pepay.NewCommerceClient(ckey, pepay.WithBaseURL(base))
			if err != nil {
				return err
			}
			var p pepay.CommerceStreamParams
			p.MinBackoff, p.MaxBackoff, p.MaxConsecutiveFailures, p.OnReconnect = tuning(calls)
			return c.Stream(ctx, p, func(context.Context, *pepay.Event) error { return nil })
		},
		"payor": func(ctx context.Context, calls *reconnects) error {
			p, err := pepay.NewPayorClient(pepay.PaymentSessionHeaders{SessionToken: "pst_x", Signature: "sig_x"}, pepay.WithBaseURL(base))
			if err != nil {
				return err
			}
			var params pepay.PayorStreamParams
			params.MinBackoff, params.MaxBackoff, params.MaxConsecutiveFailures, params.OnReconnect = tuning(calls)
			return p.Stream(ctx, pepay.WSConnection{Token: payorTok, Endpoint: pepay.PayorStreamPath}, params,
				func(context.Context, *pepay.Event) error { return nil })
		},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			calls := newReconnects()
			err := run(ctx, calls)
			var re *pepay.ReconnectError
			require.ErrorAs(t, err, &re, "err = %v, want a *ReconnectError after %d attempts", err, maxFailures)
			require.Equal(t, maxFailures, re.Attempts, "err = %v, want a *ReconnectError after %d attempts", err, maxFailures)
			var se *pepay.StreamError
			require.NotNil(t, errors.Unwrap(err), "err = %v, want it to wrap the dial error", err)
			assert.False(t, errors.As(err, &se), "err = %v, want it to wrap the dial error", err)
			assert.NotErrorIs(t, err, context.DeadlineExceeded, "err = %v, want it to wrap the dial error", err)
			got := calls.all()
			require.Len(t, got, maxFailures-1, "OnReconnect called %d times (every failure but the last, which is returned)", len(got))
			for i, call := range got {
				assert.Equal(t, i+1, call.Attempt, "call %d = %+v", i+1, call)
				require.Error(t, call.Err, "call %d = %+v", i+1, call)
				assert.Positive(t, call.Wait, "call %d = %+v", i+1, call)
			}
			for _, msg := range []string{err.Error(), got[0].Err.Error()} {
				for _, secret := range []string{key, ckey, payorTok} {
					assert.NotContains(t, msg, secret, "error leaks")
				}
			}
		})
	}
}

// Every negative new tuning value is refused.
func TestStream_reconnectTuningValidated(t *testing.T) {
	c, _ := setup(t)
	ok := func(context.Context, *pepay.Event) error { return nil }
	for _, p := range []pepay.StreamParams{{StableAfter: -1}, {MaxConsecutiveFailures: -1}} {
		assert.ErrorAs(t, c.Stream(context.Background(), p, ok), new(*paykit.ValidationError), "%+v", p)
	}
}

// The dedupe window remembers exactly DedupeWindow ids: a resume that resends as many events as
// the window holds is dropped entirely; one more than that and the oldest resent event has been
// forgotten, and — as each re-delivered event pushes out the next one — the whole resend is
// handled again (at-least-once delivery, the documented fallback).
func TestStream_dedupeWindowSizeLimit(t *testing.T) {
	ctx := context.Background()
	const resend = 8
	for _, tc := range []struct {
		window     int
		duplicates bool
	}{{resend, false}, {resend - 1, true}} {
		t.Run("window "+strconv.Itoa(tc.window), func(t *testing.T) {
			srv := pepaytest.NewServer()
			defer srv.Close()
			c, _ := srv.NewClient()
			_, _ = srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("1")})
			since := srv.LastEventID()
			for i := range 10 {
				_, _ = srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.NewDecimal(int64(i+2), 0)})
			}
			first := srv.Events()[1:] // the ten events after since

			rec := newRecorder()
			stop := startStream(t, c, fast(pepay.StreamParams{Since: since, DedupeWindow: tc.window, OnStatus: rec.status}), rec.handle)
			waitFor(t, 5*time.Second, "ten events", func() bool { return rec.count() == 10 })
			srv.ResendOnResume(resend)
			srv.DropStreams()
			marker, _ := srv.Ping(ctx) // logged last: everything resent arrives before it
			waitFor(t, 5*time.Second, "the marker", func() bool {
				rec.mu.Lock()
				defer rec.mu.Unlock()
				return rec.byID[marker] == 1
			})
			stop()

			var want []string
			for _, e := range first {
				want = append(want, e.ID)
			}
			if tc.duplicates {
				for _, e := range first[len(first)-resend:] {
					want = append(want, e.ID)
				}
			}
			want = append(want, marker)
			rec.mu.Lock()
			defer rec.mu.Unlock()
			assert.Empty(t, cmp.Diff(want, rec.ids), "window %d, %d resent (-want +got)", tc.window, resend)
			st := srv.StreamStats()
			assert.Equal(t, resend, st.Resent, "server resent")
		})
	}
}
