package pepay_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/pepay"
)

const (
	crossKey      = "pk_live_CROSSHOSTKEY_0001"
	crossCommerce = "ck_live_CROSSHOSTKEY_0002"
	crossSession  = "pst_CROSSHOSTSESSION_0003"
	crossSig      = "sig_CROSSHOSTSIG_0004.1700000000000"
	crossDash     = "eyJhbGciOiJIUzI1NiJ9.CROSSHOSTDASH.c2ln"
	crossWSToken  = "wst_CROSSHOSTWSTOKEN_0005"
)

// collector is the other host: it records whatever reaches it.
type collector struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newCollector(t *testing.T) *collector {
	t.Helper()
	c := &collector{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.seen = append(c.seen, r.Method+" "+r.URL.String()+" "+strings.Join([]string{
			r.Header.Get("X-Api-Key"), r.Header.Get("X-Commerce-Api-Key"), r.Header.Get("X-Session-Token"),
			r.Header.Get("X-Signature"), r.Header.Get("Authorization"), string(body)}, " "))
		c.mu.Unlock()
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *collector) check(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Empty(t, c.seen, "the other host received requests")
}

// assertRefused checks that err is the refused cross-host redirect and carries no credential.
func assertRefused(t *testing.T, call string, err error, status int) {
	t.Helper()
	var apiErr *paykit.Error
	require.ErrorAs(t, err, &apiErr, "%s: got %v, want the refused redirect as a *paykit.Error with status %d", call, err, status)
	assert.Equal(t, status, apiErr.Status, "%s: got %v, want the refused redirect as a *paykit.Error with status %d", call, err, status)
	assert.Contains(t, err.Error(), "redirect to another host refused", "%s: got %v, want the refused redirect as a *paykit.Error with status %d", call, err, status)
	for _, secret := range []string{crossKey, crossCommerce, crossSession, crossSig, crossDash, crossWSToken} {
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error carries a credential: %v", call, err)
		}
	}
}

// TestCrossHostRedirectKeepsCredentials: Pepay's REST API answers with a redirect to another
// host. No client may send its credential (x-api-key, x-commerce-api-key, the payment session
// headers, a dashboard JWT) or a body there.
func TestCrossHostRedirectKeepsCredentials(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, callerClient := range []bool{false, true} {
			name := http.StatusText(status)
			if callerClient {
				name += "/caller_http_client"
			}
			t.Run(name, func(t *testing.T) {
				other := newCollector(t)
				home := httptest.NewServer(http.RedirectHandler(other.URL+"/collect", status))
				defer home.Close()
				opts := []pepay.Option{pepay.WithBaseURL(home.URL), pepay.WithMaxRetries(1), pepay.WithRetryWait(time.Millisecond, time.Millisecond)}
				if callerClient {
					opts = append(opts, pepay.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}))
				}
				c, err := pepay.NewClient(crossKey, opts...)
				require.NoError(t, err)
				dash, err := pepay.NewClient("", append(opts, pepay.WithDashboardToken(crossDash))...)
				require.NoError(t, err)
				commerce, err := pepay.NewCommerceClient(crossCommerce, opts...)
				require.NoError(t, err)
				payor, err := pepay.NewPayorClient(pepay.PaymentSessionHeaders{SessionToken: crossSession, Signature: crossSig}, opts...)
				require.NoError(t, err)
				ctx := t.Context()
				calls := map[string]func() error{
					"GetInvoice":           func() error { _, err := c.GetInvoice(ctx, "inv_1"); return err },
					"NewWSToken":           func() error { _, err := c.NewWSToken(ctx, pepay.ScopeMerchant, time.Minute); return err },
					"dashboard GetInvoice": func() error { _, err := dash.GetInvoice(ctx, "inv_1"); return err },
					"CommerceClient.NewWSToken": func() error {
						_, err := commerce.NewWSToken(ctx, time.Minute)
						return err
					},
					"PayorClient.SessionDetails": func() error { _, err := payor.SessionDetails(ctx); return err },
					"PayorClient.SetCustomerEmail": func() error {
						return payor.SetCustomerEmail(ctx, "payer@example.com")
					},
				}
				for call, fn := range calls {
					assertRefused(t, call, fn(), status)
				}
				other.check(t)
			})
		}
	}
}

