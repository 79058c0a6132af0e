package jopay_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jopay"
)

// TestCrossHostRedirectKeepsCredentials: the API answers with a redirect to another host; the
// client must end the call there instead of sending the API key (or anything) to that host.
func TestCrossHostRedirectKeepsCredentials(t *testing.T) {
	const key = "jo_live_CROSSHOSTKEY_0001"
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
				opts := []jopay.Option{jopay.WithBaseURL(home.URL + "/api/v1"), jopay.WithMaxRetries(1), jopay.WithRetryWait(time.Millisecond, time.Millisecond), jopay.WithRateLimiter(nil)}
				if callerClient {
					opts = append(opts, jopay.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}))
				}
				c, err := jopay.NewClient(key, opts...)
				require.NoError(t, err)
				calls := map[string]func() error{
					"GetRequest":    func() error { _, err := c.GetRequest(t.Context(), "req_1"); return err },
					"CancelRequest": func() error { _, err := c.CancelRequest(t.Context(), "req_1"); return err },
					"GetMerchant":   func() error { _, err := c.GetMerchant(t.Context(), "m_1"); return err },
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
