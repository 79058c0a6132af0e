package pepay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
)

// testJWT is the dashboard token used against httptest muxes; tests check it never leaks.
const testJWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtZXJjaGFudCJ9.c2VjcmV0LWp3dC1zaWduYXR1cmU"

// testDashboardAuth checks the JWT is sent as a Bearer token and the API key is not sent.
func testDashboardAuth(t *testing.T, r *http.Request) {
	t.Helper()
	apitest.Header(t, r, "Authorization", "Bearer "+testJWT)
	assert.Empty(t, r.Header.Get("x-api-key"), "account route carried x-api-key")
}

// With both credentials, invoice routes keep the key and account routes send only the JWT.
func TestDashboardToken_requests(t *testing.T) {
	c, mux := setup(t, pepay.WithDashboardToken(testJWT))
	mux.HandleFunc("/api/v1/invoices/{id}/status", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, http.MethodGet)
		testMerchantAuth(t, r)
		apitest.ServeFixture(t, w, 200, "invoice_status.json")
	})
	mux.HandleFunc("/api/v1/user/mainnet-access/status", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, http.MethodGet)
		testDashboardAuth(t, r)
		apitest.Query(t, r, nil)
		fmt.Fprint(w, `{"success":true,"data":{"has_mainnet_access":true,"current_environment":"devnet"}}`)
	})
	mux.HandleFunc("/api/v1/user/environment", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, http.MethodPut)
		testDashboardAuth(t, r)
		apitest.Header(t, r, "Content-Type", "application/json")
		apitest.JSONBody(t, r, []byte(`{"environment":"mainnet"}`))
		fmt.Fprint(w, `{"success":true,"data":{"has_mainnet_access":true,"current_environment":"mainnet"}}`)
	})
	ctx := context.Background()
	_, err := c.GetInvoiceStatus(ctx, "inv_1")
	require.NoError(t, err)
	got, err := c.MainnetAccessStatus(ctx)
	require.NoError(t, err)
	assert.Empty(t, cmp.Diff(&pepay.MainnetAccess{HasMainnetAccess: true, CurrentEnvironment: pepay.EnvironmentDevnet}, got), "MainnetAccessStatus (-want +got)")
	require.True(t, got.CanGoLive(), "CanGoLive %v, NextStep %s", got.CanGoLive(), got.NextStep())
	assert.Equal(t, pepay.GoLiveSwitchEnvironment, got.NextStep(), "CanGoLive %v, NextStep %s", got.CanGoLive(), got.NextStep())
	require.NoError(t, c.SwitchAccountEnvironment(ctx, pepay.EnvironmentMainnet))
}

// A client with only a dashboard token sends it on the invoice routes.
func TestDashboardToken_only(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := pepay.NewClient("", pepay.WithBaseURL(srv.URL), pepay.WithDashboardToken(testJWT))
	require.NoError(t, err)
	mux.HandleFunc("GET /api/v1/invoices/{id}/status", func(w http.ResponseWriter, r *http.Request) {
		testDashboardAuth(t, r)
		apitest.ServeFixture(t, w, 200, "invoice_status.json")
	})
	_, err = c.GetInvoiceStatus(context.Background(), "inv_1")
	require.NoError(t, err)
	err = c.Stream(context.Background(), pepay.StreamParams{}, func(context.Context, *pepay.Event) error { return nil })
	assert.ErrorAs(t, err, new(*paykit.ValidationError), "Stream without a key")
}

// The account routes are refused locally, before sending, without a dashboard token.
func TestDashboardToken_required(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { t.Errorf("request sent: %s %s", r.Method, r.URL) })
	ctx := context.Background()
	_, err := c.MainnetAccessStatus(ctx)
	assert.ErrorIs(t, err, pepay.ErrDashboardTokenRequired, "MainnetAccessStatus")
	assert.ErrorIs(t, c.SwitchAccountEnvironment(ctx, pepay.EnvironmentMainnet), pepay.ErrDashboardTokenRequired, "SwitchAccountEnvironment")
	assert.ErrorAs(t, c.SwitchAccountEnvironment(ctx, "testnet"), new(*paykit.ValidationError), "bad environment")
}

func TestDashboardToken_options(t *testing.T) {
	for name, opt := range map[string]pepay.Option{
		"empty":       pepay.WithDashboardToken(" "),
		"bearer":      pepay.WithDashboardToken("Bearer " + testJWT),
		"newline":     pepay.WithDashboardToken(testJWT + "\n"),
		"nil source":  pepay.WithDashboardTokenSource(nil),
		"key is null": nil,
	} {
		key := testKey
		if opt == nil {
			key = "" // neither a key nor a dashboard token
		}
		_, err := pepay.NewClient(key, opt)
		if !assert.Error(t, err, "%s: accepted", name) {
			continue
		}
		assert.NotContains(t, err.Error(), testJWT, "%s: error leaks a credential: %v", name, err)
		assert.NotContains(t, err.Error(), testKey, "%s: error leaks a credential: %v", name, err)
	}
	_, err := pepay.NewClient(" ", pepay.WithDashboardToken(testJWT))
	assert.Error(t, err, "blank key accepted")
}