// TestCrossHostRedirectOnStreamHandshake: the WebSocket upgrade request carries x-api-key (or a
// token in its query); a redirect of the handshake to another host must not be followed.
func TestCrossHostRedirectOnStreamHandshake(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, callerClient := range []bool{false, true} {
			name := http.StatusText(status)
			if callerClient {
				name += "/caller_http_client"
			}
			t.Run(name, func(t *testing.T) {
				other := newCollector(t)
				home := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/api/v1/ws/token" { // NewWSToken for UseToken
						w.Header().Set("Content-Type", "application/json")
						_, _ = w.Write([]byte(`{"success":true,"data":{"token":"` + crossWSToken + `","expires_in":60,"scope":"merchant"}}`))
						return
					}
					http.Redirect(w, r, other.URL+r.URL.Path, status)
				}))
				defer home.Close()
				wsURL := "ws" + strings.TrimPrefix(home.URL, "http")
				opts := []pepay.Option{pepay.WithBaseURL(home.URL), pepay.WithWebSocketURL(wsURL), pepay.WithMaxRetries(0)}
				if callerClient {
					opts = append(opts, pepay.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}))
				}
				c, err := pepay.NewClient(crossKey, opts...)
				require.NoError(t, err)
				payor, err := pepay.NewPayorClient(pepay.PaymentSessionHeaders{SessionToken: crossSession, Signature: crossSig}, opts...)
				require.NoError(t, err)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				handler := func(context.Context, *pepay.Event) error { return nil }
				streams := map[string]func() error{
					"Stream x-api-key": func() error {
						return c.Stream(ctx, pepay.StreamParams{MaxConsecutiveFailures: 1}, handler)
					},
					"Stream ws_token": func() error {
						return c.Stream(ctx, pepay.StreamParams{UseToken: true, MaxConsecutiveFailures: 1}, handler)
					},
					"PayorClient.Stream": func() error {
						return payor.Stream(ctx, pepay.WSConnection{Token: crossWSToken, WSURL: wsURL + pepay.PayorStreamPath},
							pepay.PayorStreamParams{MaxConsecutiveFailures: 1}, handler)
					},
				}
				for name, stream := range streams {
					err := stream()
					require.NoError(t, ctx.Err(), "%s: did not end before the test's deadline: %v", name, err)
					assertRefused(t, name, err, status)
				}
				other.check(t)
			})
		}
	}
}

// TestCrossHostRedirectEndsStream: a handshake redirected to another host is refused, and
// reconnecting would only be redirected again, so Stream ends at once with the refused redirect
// instead of reconnecting with backoff, even when it may fail any number of times.
func TestCrossHostRedirectEndsStream(t *testing.T) {
	other := newCollector(t)
	var mu sync.Mutex
	handshakes := 0
	home := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		handshakes++
		mu.Unlock()
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	defer home.Close()
	wsURL := "ws" + strings.TrimPrefix(home.URL, "http")
	c, err := pepay.NewClient(crossKey, pepay.WithBaseURL(home.URL), pepay.WithWebSocketURL(wsURL), pepay.WithMaxRetries(0))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	err = c.Stream(ctx, pepay.StreamParams{}, func(context.Context, *pepay.Event) error { return nil })
	require.NoError(t, ctx.Err(), "Stream kept reconnecting: %v", err)
	assertRefused(t, "Stream", err, http.StatusFound)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 1, handshakes, "%d handshakes in %v, want 1 and no backoff", handshakes, time.Since(start))
	assert.LessOrEqual(t, time.Since(start), 10*time.Second, "%d handshakes in %v, want 1 and no backoff", handshakes, time.Since(start))
	other.check(t)
}
