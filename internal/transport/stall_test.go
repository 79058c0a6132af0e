package transport

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
)

// stallAfterHeaders sends a 200, its headers and the first bytes of a JSON body, then stalls
// until the client goes away.
func stallAfterHeaders(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", "4096")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"id":"req_1","status":`))
	w.(http.Flusher).Flush()
	<-r.Context().Done()
}

func TestDeadlineWhileReadingBody(t *testing.T) {
	for _, kind := range callKinds() {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t, stallAfterHeaders)
			c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			var out struct{ ID string }
			err := doBounded(t, ctx, c, kind.req, &out)
			require.ErrorIs(t, err, context.DeadlineExceeded, "error %v does not wrap context.DeadlineExceeded", err)
			assert.NotErrorIs(t, err, paykit.ErrInvalidResponse, "a deadline reads as an invalid response")
			// The 2xx arrived: an unkeyed write has been acted on.
			assert.Equal(t, !kind.safe, errors.Is(err, paykit.ErrUnknownOutcome), "errors.Is(err, ErrUnknownOutcome) (%v)", err)
			assert.Equal(t, 1, rec.Count(), "attempts, want 1")
			// DoRaw reads the body the same way.
			ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel2()
			_, err = c.DoRaw(ctx2, kind.req)
			require.ErrorIs(t, err, context.DeadlineExceeded, "DoRaw: error %v does not wrap context.DeadlineExceeded", err)
		})
	}
}

func TestCancelWhileReadingBody(t *testing.T) {
	rec := newRecorder(t, stallAfterHeaders)
	c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	err := doBounded(t, ctx, c, Request{Method: http.MethodGet, Path: "x"}, nil)
	require.ErrorIs(t, err, context.Canceled, "error %v does not wrap context.Canceled", err)
}
