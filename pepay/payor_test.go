package pepay_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
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

var sessionHeaders = pepay.PaymentSessionHeaders{SessionToken: "pst_9a8b7c6d5e4f", Signature: "sig_4f1e2d3c4b5a.1767225600123"}

func payorSetup(t *testing.T) (*pepay.PayorClient, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p, err := pepay.NewPayorClient(sessionHeaders, pepay.WithBaseURL(srv.URL), pepay.WithRetryWait(time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	return p, mux
}

func testSessionAuth(t *testing.T, r *http.Request) {
	t.Helper()
	apitest.Header(t, r, "x-session-token", sessionHeaders.SessionToken)
	apitest.Header(t, r, "x-signature", sessionHeaders.Signature)
	assert.Empty(t, r.Header.Get("x-api-key"), "payor request carried merchant credentials")
	assert.Empty(t, r.Header.Get("Authorization"), "payor request carried merchant credentials")
}

func TestPayor_requestsAndFixtures(t *testing.T) {
	p, mux := payorSetup(t)
	mux.HandleFunc("GET /api/v1/payments/session-details", func(w http.ResponseWriter, r *http.Request) {
		testSessionAuth(t, r)
		apitest.Query(t, r, nil)
		apitest.ServeFixture(t, w, 200, "session_details.json")
	})
	mux.HandleFunc("GET /api/v1/payments/available-tokens", func(w http.ResponseWriter, r *http.Request) {
		testSessionAuth(t, r)
		apitest.Query(t, r, map[string]string{"mode": "network", "network": "base", "available_only": "true"})
		apitest.ServeFixture(t, w, 200, "available_tokens.json")
	})
	mux.HandleFunc("POST /api/v1/payments/payment-addresses", func(w http.ResponseWriter, r *http.Request) {
		testSessionAuth(t, r)
		apitest.JSONBody(t, r, []byte(`{"network":"base","tokenId":1}`))
		apitest.ServeFixture(t, w, 200, "payment_address.json")
	})
	mux.HandleFunc("GET /api/v1/payments/payment-status", func(w http.ResponseWriter, r *http.Request) {
		testSessionAuth(t, r)
		fmt.Fprint(w, `{"success":true,"data":{"status":"cancelled","paid_at":null}}`)
	})
	mux.HandleFunc("POST /api/v1/payments/customer-email", func(w http.ResponseWriter, r *http.Request) {
		testSessionAuth(t, r)
		apitest.JSONBody(t, r, []byte(`{"email":"buyer@example.com"}`))
		fmt.Fprint(w, `{"success":true}`)
	})
	ctx := context.Background()

	sd, err := p.SessionDetails(ctx)
	require.NoError(t, err)
	wantSD := &pepay.SessionDetails{
		InvoiceID: "3f6c1e2a-8d4b-4c1f-9e7a-0b2d5c8e1f43", AmountUSD: paykit.MustDecimal("25.000"),
		AmountRemainingUSD: paykit.MustDecimal("15.000"), Description: "Order #1001", ExpiresAt: mustTime(t, "2026-01-01T12:00:00Z"),
		InvoiceStatus: pepay.StatusUnderpaid, RemainingTime: time.Hour, RemainingSeconds: 3600, MerchantName: "Acme",
		NetworkEnvironment: "devnet", LockedNetwork: "base", LockedTokenID: 1, LockedPaymentAddress: "0xdeposit",
	}
	assert.Empty(t, cmp.Diff(wantSD, sd, cmpOpts...), "SessionDetails (-want +got)")

	toks, err := p.AvailableTokens(ctx, pepay.AvailableTokensParams{Mode: pepay.TokenModeNetwork, Network: "base", AvailableOnly: true})
	require.NoError(t, err)
	wantToks := []pepay.Token{
		{ID: 1, TokenSymbol: "USDC", TokenType: "erc20", Network: "base", TokenDecimals: 6, TokenAddress: "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913", AvailabilityStatus: "AVAILABLE"},
		{ID: 3, TokenSymbol: "SOL", TokenType: "native", Network: "solana", TokenDecimals: 9, AvailabilityStatus: "NO_LIQUIDITY", UnavailableReason: "no liquidity"},
	}
	assert.Empty(t, cmp.Diff(wantToks, toks), "AvailableTokens (-want +got)")

	addr, err := p.CreatePaymentAddress(ctx, "base", 1)
	require.NoError(t, err)
	wantAddr := &pepay.PaymentAddress{
		TempAddress: "0xdeposit", Network: "base", SupportedTokenID: 1, EstimatedTokenAmount: paykit.MustDecimal("15.000000"),
		ExchangeRate: paykit.MustDecimal("1.0001"), USDAmount: paykit.MustDecimal("15"), QuoteStatus: "active", StatusCode: "200",
		QuoteValidUntil: time.Unix(1767226200, 0).UTC(), QuoteExpiresIn: 300 * time.Second,
		WSConnection: pepay.WSConnection{Token: "eyJwYXlvciJ9.e30.c2ln", Endpoint: "/ws/payment", Format: "event_v1", WSURL: "wss://api-beta.pepay.io/ws/payment"},
	}
	assert.Empty(t, cmp.Diff(wantAddr, addr, cmpOpts...), "CreatePaymentAddress (-want +got)")

	st, err := p.PaymentStatus(ctx)
	require.NoError(t, err, "PaymentStatus = %+v, %v", st, err)
	assert.Equal(t, pepay.StatusCanceled, st.Status, "PaymentStatus = %+v, %v", st, err)
	assert.True(t, st.PaidAt.IsZero(), "PaymentStatus = %+v, %v", st, err)
	assert.NoError(t, p.SetCustomerEmail(ctx, "buyer@example.com"))
}

func TestPayor_validation(t *testing.T) {
	p, mux := payorSetup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { t.Errorf("request sent: %s", r.URL) })
	ctx := context.Background()
	for name, err := range map[string]error{
		"mode": func() error { _, err := p.AvailableTokens(ctx, pepay.AvailableTokensParams{Mode: "cheap"}); return err }(),
		"network": func() error {
			_, err := p.AvailableTokens(ctx, pepay.AvailableTokensParams{Mode: pepay.TokenModeNetwork})
			return err
		}(),
		"address": func() error { _, err := p.CreatePaymentAddress(ctx, "", 1); return err }(),
		"token":   func() error { _, err := p.CreatePaymentAddress(ctx, "base", 0); return err }(),
		"email":   p.SetCustomerEmail(ctx, "not an email"),
	} {
		assert.ErrorAs(t, err, new(*paykit.ValidationError), "%s", name)
	}
	for _, h := range []pepay.PaymentSessionHeaders{{}, {SessionToken: "pst_x"}, {SessionToken: "pst x", Signature: "sig"}} {
		_, err := pepay.NewPayorClient(h)
		assert.Error(t, err, "headers %+v accepted", h)
	}
}

// Against the fake, which answers 403 to any payor request carrying x-api-key: both ways of
// making a payor client stay browser-safe.
func TestPayor_againstFake(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	ctx := context.Background()
	created, err := c.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("25")})
	require.NoError(t, err)
	standalone, err := pepay.NewPayorClient(created.PaymentSessionHeaders, pepay.WithBaseURL(srv.BaseURL))
	require.NoError(t, err)
	shared, err := c.PayorSession(created.PaymentSessionHeaders)
	require.NoError(t, err)
	for name, p := range map[string]*pepay.PayorClient{"NewPayorClient": standalone, "Client.PayorSession": shared} {
		sd, err := p.SessionDetails(ctx)
		require.NoError(t, err, "%s: SessionDetails = %+v, %v", name, sd, err)
		assert.Equal(t, created.InvoiceID, sd.InvoiceID, "%s: SessionDetails = %+v, %v", name, sd, err)
		assert.Equal(t, pepay.StatusUnpaid, sd.InvoiceStatus, "%s: SessionDetails = %+v, %v", name, sd, err)
		assert.Equal(t, "25.000", sd.AmountUSD.String(), "%s: SessionDetails = %+v, %v", name, sd, err)
	}
	toks, err := shared.AvailableTokens(ctx, pepay.AvailableTokensParams{Mode: pepay.TokenModeAll, AvailableOnly: true})
	require.NoError(t, err, "tokens = %+v, %v", toks, err)
	require.Len(t, toks, 2, "tokens = %+v, %v", toks, err)
	addr, err := standalone.CreatePaymentAddress(ctx, toks[0].Network, toks[0].ID)
	require.NoError(t, err, "address = %+v, %v", addr, err)
	require.NotEmpty(t, addr.TempAddress, "address = %+v, %v", addr, err)
	require.Equal(t, 300*time.Second, addr.QuoteExpiresIn, "address = %+v, %v", addr, err)
	require.Equal(t, "25.000", addr.USDAmount.String(), "address = %+v, %v", addr, err)
	err = standalone.SetCustomerEmail(ctx, "buyer@example.com")
	require.NoError(t, err, "email: %v, stored %q", err, srv.CustomerEmail(created.InvoiceID))
	assert.Equal(t, "buyer@example.com", srv.CustomerEmail(created.InvoiceID), "email: %v, stored %q", err, srv.CustomerEmail(created.InvoiceID))
	_, _ = srv.Cancel(ctx, created.InvoiceID)
	st, err := standalone.PaymentStatus(ctx)
	require.NoError(t, err, "status = %+v, %v", st, err)
	assert.Equal(t, pepay.StatusCanceled, st.Status, "status = %+v, %v", st, err) // the fake spells it "cancelled"
	for _, r := range srv.Calls() {
		if len(r.Path) > 17 && r.Path[:17] == "/api/v1/payments/" && r.Header.Get("x-api-key") != "" {
			t.Errorf("payor request %s carried x-api-key", r.Path)
		}
	}
	// A wrong signature is refused.
	bad, _ := pepay.NewPayorClient(pepay.PaymentSessionHeaders{SessionToken: created.SessionToken, Signature: "sig_forged"}, pepay.WithBaseURL(srv.BaseURL))
	_, err = bad.SessionDetails(ctx)
	assert.True(t, paykit.IsStatus(err, http.StatusForbidden), "forged signature: %v", err)
	assert.ErrorAs(t, err, new(*paykit.Error), "forged signature: %v", err)
}
