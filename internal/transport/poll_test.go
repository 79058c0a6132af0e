package transport

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
)

// pollScript answers Fetch from a list of results, one per poll.
type pollScript struct {
	results []func() (string, error)
	polls   int
	slept   []time.Duration
}

func (s *pollScript) poll() Poll[string] {
	return Poll[string]{
		What:          "test: waiting for x",
		Initial:       time.Second,
		Max:           4 * time.Second,
		MaxRetryAfter: time.Minute,
		Fetch: func(context.Context) (string, error) {
			r := s.results[min(s.polls, len(s.results)-1)]
			s.polls++
			return r()
		},
		Status:   func(v string) string { return v },
		Terminal: func(v string) bool { return v == "paid" || v == "expired" },
		Sleep: func(ctx context.Context, d time.Duration) error {
			s.slept = append(s.slept, d)
			return ctx.Err()
		},
	}
}

func ok(v string) func() (string, error)  { return func() (string, error) { return v, nil } }
func fail(e error) func() (string, error) { return func() (string, error) { return "", e } }

func TestPollStopsAtTerminalAndReportsChanges(t *testing.T) {
	s := &pollScript{results: []func() (string, error){ok("unpaid"), ok("unpaid"), ok("unpaid"), ok("underpaid"), ok("paid")}}
	var changes []string
	p := s.poll()
	p.OnChange = func(v string) { changes = append(changes, v) }
	got, err := p.Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "paid", got)
	assert.Equal(t, []string{"unpaid", "underpaid", "paid"}, changes)
	require.Len(t, s.slept, 4)
	// Growing ×1.5 while unchanged (jittered ±20%), back to the initial wait after a change.
	assert.InDelta(t, float64(time.Second), float64(s.slept[0]), float64(time.Second)/5+1)
	assert.InDelta(t, float64(1500*time.Millisecond), float64(s.slept[1]), float64(1500*time.Millisecond)/5+1)
	assert.InDelta(t, float64(time.Second), float64(s.slept[3]), float64(time.Second)/5+1, "reset after the change")
}

func TestPollRetryAfterIsCapped(t *testing.T) {
	busy := &paykit.Error{Status: 429, RetryAfter: 24 * time.Hour}
	s := &pollScript{results: []func() (string, error){fail(busy), ok("paid")}}
	got, err := s.poll().Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "paid", got)
	assert.Equal(t, []time.Duration{time.Minute}, s.slept, "a day's Retry-After waits the cap")
}

func TestPollPermanentErrorReturnsAtOnce(t *testing.T) {
	notFound := &paykit.Error{Status: 404, Code: "not_found"}
	s := &pollScript{results: []func() (string, error){ok("unpaid"), fail(notFound)}}
	got, err := s.poll().Run(context.Background())
	require.ErrorIs(t, err, notFound)
	assert.Equal(t, "unpaid", got, "the last object seen")
	assert.Equal(t, 2, s.polls)
}

func TestPollTransientErrorsAreRetried(t *testing.T) {
	s := &pollScript{results: []func() (string, error){
		fail(&paykit.Error{Status: 503}),
		fail(errors.New("connection reset")),
		// One poll's own timeout while the wait's context is alive.
		fail(fmt.Errorf("jopay: GET /requests/x: %w", context.DeadlineExceeded)),
		ok("expired"),
	}}
	got, err := s.poll().Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "expired", got)
	assert.Equal(t, 4, s.polls)
}

func TestPollContextEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &pollScript{results: []func() (string, error){ok("unpaid")}}
	p := s.poll()
	p.Sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return ctx.Err()
	}
	got, err := p.Run(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, "unpaid", got)
	assert.Contains(t, err.Error(), "test: waiting for x")

	for _, e := range []error{&paykit.ValidationError{Field: "id"}, paykit.ErrInvalidResponse, fmt.Errorf("x: %w", paykit.ErrRateLimited)} {
		s := &pollScript{results: []func() (string, error){fail(e)}}
		_, err := s.poll().Run(context.Background())
		assert.ErrorIs(t, err, e)
		assert.Equal(t, 1, s.polls, "%v is permanent", e)
	}
}