// A token source is called lazily and once for concurrent calls; a 401 makes the client fetch a
// new token and retry once.
func TestDashboardTokenSource_refreshOn401(t *testing.T) {
	var fetches atomic.Int32
	src := func(context.Context) (string, time.Time, error) {
		n := fetches.Add(1)
		return fmt.Sprintf("%s-%d", testJWT, n), time.Now().Add(time.Hour), nil
	}
	var mu sync.Mutex
	var seen []string
	c, mux := setup(t, pepay.WithDashboardTokenSource(src))
	mux.HandleFunc("GET /api/v1/user/mainnet-access/status", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.Header.Get("Authorization") == "Bearer "+testJWT+"-1" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"success":false,"error":{"code":"TOKEN_EXPIRED","message":"jwt expired"}}`)
			return
		}
		fmt.Fprint(w, `{"has_mainnet_access":"false","current_environment":"devnet"}`) // unwrapped, string bool
	})
	got, err := c.MainnetAccessStatus(context.Background())
	require.NoError(t, err)
	assert.False(t, got.CanGoLive(), "got %+v", got)
	assert.Equal(t, pepay.GoLiveRequestAccess, got.NextStep(), "got %+v", got)
	want := []string{"Bearer " + testJWT + "-1", "Bearer " + testJWT + "-2"}
	diff := cmp.Diff(want, seen)
	assert.Empty(t, diff, "fetches %d, tokens (-want +got):\n%s", fetches.Load(), diff)
	assert.Equal(t, int32(2), fetches.Load(), "fetches %d, tokens (-want +got):\n%s", fetches.Load(), diff)
	// The refreshed token is cached.
	_, err = c.MainnetAccessStatus(context.Background())
	require.NoError(t, err, "second call: %v, fetches %d", err, fetches.Load())
	assert.Equal(t, int32(2), fetches.Load(), "second call: %v, fetches %d", err, fetches.Load())
}

// Neither the dashboard token nor the key appears in an error or a log line, even when the
// server echoes them back.
func TestDashboardToken_noSecretsInErrorsOrLogs(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, mux := setup(t, pepay.WithDashboardToken(testJWT), pepay.WithLogger(logger), pepay.WithMaxRetries(1))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(map[string]any{"success": false,
			"error": map[string]string{"code": "INTERNAL_ERROR", "message": "bad auth " + r.Header.Get("Authorization") + " / " + testKey}})
	})
	_, err := c.MainnetAccessStatus(context.Background())
	var apiErr *paykit.Error
	require.ErrorAs(t, err, &apiErr, "err = %v", err)
	require.Equal(t, "INTERNAL_ERROR", apiErr.Code, "err = %v", err)
	for what, s := range map[string]string{"error": err.Error(), "body": string(apiErr.Body), "message": apiErr.Message, "logs": logs.String()} {
		for _, secret := range []string{testJWT, testKey} {
			assert.NotContains(t, s, secret, "%s leaks a credential", what)
		}
	}
	assert.Contains(t, logs.String(), "retrying", "retry not logged")
}

// The go-live path against the fake: no access, access granted, environment switched.
func TestMainnetAccess_againstFake(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient(pepay.WithDashboardToken(srv.DashboardToken))
	require.NoError(t, err)
	ctx := context.Background()
	st, err := c.MainnetAccessStatus(ctx)
	require.NoError(t, err, "status = %+v, %v", st, err)
	require.Equal(t, pepay.GoLiveRequestAccess, st.NextStep(), "status = %+v, %v", st, err)
	err = c.SwitchAccountEnvironment(ctx, pepay.EnvironmentMainnet)
	require.True(t, paykit.IsCode(err, "MAINNET_ACCESS_REQUIRED"), "switch without access: %v", err)
	assert.True(t, paykit.IsStatus(err, 403), "switch without access: %v", err)
	srv.SetMainnetAccess(true)
	st, err = c.MainnetAccessStatus(ctx)
	require.NoError(t, err, "status = %+v, %v", st, err)
	require.Equal(t, pepay.GoLiveSwitchEnvironment, st.NextStep(), "status = %+v, %v", st, err)
	require.NoError(t, c.SwitchAccountEnvironment(ctx, pepay.EnvironmentMainnet))
	st, err = c.MainnetAccessStatus(ctx)
	require.NoError(t, err, "status = %+v, %v, fake at %s", st, err, srv.AccountEnvironment())
	require.Equal(t, pepay.GoLiveUseMainnetKey, st.NextStep(), "status = %+v, %v, fake at %s", st, err, srv.AccountEnvironment())
	require.Equal(t, pepay.EnvironmentMainnet, srv.AccountEnvironment(), "status = %+v, %v, fake at %s", st, err, srv.AccountEnvironment())
	var puts int
	for _, r := range srv.Calls() {
		if strings.HasPrefix(r.Path, "/api/v1/user/") {
			assert.Equal(t, "Bearer "+srv.DashboardToken, r.Header.Get("Authorization"), "%s %s: auth headers %v", r.Method, r.Path, r.Header)
			assert.Empty(t, r.Header.Get("x-api-key"), "%s %s: auth headers %v", r.Method, r.Path, r.Header)
			if r.Method == http.MethodPut {
				puts++
				testJSONBodyBytes(t, r.Body, []byte(`{"environment":"mainnet"}`))
			}
		}
	}
	assert.Equal(t, 2, puts, "PUTs, want 2")
	// A wrong token is refused by the fake; a JWT-only client can create invoices.
	bad, _ := srv.NewClient(pepay.WithDashboardToken("eyJ.wrong.token"))
	_, err = bad.MainnetAccessStatus(ctx)
	assert.True(t, paykit.IsCode(err, "TOKEN_INVALID"), "wrong token: %v", err)
	assert.NotContains(t, err.Error(), "eyJ.wrong.token", "wrong token: %v", err)
	jwtOnly, err := pepay.NewClient("", pepay.WithBaseURL(srv.BaseURL), pepay.WithDashboardToken(srv.DashboardToken))
	require.NoError(t, err)
	_, err = jwtOnly.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("3")})
	require.NoError(t, err, "create with JWT: %v", err)
	assert.Equal(t, 1, srv.InvoiceCount(), "create with JWT: %v", err)
}
