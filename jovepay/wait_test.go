package jovepay_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jovepay"
)

// pollStep is one answer of the scripted GET /v1/payment/{id}: a payment in status, or an
// error status with an optional Retry-After (seconds).
type pollStep struct {
	status     jovepay.PaymentStatus
	httpStatus int
	retryAfter int
}

// pollScript serves steps in order to GET /v1/payment/{id}, repeating the last one, and
// counts the polls.
type pollScript struct {
	mu    sync.Mutex
	steps []pollStep
	polls int
}

func servePolls(t *testing.T, srv *coServer, steps ...pollStep) *pollScript {
	ps := &pollScript{steps: steps}
	srv.mux.HandleFunc("GET /v1/payment/{id}", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, coPaymentID, r.PathValue("id"), "payment id")
		assert.Equal(t, coKey, r.Header.Get("x-api-key"), "x-api-key")
		ps.mu.Lock()
		st := ps.steps[min(ps.polls, len(ps.steps)-1)]
		ps.polls++
		ps.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if st.httpStatus != 0 {
			if st.retryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(st.retryAfter))
			}
			w.WriteHeader(st.httpStatus)
			_, _ = io.WriteString(w, `{"statusCode":`+strconv.Itoa(st.httpStatus)+`,"code":"E`+strconv.Itoa(st.httpStatus)+`","message":"no"}`)
			return
		}
		_, _ = io.WriteString(w, `{"payment_id":5745459419,"payment_status":"`+string(st.status)+`","order_id":"A-7","pay_amount":0.001}`)
	})
	return ps
}

func (ps *pollScript) count() int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.polls
}

// sleepLog records WaitForPayment's waits without sleeping.
type sleepLog struct {
	mu    sync.Mutex
	waits []time.Duration
	// after, when set, is called with the number of waits so far; its error ends the wait.
	after func(n int) error
}

