package transport

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

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
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error %v does not wrap context.DeadlineExceeded", err)
			}
			if errors.Is(err, paykit.ErrInvalidResponse) {
				t.Errorf("a deadline reads as an invalid response: %v", err)
			}
			// The 2xx arrived: an unkeyed write has been acted on.
			if got := errors.Is(err, paykit.ErrUnknownOutcome); got != !kind.safe {
				t.Errorf("errors.Is(err, ErrUnknownOutcome) = %v, want %v (%v)", got, !kind.safe, err)
			}
			if rec.Count() != 1 {
				t.Errorf("%d attempts, want 1", rec.Count())
			}
			// DoRaw reads the body the same way.
			ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel2()
			if _, err := c.DoRaw(ctx2, kind.req); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("DoRaw: error %v does not wrap context.DeadlineExceeded", err)
			}
		})
	}
}

func TestCancelWhileReadingBody(t *testing.T) {
	rec := newRecorder(t, stallAfterHeaders)
	c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	err := doBounded(t, ctx, c, Request{Method: http.MethodGet, Path: "x"}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v does not wrap context.Canceled", err)
	}
}
