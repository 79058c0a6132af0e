package jopay_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
				opts := []jopay.Option{jopay.WithBaseURL(home.URL + "/api/v1"), jopay.WithMaxRetries(1), jopay.WithRetryWait(time.Millisecond, time.Millisecond)}
				if callerClient {
					opts = append(opts, jopay.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}))
				}
				c, err := jopay.NewClient(key, opts...)
				if err != nil {
					t.Fatal(err)
				}
				calls := map[string]func() error{
					"GetRequest":    func() error { _, err := c.GetRequest(t.Context(), "req_1"); return err },
					"CancelRequest": func() error { _, err := c.CancelRequest(t.Context(), "req_1"); return err },
					"GetMerchant":   func() error { _, err := c.GetMerchant(t.Context(), "m_1"); return err },
				}
				for call, fn := range calls {
					err := fn()
					var apiErr *paykit.Error
					if !errors.As(err, &apiErr) || apiErr.Status != status || !strings.Contains(err.Error(), "redirect to another host refused") {
						t.Errorf("%s: got %v, want the refused redirect as a *paykit.Error with status %d", call, err, status)
					}
					if err != nil && strings.Contains(err.Error(), key) {
						t.Errorf("%s: error carries the key: %v", call, err)
					}
				}
				if n := reached.Load(); n != 0 {
					t.Fatalf("the other host received %d requests", n)
				}
			})
		}
	}
}
