package jovepay_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jovepay"
)

const (
	segKey      = "jp_live_SEGMENTKEY_0001"
	segEmail    = "ops@example.com"
	segPassword = "redirect-password-0001"
)

// TestPaymentIDPathSegments: every method that puts a payment id into the path refuses the
// ids that are no single segment ("payment/../update-merchant-estimate") before sending.
func TestPaymentIDPathSegments(t *testing.T) {
	var (
		mu    sync.Mutex
		paths []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.Method+" "+r.URL.EscapedPath())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"statusCode":404,"code":"NOT_FOUND","message":"payment not found"}`))
	}))
	defer srv.Close()
	c, err := jovepay.NewClient(segKey, jovepay.WithBaseURL(srv.URL+"/v1"), jovepay.WithMaxRetries(0))
	require.NoError(t, err)
	take := func() []string {
		mu.Lock()
		defer mu.Unlock()
		p := paths
		paths = nil
		return p
	}
	methods := []struct {
		name string
		call func(id jovepay.ID) error
		path string // sent for the id "a/b?c"
	}{
		{"GetPayment", func(id jovepay.ID) error { _, err := c.GetPayment(context.Background(), id); return err }, "GET /v1/payment/a%2Fb%3Fc"},
		{"UpdateMerchantEstimate", func(id jovepay.ID) error { _, err := c.UpdateMerchantEstimate(context.Background(), id); return err },
			"POST /v1/payment/a%2Fb%3Fc/update-merchant-estimate"},
	}
	for _, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			take()
			for _, id := range []jovepay.ID{"", " ", ".", ".."} {
				err := m.call(id)
				var verr *paykit.ValidationError
				if assert.ErrorAs(t, err, &verr, "id %q: want a *ValidationError for payment_id", id) {
					assert.Equal(t, "payment_id", verr.Field, "id %q: ValidationError field", id)
				}
			}
			require.Empty(t, take(), "refused ids reached the server")
			err := m.call("a/b?c")
			require.True(t, paykit.IsStatus(err, http.StatusNotFound), "got %v, want the server's 404", err)
			assert.Equal(t, []string{m.path}, take(), "sent")
		})
	}
}

// TestCrossHostRedirectKeepsCredentials: the API answers with a redirect to another host. The
// client must end the call instead of sending the API key, the JWT or the login's email and
// password there (net/http re-posts the body on a 307 or 308).
func TestCrossHostRedirectKeepsCredentials(t *testing.T) {
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9.c2ln"
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, redirectLogin := range []bool{true, false} {
			for _, callerClient := range []bool{false, true} {
				name := http.StatusText(status)
				if redirectLogin {
					name += "/login_redirected"
				}
				if callerClient {
					name += "/caller_http_client"
				}
				t.Run(name, func(t *testing.T) {
					var (
						reached atomic.Int64
						mu      sync.Mutex
						leaked  []string
					)
					other := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
						reached.Add(1)
						body, _ := io.ReadAll(r.Body)
						mu.Lock()
						leaked = append(leaked, r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Api-Key")+" "+r.Header.Get("Authorization")+" "+string(body))
						mu.Unlock()
					}))
					defer other.Close()
					home := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						if r.URL.Path == "/v1/auth" && !redirectLogin {
							w.Header().Set("Content-Type", "application/json")
							_, _ = w.Write([]byte(`{"token":"` + jwt + `"}`))
							return
						}
						http.Redirect(w, r, other.URL+"/collect", status)
					}))
					defer home.Close()
					opts := []jovepay.Option{
						jovepay.WithBaseURL(home.URL + "/v1"), jovepay.WithCredentials(segEmail, segPassword),
						jovepay.WithMaxRetries(1), jovepay.WithRetryWait(time.Millisecond, time.Millisecond),
					}
					if callerClient {
						opts = append(opts, jovepay.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}))
					}
					c, err := jovepay.NewClient(segKey, opts...)
					require.NoError(t, err)
					calls := map[string]func() error{
						"ListPaymentsPage": func() error { _, err := c.ListPaymentsPage(t.Context(), jovepay.ListPaymentsParams{}); return err },
					}
					if !redirectLogin {
						calls["GetPayment"] = func() error { _, err := c.GetPayment(t.Context(), "5077"); return err }
						calls["CreatePayment"] = func() error {
							_, err := c.CreatePayment(t.Context(), jovepay.CreatePaymentParams{PriceAmount: paykit.MustDecimal("10"), PriceCurrency: "usd", PayCurrency: "btc"})
							return err
						}
						calls["Status"] = func() error { return c.Status(t.Context()) }
					}
					for call, fn := range calls {
						err := fn()
						var apiErr *paykit.Error
						if assert.ErrorAs(t, err, &apiErr, "%s: want the refused redirect as a *paykit.Error", call) {
							assert.Equal(t, status, apiErr.Status, "%s: status", call)
							assert.ErrorContains(t, err, "redirect to another host refused", call)
							for _, secret := range []string{segKey, segPassword, jwt} {
								assert.NotContains(t, err.Error(), secret, "%s: error carries a credential", call)
							}
						}
					}
					if n := reached.Load(); n != 0 {
						mu.Lock()
						defer mu.Unlock()
						t.Fatalf("the other host received %d requests: %q", n, leaked)
					}
				})
			}
		}
	}
}
