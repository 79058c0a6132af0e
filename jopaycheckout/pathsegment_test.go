package jopaycheckout_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jopaycheckout"
)

func TestSessionIDPathSegment(t *testing.T) {
	var (
		mu    sync.Mutex
		paths []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.EscapedPath())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"not_found","message":"No such session"}`))
	}))
	defer srv.Close()
	take := func() []string {
		mu.Lock()
		defer mu.Unlock()
		p := paths
		paths = nil
		return p
	}
	c, err := jopaycheckout.NewClient("sk_test_pathsegment", jopaycheckout.WithBaseURL(srv.URL+"/api/checkout/v1"), jopaycheckout.WithMaxRetries(0))
	require.NoError(t, err)
	for _, id := range []string{"", ".", "..", "a/b", "%2e%2e"} {
		_, err := c.GetSession(context.Background(), id)
		var verr *paykit.ValidationError
		if assert.ErrorAs(t, err, &verr, "id %q: want a *ValidationError for id", id) {
			assert.Equal(t, "id", verr.Field, "id %q: ValidationError field", id)
		}
	}
	require.Empty(t, take(), "refused ids reached the server")
	_, err = c.GetSession(context.Background(), "cs_test_01")
	require.True(t, paykit.IsStatus(err, http.StatusNotFound), "got %v, want the server's 404", err)
	assert.Equal(t, []string{"/api/checkout/v1/sessions/cs_test_01"}, take(), "sent")
}

// TestCrossHostRedirectKeepsCredentials: the API answers with a redirect to another host; the
// client must end the call there instead of sending the Bearer key (or the body) to that host.
func TestCrossHostRedirectKeepsCredentials(t *testing.T) {
	const key = "sk_live_CROSSHOSTKEY_0001"
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, callerClient := range []bool{false, true} {
			name := http.StatusText(status)
			if callerClient {
				name += "/caller_http_client"
			}
			t.Run(name, func(t *testing.T) {
				var reached atomic.Int64
				other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
				defer other.Close()
				home := httptest.NewServer(http.RedirectHandler(other.URL+"/collect", status))
				defer home.Close()
				opts := []jopaycheckout.Option{jopaycheckout.WithBaseURL(home.URL + "/api/checkout/v1"), jopaycheckout.WithMaxRetries(1), jopaycheckout.WithRetryWait(time.Millisecond, time.Millisecond)}
				if callerClient {
					opts = append(opts, jopaycheckout.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}))
				}
				c, err := jopaycheckout.NewClient(key, opts...)
				require.NoError(t, err)
				calls := map[string]func() error{
					"GetSession": func() error { _, err := c.GetSession(t.Context(), "cs_test_01"); return err },
					"CreateSession": func() error {
						_, err := c.CreateSession(t.Context(), jopaycheckout.CreateSessionParams{AmountCents: 1999, Currency: "GBP", SuccessURL: "https://s.example/ok", CancelURL: "https://s.example/no"})
						return err
					},
				}
				for call, fn := range calls {
					err := fn()
					var apiErr *paykit.Error
					if assert.ErrorAs(t, err, &apiErr, "%s: want the refused redirect as a *paykit.Error", call) {
						assert.Equal(t, status, apiErr.Status, "%s: status", call)
						assert.ErrorContains(t, err, "redirect to another host refused", call)
						assert.NotContains(t, err.Error(), key, "%s: error carries the key", call)
					}
				}
				require.Zero(t, reached.Load(), "the other host received")
			})
		}
	}
}