func (s *sleepLog) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	n := len(s.waits)
	s.mu.Unlock()
	if s.after != nil {
		if err := s.after(n); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (s *sleepLog) log() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

func statuses(ps []*jovepay.Payment) []jovepay.PaymentStatus {
	var out []jovepay.PaymentStatus
	for _, p := range ps {
		out = append(out, p.Status)
	}
	return out
}

// TestWaitForPaymentTerminal: the wait ends at each final status (not at partially_paid), and
// OnStatusChange hears the first status and each change once.
func TestWaitForPaymentTerminal(t *testing.T) {
	for _, final := range []jovepay.PaymentStatus{jovepay.StatusFinished, jovepay.StatusFailed, jovepay.StatusRefunded, jovepay.StatusExpired} {
		t.Run(string(final), func(t *testing.T) {
			srv := newCoServer(t)
			ps := servePolls(t, srv,
				pollStep{status: jovepay.StatusWaiting}, pollStep{status: jovepay.StatusWaiting},
				pollStep{status: jovepay.StatusConfirming}, pollStep{status: jovepay.StatusPartiallyPaid},
				pollStep{status: jovepay.StatusPartiallyPaid}, pollStep{status: final})
			c := srv.client()
			var seen []*jovepay.Payment
			sl := new(sleepLog)
			p, err := c.WaitForPayment(context.Background(), coPaymentID,
				jovepay.WithPollInterval(10*time.Millisecond, 40*time.Millisecond),
				jovepay.OnStatusChange(func(p *jovepay.Payment) { seen = append(seen, p) }),
				jovepay.WithWaitSleep(sl.sleep))
			require.NoError(t, err)
			require.NotNil(t, p)
			assert.Equal(t, final, p.Status, "returned status")
			assert.True(t, p.IsTerminal(), "IsTerminal")
			assert.Equal(t, coOrderID, p.OrderID(), "OrderID")
			assert.Equal(t, 6, ps.count(), "polls")
			want := []jovepay.PaymentStatus{jovepay.StatusWaiting, jovepay.StatusConfirming, jovepay.StatusPartiallyPaid, final}
			assert.Empty(t, cmp.Diff(want, statuses(seen)), "OnStatusChange (-want +got)")
			waits := sl.log()
			require.Len(t, waits, 5, "waits between 6 polls")
			for i, d := range waits {
				assert.GreaterOrEqual(t, d, 8*time.Millisecond, "wait %d: initial 10 ms −20%%", i)
				assert.LessOrEqual(t, d, 48*time.Millisecond, "wait %d: max 40 ms +20%%", i)
			}
		})
	}
}

// TestWaitForPaymentBackoff: unchanged polls grow the wait ×1.5 up to the max; a change brings
// it back to the initial interval.
func TestWaitForPaymentBackoff(t *testing.T) {
	srv := newCoServer(t)
	w := pollStep{status: jovepay.StatusWaiting}
	servePolls(t, srv, w, w, w, w, w, w, pollStep{status: jovepay.StatusConfirming}, pollStep{status: jovepay.StatusFinished})
	c := srv.client()
	sl := new(sleepLog)
	_, err := c.WaitForPayment(context.Background(), coPaymentID,
		jovepay.WithPollInterval(100*time.Millisecond, 300*time.Millisecond), jovepay.WithWaitSleep(sl.sleep))
	require.NoError(t, err)
	// Nominal waits: 100, 150, 225, 300, 300, 300 (waiting), then 100 after the change.
	nominal := []time.Duration{100, 150, 225, 300, 300, 300, 100}
	waits := sl.log()
	require.Len(t, waits, len(nominal))
	for i, d := range waits {
		n := nominal[i] * time.Millisecond
		assert.InDelta(t, float64(n), float64(d), float64(n)/5+1, "wait %d: %v, nominal %v ±20%%", i, d, n)
	}
}

// TestWaitForPaymentContextEnd: when ctx ends the last payment seen comes back with ctx's
// error.
func TestWaitForPaymentContextEnd(t *testing.T) {
	srv := newCoServer(t)
	ps := servePolls(t, srv, pollStep{status: jovepay.StatusWaiting}, pollStep{status: jovepay.StatusConfirming})
	c := srv.client()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sl := &sleepLog{after: func(n int) error {
		if n == 3 {
			cancel()
		}
		return nil
	}}
	p, err := c.WaitForPayment(ctx, coPaymentID, jovepay.WithPollInterval(time.Millisecond, time.Millisecond), jovepay.WithWaitSleep(sl.sleep))
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, p, "the last payment seen")
	assert.Equal(t, jovepay.StatusConfirming, p.Status, "last status")
	assert.Contains(t, err.Error(), "waiting for payment "+coPaymentID, "error names the wait")
	assert.Equal(t, 3, ps.count(), "polls")

	// With a real deadline and the real sleep.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	p, err = c.WaitForPayment(ctx2, coPaymentID, jovepay.WithPollInterval(10*time.Millisecond, 20*time.Millisecond))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotNil(t, p)
	assert.Equal(t, jovepay.StatusConfirming, p.Status, "last status")
}

// TestWaitForPaymentPermanentError: a 404 (and a 403) is returned at once, with the last
// payment seen; nothing more is polled.
func TestWaitForPaymentPermanentError(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []pollStep
		last  jovepay.PaymentStatus
	}{
		{"404 first", []pollStep{{httpStatus: 404}}, ""},
		{"403 after a poll", []pollStep{{status: jovepay.StatusWaiting}, {httpStatus: 403}}, jovepay.StatusWaiting},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newCoServer(t)
			ps := servePolls(t, srv, append(tc.steps, pollStep{status: jovepay.StatusFinished})...)
			c := srv.client()
			sl := new(sleepLog)
			p, err := c.WaitForPayment(context.Background(), coPaymentID, jovepay.WithPollInterval(time.Millisecond, time.Millisecond), jovepay.WithWaitSleep(sl.sleep))
			var apiErr *paykit.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.steps[len(tc.steps)-1].httpStatus, apiErr.Status, "status")
			assert.Equal(t, len(tc.steps), ps.count(), "polls")
			assert.Len(t, sl.log(), len(tc.steps)-1, "waits")
			if tc.last == "" {
				assert.Nil(t, p, "payment")
			} else {
				require.NotNil(t, p, "payment")
				assert.Equal(t, tc.last, p.Status, "last status")
			}
		})
	}
}

// TestWaitForPaymentTransientError: a 5xx that outlasts the client's retries is polled again.
func TestWaitForPaymentTransientError(t *testing.T) {
	srv := newCoServer(t)
	ps := servePolls(t, srv, pollStep{httpStatus: 502}, pollStep{status: jovepay.StatusFinished})
	c := srv.client(jovepay.WithMaxRetries(0))
	sl := new(sleepLog)
	p, err := c.WaitForPayment(context.Background(), coPaymentID, jovepay.WithPollInterval(time.Millisecond, time.Millisecond), jovepay.WithWaitSleep(sl.sleep))
	require.NoError(t, err)
	assert.Equal(t, jovepay.StatusFinished, p.Status, "status")
	assert.Equal(t, 2, ps.count(), "polls")
}

