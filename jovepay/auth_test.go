package jovepay

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/paykit-go/paykit"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/internal/apitest"
)

func TestTokenExpiry(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	skew := 30 * time.Second
	unix := func(d time.Duration) int64 { return now.Add(d).Unix() }
	cases := []struct {
		name  string
		token string
		want  time.Time // zero: unknown, the cache assumes 5 minutes
	}{
		{"exp", makeJWT(map[string]any{"exp": unix(5 * time.Minute)}), now.Add(5 * time.Minute)},
		{"exp and iat agree", makeJWT(map[string]any{"iat": unix(0), "exp": unix(5 * time.Minute)}), now.Add(5 * time.Minute)},
		// Our clock is 10 minutes behind JovePay's: exp looks 15 minutes away, but the token
		// only lives 5.
		{"local clock behind", makeJWT(map[string]any{"iat": unix(10 * time.Minute), "exp": unix(15 * time.Minute)}), now.Add(5 * time.Minute)},
		// Our clock is ahead: exp already passed by our clock, the lifetime still applies.
		{"local clock ahead", makeJWT(map[string]any{"iat": unix(-10 * time.Minute), "exp": unix(-5 * time.Minute)}), now.Add(5 * time.Minute)},
		{"short token renews at half life", makeJWT(map[string]any{"exp": unix(40 * time.Second)}), now.Add(skew + 20*time.Second)},
		{"fractional exp", makeJWT(map[string]any{"exp": float64(unix(time.Minute)) + 0.5}), now.Add(time.Minute + 500*time.Millisecond)},
		{"exp as string", makeJWT(map[string]any{"exp": "1700000300"}), now.Add(5 * time.Minute)},
		{"no exp", makeJWT(map[string]any{"sub": "x"}), time.Time{}},
		{"exp in the past, no iat", makeJWT(map[string]any{"exp": unix(-time.Minute)}), time.Time{}},
		{"not a JWT", "opaque-token", time.Time{}},
		{"bad base64", "a.!!!.c", time.Time{}},
		{"payload not JSON", "a." + "bm90IGpzb24" + ".c", time.Time{}},
		{"padded segment", strings.Replace(makeJWT(map[string]any{"exp": unix(time.Hour)}), ".c2ln", "==.c2ln", 1), now.Add(time.Hour)},
	}
	for _, tc := range cases {
		got := tokenExpiry(tc.token, now, skew)
		assert.True(t, got.Equal(tc.want), "%s: expiry = %v, want %v", tc.name, got, tc.want)
	}
}

// TestSingleLogin: 100 goroutines that all need a token at once cause exactly one POST /auth.
func TestSingleLogin(t *testing.T) {
	c, mux := setup(t, WithCredentials(testEmail, testPassword))
	var logins atomic.Int64
	release := make(chan struct{})
	mux.HandleFunc("/v1/auth", func(w http.ResponseWriter, r *http.Request) {
		<-release // hold the login until every goroutine is waiting for it
		authHandler(t, &logins, func(int64) string {
			return makeJWT(map[string]any{"exp": time.Now().Add(5 * time.Minute).Unix()})
		})(w, r)
	})
	var tokens sync.Map
	mux.HandleFunc("/v1/payment/", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, "GET")
		apitest.Header(t, r, "x-api-key", testKey)
		tokens.Store(r.Header.Get("Authorization"), true)
		apitest.ServeJSON(w, 200, []byte(`{"data":[],"limit":10,"page":0,"pagesCount":0,"total":0}`))
	})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.ListPaymentsPage(context.Background(), ListPaymentsParams{})
			errs <- err
		}()
	}
	time.Sleep(50 * time.Millisecond) // let the goroutines pile up behind the one login
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, int64(1), logins.Load(), "logins")
	n := 0
	tokens.Range(func(k, _ any) bool { n++; return strings.HasPrefix(k.(string), "Bearer ey") })
	assert.Equal(t, 1, n, "distinct Authorization values")
}

