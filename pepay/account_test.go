package pepay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
	if r.Header.Get("x-api-key") != "" {
		t.Error("account route carried x-api-key")
	}
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
	if _, err := c.GetInvoiceStatus(ctx, "inv_1"); err != nil {
		t.Fatal(err)
	}
	got, err := c.MainnetAccessStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&pepay.MainnetAccess{HasMainnetAccess: true, CurrentEnvironment: pepay.EnvironmentDevnet}, got); diff != "" {
		t.Errorf("MainnetAccessStatus (-want +got):\n%s", diff)
	}
	if !got.CanGoLive() || got.NextStep() != pepay.GoLiveSwitchEnvironment {
		t.Errorf("CanGoLive %v, NextStep %s", got.CanGoLive(), got.NextStep())
	}
	if err := c.SwitchAccountEnvironment(ctx, pepay.EnvironmentMainnet); err != nil {
		t.Fatal(err)
	}
}

// A client with only a dashboard token sends it on the invoice routes.
func TestDashboardToken_only(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := pepay.NewClient("", pepay.WithBaseURL(srv.URL), pepay.WithDashboardToken(testJWT))
	if err != nil {
		t.Fatal(err)
	}
	mux.HandleFunc("GET /api/v1/invoices/{id}/status", func(w http.ResponseWriter, r *http.Request) {
		testDashboardAuth(t, r)
		apitest.ServeFixture(t, w, 200, "invoice_status.json")
	})
	if _, err := c.GetInvoiceStatus(context.Background(), "inv_1"); err != nil {
		t.Fatal(err)
	}
	err = c.Stream(context.Background(), pepay.StreamParams{}, func(context.Context, *pepay.Event) error { return nil })
	if !errors.As(err, new(*paykit.ValidationError)) {
		t.Errorf("Stream without a key: %v", err)
	}
}

// The account routes are refused locally, before sending, without a dashboard token.
func TestDashboardToken_required(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { t.Errorf("request sent: %s %s", r.Method, r.URL) })
	ctx := context.Background()
	if _, err := c.MainnetAccessStatus(ctx); !errors.Is(err, pepay.ErrDashboardTokenRequired) {
		t.Errorf("MainnetAccessStatus: %v", err)
	}
	if err := c.SwitchAccountEnvironment(ctx, pepay.EnvironmentMainnet); !errors.Is(err, pepay.ErrDashboardTokenRequired) {
		t.Errorf("SwitchAccountEnvironment: %v", err)
	}
	if err := c.SwitchAccountEnvironment(ctx, "testnet"); !errors.As(err, new(*paykit.ValidationError)) {
		t.Errorf("bad environment: %v", err)
	}
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
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), testJWT) || strings.Contains(err.Error(), testKey) {
			t.Errorf("%s: error leaks a credential: %v", name, err)
		}
	}
	if _, err := pepay.NewClient(" ", pepay.WithDashboardToken(testJWT)); err == nil {
		t.Error("blank key accepted")
	}
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
	if err != nil {
		t.Fatal(err)
	}
	if got.CanGoLive() || got.NextStep() != pepay.GoLiveRequestAccess {
		t.Errorf("got %+v", got)
	}
	want := []string{"Bearer " + testJWT + "-1", "Bearer " + testJWT + "-2"}
	if diff := cmp.Diff(want, seen); diff != "" || fetches.Load() != 2 {
		t.Errorf("fetches %d, tokens (-want +got):\n%s", fetches.Load(), diff)
	}
	// The refreshed token is cached.
	if _, err := c.MainnetAccessStatus(context.Background()); err != nil || fetches.Load() != 2 {
		t.Errorf("second call: %v, fetches %d", err, fetches.Load())
	}
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
	if !errors.As(err, &apiErr) || apiErr.Code != "INTERNAL_ERROR" {
		t.Fatalf("err = %v", err)
	}
	for what, s := range map[string]string{"error": err.Error(), "body": string(apiErr.Body), "message": apiErr.Message, "logs": logs.String()} {
		for _, secret := range []string{testJWT, testKey} {
			if strings.Contains(s, secret) {
				t.Errorf("%s leaks a credential: %s", what, s)
			}
		}
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("retry not logged: %s", logs.String())
	}
}

// The go-live path against the fake: no access, access granted, environment switched.
func TestMainnetAccess_againstFake(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient(pepay.WithDashboardToken(srv.DashboardToken))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := c.MainnetAccessStatus(ctx)
	if err != nil || st.NextStep() != pepay.GoLiveRequestAccess {
		t.Fatalf("status = %+v, %v", st, err)
	}
	if err := c.SwitchAccountEnvironment(ctx, pepay.EnvironmentMainnet); !paykit.IsCode(err, "MAINNET_ACCESS_REQUIRED") || !paykit.IsStatus(err, 403) {
		t.Errorf("switch without access: %v", err)
	}
	srv.SetMainnetAccess(true)
	if st, err = c.MainnetAccessStatus(ctx); err != nil || st.NextStep() != pepay.GoLiveSwitchEnvironment {
		t.Fatalf("status = %+v, %v", st, err)
	}
	if err := c.SwitchAccountEnvironment(ctx, pepay.EnvironmentMainnet); err != nil {
		t.Fatal(err)
	}
	if st, err = c.MainnetAccessStatus(ctx); err != nil || st.NextStep() != pepay.GoLiveUseMainnetKey || srv.AccountEnvironment() != pepay.EnvironmentMainnet {
		t.Fatalf("status = %+v, %v, fake at %s", st, err, srv.AccountEnvironment())
	}
	var puts int
	for _, r := range srv.Calls() {
		if strings.HasPrefix(r.Path, "/api/v1/user/") {
			if r.Header.Get("Authorization") != "Bearer "+srv.DashboardToken || r.Header.Get("x-api-key") != "" {
				t.Errorf("%s %s: auth headers %v", r.Method, r.Path, r.Header)
			}
			if r.Method == http.MethodPut {
				puts++
				testJSONBodyBytes(t, r.Body, []byte(`{"environment":"mainnet"}`))
			}
		}
	}
	if puts != 2 {
		t.Errorf("%d PUTs, want 2", puts)
	}
	// A wrong token is refused by the fake; a JWT-only client can create invoices.
	bad, _ := srv.NewClient(pepay.WithDashboardToken("eyJ.wrong.token"))
	if _, err := bad.MainnetAccessStatus(ctx); !paykit.IsCode(err, "TOKEN_INVALID") || strings.Contains(err.Error(), "eyJ.wrong.token") {
		t.Errorf("wrong token: %v", err)
	}
	jwtOnly, err := pepay.NewClient("", pepay.WithBaseURL(srv.BaseURL), pepay.WithDashboardToken(srv.DashboardToken))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jwtOnly.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("3")}); err != nil || srv.InvoiceCount() != 1 {
		t.Errorf("create with JWT: %v", err)
	}
}