// TestWaitForPaymentRetryAfterCap: a 429 asking for a day's pause makes the next poll wait the
// client's WithMaxRetryAfter, not a day.
func TestWaitForPaymentRetryAfterCap(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []jovepay.Option
		want time.Duration
	}{
		{"WithMaxRetryAfter(5s)", []jovepay.Option{jovepay.WithMaxRetryAfter(5 * time.Second)}, 5 * time.Second},
		{"default", nil, 60 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newCoServer(t)
			ps := servePolls(t, srv, pollStep{httpStatus: 429, retryAfter: 86400}, pollStep{status: jovepay.StatusFinished})
			c := srv.client(tc.opts...)
			sl := new(sleepLog)
			p, err := c.WaitForPayment(context.Background(), coPaymentID, jovepay.WithPollInterval(10*time.Millisecond, 20*time.Millisecond), jovepay.WithWaitSleep(sl.sleep))
			require.NoError(t, err)
			assert.Equal(t, jovepay.StatusFinished, p.Status, "status")
			assert.Equal(t, 2, ps.count(), "polls: the transport does not wait a day for the 429 either")
			assert.Equal(t, []time.Duration{tc.want}, sl.log(), "waits")
		})
	}
}

// TestWaitForPaymentCallOptions: WithCallOptions applies to every poll; WithResponseInfo holds
// the last poll's info.
func TestWaitForPaymentCallOptions(t *testing.T) {
	srv := newCoServer(t)
	servePolls(t, srv, pollStep{status: jovepay.StatusWaiting}, pollStep{status: jovepay.StatusSending}, pollStep{status: jovepay.StatusFinished})
	c := srv.client()
	var info paykit.ResponseInfo
	sl := new(sleepLog)
	_, err := c.WaitForPayment(context.Background(), coPaymentID, jovepay.WithPollInterval(time.Millisecond, time.Millisecond), jovepay.WithWaitSleep(sl.sleep),
		jovepay.WithCallOptions(paykit.WithHeader(coTestHdr, "wait"), paykit.WithResponseInfo(&info)))
	require.NoError(t, err)
	reqs := srv.take()
	require.Len(t, reqs, 3)
	for i, r := range reqs {
		assert.Equal(t, "wait", r.Header.Get(coTestHdr), "poll %d", i+1)
	}
	assert.Equal(t, 200, info.StatusCode, "info.StatusCode")
	assert.Equal(t, 1, info.Attempts, "info.Attempts")
}

// TestWaitForPaymentInvalidID: an empty id, or one that would address another route, fails
// before anything is sent.
func TestWaitForPaymentInvalidID(t *testing.T) {
	srv := newCoServer(t)
	c := srv.client()
	for _, id := range []jovepay.ID{"", " ", ".", ".."} {
		p, err := c.WaitForPayment(context.Background(), id)
		var vErr *paykit.ValidationError
		assert.ErrorAs(t, err, &vErr, "id %q", id)
		assert.Nil(t, p, "id %q", id)
	}
	assert.Zero(t, srv.count(), "requests sent")
}

// TestWaitForPaymentPerPollTimeout: a poll that outlasts its own WithTimeout is polled again
// while the wait's context is alive.
func TestWaitForPaymentPerPollTimeout(t *testing.T) {
	srv := newCoServer(t)
	var mu sync.Mutex
	polls := 0
	srv.mux.HandleFunc("GET /v1/payment/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		polls++
		n := polls
		mu.Unlock()
		if n == 1 {
			<-r.Context().Done() // the first poll hangs until the client gives up
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, coPaymentJSON)
	})
	c := srv.client()
	sl := new(sleepLog)
	p, err := c.WaitForPayment(context.Background(), coPaymentID, jovepay.WithWaitSleep(sl.sleep),
		jovepay.WithCallOptions(paykit.WithTimeout(50*time.Millisecond)))
	require.NoError(t, err)
	assert.Equal(t, jovepay.StatusFinished, p.Status, "status")
	mu.Lock()
	assert.Equal(t, 2, polls, "polls")
	mu.Unlock()
	assert.Len(t, sl.log(), 1, "waits")
}