// TestUnauthorizedRelogsInOnce: a 401 makes the client log in again and repeat the call once;
// a second 401 is returned, not looped on.
func TestUnauthorizedRelogsInOnce(t *testing.T) {
	c, mux := setup(t, WithCredentials(testEmail, testPassword))
	var logins, lists atomic.Int64
	mux.HandleFunc("/v1/auth", authHandler(t, &logins, func(n int64) string {
		return makeJWT(map[string]any{"n": n, "exp": time.Now().Add(time.Hour).Unix()})
	}))
	accept := atomic.Int64{} // the login number whose token the list accepts
	mux.HandleFunc("/v1/payment/", func(w http.ResponseWriter, r *http.Request) {
		lists.Add(1)
		if !tokenNumberIs(r, accept.Load()) {
			apitest.ServeJSON(w, 401, []byte(`{"statusCode":401,"code":"AUTH_REQUIRED","message":"jwt expired"}`))
			return
		}
		apitest.ServeJSON(w, 200, []byte(`{"data":[],"limit":10,"page":0,"pagesCount":0,"total":0}`))
	})
	ctx := context.Background()
	accept.Store(1)
	_, err := c.ListPaymentsPage(ctx, ListPaymentsParams{})
	require.NoError(t, err)
	accept.Store(2) // the server revokes token 1
	_, err = c.ListPaymentsPage(ctx, ListPaymentsParams{})
	require.NoError(t, err)
	// One 401, one re-login, one retry.
	assert.Equal(t, int64(2), logins.Load(), "logins")
	assert.Equal(t, int64(3), lists.Load(), "lists")
	accept.Store(-1) // nothing is accepted any more
	_, err = c.ListPaymentsPage(ctx, ListPaymentsParams{})
	var apiErr *paykit.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, CodeAuthRequired, apiErr.Code, "err = %v", err)
	// Exactly one more login and one retry.
	assert.Equal(t, int64(3), logins.Load(), "logins")
	assert.Equal(t, int64(5), lists.Load(), "lists")
}

// tokenNumberIs reports whether the request's Bearer JWT carries the claim n == want.
func tokenNumberIs(r *http.Request, want int64) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	parts := strings.Split(tok, ".")
	if !ok || len(parts) != 3 {
		return false
	}
	var claims struct{ N int64 }
	return json.Unmarshal([]byte(decodeSeg(parts[1])), &claims) == nil && claims.N == want
}

func TestJWTEndpointsNeedCredentials(t *testing.T) {
	c, _ := setup(t) // no credentials; the mux fails the test on any request
	ctx := context.Background()
	_, err := c.ListPaymentsPage(ctx, ListPaymentsParams{})
	assert.ErrorIs(t, err, ErrCredentialsRequired, "ListPaymentsPage")
	assert.Contains(t, err.Error(), "WithCredentials", "ListPaymentsPage: %v", err)
	for _, err := range c.ListPayments(ctx, ListPaymentsParams{}) {
		assert.ErrorIs(t, err, ErrCredentialsRequired, "ListPayments")
	}
	_, err = c.FindPaymentByOrderID(ctx, "A-1", time.Time{})
	assert.ErrorIs(t, err, ErrCredentialsRequired, "FindPaymentByOrderID")
	_, err = c.CreatePaymentOnce(ctx, CreatePaymentParams{PriceAmount: dec("1"), PriceCurrency: "usd", PayCurrency: "btc", OrderID: "A-1"}, OnceOptions{})
	assert.ErrorIs(t, err, ErrCredentialsRequired, "CreatePaymentOnce")
}

// TestSecretsNeverLeak: a server that echoes every credential back in its error bodies must
// not get the password, the API key or the JWT into an error string or a log line.
func TestSecretsNeverLeak(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, mux := setup(t, WithCredentials(testEmail, testPassword), WithLogger(logger), WithMaxRetries(1))
	token := makeJWT(map[string]any{"exp": time.Now().Add(time.Hour).Unix()})
	deny := true
	mux.HandleFunc("/v1/auth", func(w http.ResponseWriter, r *http.Request) {
		if deny {
			apitest.ServeJSON(w, 403, []byte(`{"statusCode":403,"code":"ACCESS_DENIED","message":"wrong password `+testPassword+` for `+testEmail+`"}`))
			return
		}
		apitest.ServeJSON(w, 200, []byte(`{"token":"`+token+`"}`))
	})
	mux.HandleFunc("/v1/payment/", func(w http.ResponseWriter, r *http.Request) {
		apitest.ServeJSON(w, 500, []byte(`{"statusCode":500,"code":"INTERNAL","message":"headers: `+
			r.Header.Get("x-api-key")+` `+r.Header.Get("Authorization")+`"}`))
	})
	ctx := context.Background()
	_, err1 := c.ListPaymentsPage(ctx, ListPaymentsParams{})
	var apiErr *paykit.Error
	require.ErrorAs(t, err1, &apiErr, "bad login")
	require.Equal(t, CodeAccessDenied, apiErr.Code, "bad login: err = %v", err1)
	deny = false
	_, err2 := c.ListPaymentsPage(ctx, ListPaymentsParams{})
	require.ErrorAs(t, err2, &apiErr)
	require.Equal(t, 500, apiErr.Status, "err = %v, want the 500", err2)
	for _, secret := range []string{testPassword, testKey, token} {
		for name, text := range map[string]string{"bad-login error": err1.Error(), "500 error": err2.Error(),
			"error body": string(apiErr.Body), "logs": logs.String()} {
			assert.NotContains(t, text, secret, "%s contains a secret", name)
		}
	}
	assert.Contains(t, err2.Error(), "[REDACTED]", "expected redaction marker in %q", err2)
}
