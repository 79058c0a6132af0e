package pepay_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/idempotency"
	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
)

func fullParams() pepay.CreateInvoiceParams {
	return pepay.CreateInvoiceParams{
		AmountUSD:               paykit.MustDecimal("25.00"),
		Description:             "Order #1001",
		CustomerID:              "cus_42",
		CustomerEmail:           "buyer@example.com",
		Metadata:                pepay.Metadata{"order_id": "1001", "items": 2},
		ExpiresIn:               time.Hour,
		InvoiceTitle:            "Acme",
		InvoiceFooter:           "Thanks!",
		PaymentReturnURL:        "https://shop.example.com/thanks",
		PaymentReturnURLEnabled: ptr(true),
		ReceiverOverrideEnable:  true,
		ReceiverOverrideAddress: "0x1111111111111111111111111111111111111111",
		Questions:               []pepay.Question{{ID: "q1", Question: "Shipping notes?", Type: "text"}},
		OrderRef:                "order-1001",
	}
}

func TestCreateInvoice_request(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/api/v1/invoices", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, http.MethodPost)
		testMerchantAuth(t, r)
		apitest.Header(t, r, "Content-Type", "application/json")
		apitest.Header(t, r, "Idempotency-Key", idempotency.UUID("pepay-invoice", "order-1001"))
		apitest.Header(t, r, "User-Agent", "paykit-go/"+paykit.Version+" (pepay)")
		apitest.Query(t, r, nil)
		apitest.JSONBody(t, r, apitest.Fixture(t, "create_invoice_request.json"))
		apitest.ServeFixture(t, w, http.StatusCreated, "create_invoice_response.json")
	})
	got, err := c.CreateInvoice(context.Background(), fullParams())
	require.NoError(t, err)
	hdr := pepay.PaymentSessionHeaders{SessionToken: "pst_9a8b7c6d5e4f", Signature: "sig_4f1e2d3c4b5a.1767225600123"}
	want := &pepay.CreatedInvoice{
		InvoiceID:             "3f6c1e2a-8d4b-4c1f-9e7a-0b2d5c8e1f43",
		PaymentURL:            "https://pay.pepay.io/i/3f6c1e2a-8d4b-4c1f-9e7a-0b2d5c8e1f43",
		ExpiresAt:             time.Unix(1767268800, 0).UTC(),
		SessionToken:          hdr.SessionToken,
		Signature:             hdr.Signature,
		PaymentSessionHeaders: hdr,
		IdempotencyKey:        pepay.InvoiceKeyForOrder("order-1001"),
	}
	assert.Empty(t, cmp.Diff(want, got, cmpOpts...), "CreateInvoice mismatch (-want +got)")
}

func TestCreateInvoice_minimalBodyAndKeys(t *testing.T) {
	c, mux := setup(t)
	var keys []string
	mux.HandleFunc("POST /api/v1/invoices", func(w http.ResponseWriter, r *http.Request) {
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		apitest.JSONBody(t, r, []byte(`{"amount_usd":0.01}`))
		apitest.ServeFixture(t, w, http.StatusOK, "create_invoice_response.json")
	})
	ctx := context.Background()
	given := "0f8fad5b-d9cb-469f-a165-70867728950e"
	for _, p := range []pepay.CreateInvoiceParams{
		{AmountUSD: paykit.MustDecimal("0.01")},
		{AmountUSD: paykit.MustDecimal("0.01")},
		{AmountUSD: paykit.MustDecimal("0.01"), IdempotencyKey: given},
	} {
		got, err := c.CreateInvoice(ctx, p)
		require.NoError(t, err)
		assert.Equal(t, keys[len(keys)-1], got.IdempotencyKey, "returned key")
	}
	for _, k := range keys[:2] {
		err := idempotency.ValidateUUID(k)
		require.NoError(t, err, "generated key %q is not a v4 UUID: %v", k, err)
		assert.Equal(t, byte('4'), k[14], "generated key %q is not a v4 UUID: %v", k, err)
	}
	assert.NotEqual(t, keys[1], keys[0], "two creates without OrderRef shared a random key")
	assert.Equal(t, given, keys[2], "caller key not used")
}

func TestCreateInvoice_validation(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request sent for invalid params: %s %s", r.Method, r.URL)
	})
	long := strings.Repeat("x", 256)
	ok := func() pepay.CreateInvoiceParams {
		return pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("10")}
	}
	tests := []struct {
		name  string
		edit  func(*pepay.CreateInvoiceParams)
		field string
	}{
		{"zero amount", func(p *pepay.CreateInvoiceParams) { p.AmountUSD = paykit.Decimal{} }, "amount_usd"},
		{"negative", func(p *pepay.CreateInvoiceParams) { p.AmountUSD = paykit.MustDecimal("-1") }, "amount_usd"},
		{"below min", func(p *pepay.CreateInvoiceParams) { p.AmountUSD = paykit.MustDecimal("0.009") }, "amount_usd"},
		{"above max", func(p *pepay.CreateInvoiceParams) { p.AmountUSD = paykit.MustDecimal("1000000.001") }, "amount_usd"},
		{"sub-milli", func(p *pepay.CreateInvoiceParams) { p.AmountUSD = paykit.MustDecimal("10.0001") }, "amount_usd"},
		{"description", func(p *pepay.CreateInvoiceParams) { p.Description = long }, "description"},
		{"customer id", func(p *pepay.CreateInvoiceParams) { p.CustomerID = long }, "customer_id"},
		{"title", func(p *pepay.CreateInvoiceParams) { p.InvoiceTitle = long }, "invoice_title"},
		{"footer", func(p *pepay.CreateInvoiceParams) { p.InvoiceFooter = long }, "invoice_footer"},
		{"control char", func(p *pepay.CreateInvoiceParams) { p.Description = "a\x00b" }, "description"},
		{"email", func(p *pepay.CreateInvoiceParams) { p.CustomerEmail = "Buyer <b@example.com>" }, "customer_email"},
		{"expires zero ms", func(p *pepay.CreateInvoiceParams) { p.ExpiresIn = time.Microsecond }, "expires_in"},
		{"expires fraction", func(p *pepay.CreateInvoiceParams) { p.ExpiresIn = time.Millisecond + time.Microsecond }, "expires_in"},
		{"expires > 30d", func(p *pepay.CreateInvoiceParams) { p.ExpiresIn = pepay.MaxExpiresIn + time.Millisecond }, "expires_in"},
		{"expires negative", func(p *pepay.CreateInvoiceParams) { p.ExpiresIn = -time.Second }, "expires_in"},
		{"metadata size", func(p *pepay.CreateInvoiceParams) { p.Metadata = pepay.Metadata{"k": strings.Repeat("v", 505)} }, "metadata"},
		{"metadata unencodable", func(p *pepay.CreateInvoiceParams) { p.Metadata = pepay.Metadata{"k": make(chan int)} }, "metadata"},
		{"return url http", func(p *pepay.CreateInvoiceParams) { p.PaymentReturnURL = "http://shop.example.com" }, "payment_return_url"},
		{"return url long", func(p *pepay.CreateInvoiceParams) { p.PaymentReturnURL = "https://e.com/" + strings.Repeat("a", 2040) }, "payment_return_url"},
		{"override without address", func(p *pepay.CreateInvoiceParams) { p.ReceiverOverrideEnable = true }, "receiver_override_address"},
		{"address without override", func(p *pepay.CreateInvoiceParams) { p.ReceiverOverrideAddress = "0x1" }, "receiver_override_enable"},
		{"six questions", func(p *pepay.CreateInvoiceParams) {
			for i := range 6 {
				p.Questions = append(p.Questions, pepay.Question{ID: fmt.Sprint(i), Question: "?"})
			}
		}, "questions"},
		{"questions size", func(p *pepay.CreateInvoiceParams) {
			p.Questions = []pepay.Question{{ID: "q", Question: strings.Repeat("?", 480)}}
		}, "questions"},
		{"question without id", func(p *pepay.CreateInvoiceParams) { p.Questions = []pepay.Question{{Question: "?"}} }, "questions[0]"},
		{"bad key", func(p *pepay.CreateInvoiceParams) { p.IdempotencyKey = "not-a-uuid" }, "Idempotency-Key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ok()
			tt.edit(&p)
			_, err := c.CreateInvoice(context.Background(), p)
			var ve *paykit.ValidationError
			require.ErrorAs(t, err, &ve, "err, want *ValidationError")
			assert.Equal(t, tt.field, ve.Field, "field (%v)", err)
		})
	}
}

func TestCreateInvoice_boundsAccepted(t *testing.T) {
	c, mux := setup(t)
	var sent []string
	mux.HandleFunc("POST /api/v1/invoices", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Amount    json.Number `json:"amount_usd"`
			ExpiresIn int64       `json:"expires_in"`
		}
		dec := json.NewDecoder(r.Body)
		dec.UseNumber()
		assert.NoError(t, dec.Decode(&body))
		assert.Equal(t, int64(2_592_000_000), body.ExpiresIn, "expires_in")
		sent = append(sent, body.Amount.String())
		apitest.ServeFixture(t, w, http.StatusCreated, "create_invoice_response.json")
	})
	for _, amt := range []string{"0.01", "1000000", "999999.999", "12.3450"} {
		p := pepay.CreateInvoiceParams{
			AmountUSD: paykit.MustDecimal(amt), ExpiresIn: pepay.MaxExpiresIn,
			Metadata:  pepay.Metadata{"k": strings.Repeat("v", 504)}, // exactly 512 bytes serialized
			Questions: []pepay.Question{{ID: "1", Question: "a"}, {ID: "2", Question: "b"}, {ID: "3", Question: "c"}, {ID: "4", Question: "d"}, {ID: "5", Question: "e"}},
		}
		_, err := c.CreateInvoice(context.Background(), p)
		assert.NoError(t, err, "amount %s", amt)
	}
	assert.Empty(t, cmp.Diff([]string{"0.01", "1000000", "999999.999", "12.3450"}, sent), "amounts not sent digit for digit (-want +got)")
}

func TestCreateInvoice_conflict(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("POST /api/v1/invoices", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusConflict)
		fmt.Fprint(w, `{"success":false,"error":{"code":"IDEMPOTENCY_CONFLICT","message":"key reused"}}`)
	})
	_, err := c.CreateInvoice(context.Background(), pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("5")})
	require.ErrorIs(t, err, pepay.ErrIdempotencyConflict, "err, want ErrIdempotencyConflict")
	var apiErr *paykit.Error
	require.ErrorAs(t, err, &apiErr, "wrapped API error = %+v", apiErr)
	assert.Equal(t, 409, apiErr.Status, "wrapped API error = %+v", apiErr)
	assert.Equal(t, "IDEMPOTENCY_CONFLICT", apiErr.Code, "wrapped API error = %+v", apiErr)
	assert.False(t, apiErr.Retryable(), "wrapped API error = %+v", apiErr)
}

// A 500 then success: the retry carries the same key and the fake ends up with one invoice.
func TestCreateInvoice_retryAfter500IsKeyed(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient()
	require.NoError(t, err)
	srv.FailNext(1, http.StatusInternalServerError, 0)
	got, err := c.CreateInvoice(context.Background(), pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("12.5"), OrderRef: "A-1"})
	require.NoError(t, err)
	keys := createKeys(srv)
	require.Len(t, keys, 2, "attempt keys = %q, want two equal to %q", keys, got.IdempotencyKey)
	assert.Equal(t, keys[1], keys[0], "attempt keys = %q, want two equal to %q", keys, got.IdempotencyKey)
	assert.Equal(t, got.IdempotencyKey, keys[0], "attempt keys = %q, want two equal to %q", keys, got.IdempotencyKey)
	assert.Equal(t, 1, srv.InvoiceCount(), "invoices, want 1")
}

// The server creates the invoice but the answer is lost: the keyed retry gets the same invoice.
func TestCreateInvoice_droppedResponseRetriedSafely(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	srv.LoseResponseNext(1)
	ctx := context.Background()
	got, err := c.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("30"), OrderRef: "B-7"})
	require.NoError(t, err)
	require.Equal(t, 1, srv.InvoiceCount(), "invoices, want 1")
	// A later double submit for the same order returns the same invoice too.
	again, err := c.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("30"), OrderRef: "B-7"})
	require.NoError(t, err, "second create = %v, %v; want invoice %s", again, err, got.InvoiceID)
	require.Equal(t, got.InvoiceID, again.InvoiceID, "second create = %v, %v; want invoice %s", again, err, got.InvoiceID)
	// Same order, different amount: a conflict, not a second invoice.
	_, err = c.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("31"), OrderRef: "B-7"})
	require.ErrorIs(t, err, pepay.ErrIdempotencyConflict, "err, want conflict")
	assert.Equal(t, 1, srv.InvoiceCount(), "invoices, want 1")
	keys := createKeys(srv)
	require.Len(t, keys, 4, "keys = %q", keys)
	assert.Equal(t, keys[1], keys[0], "keys = %q", keys)
	assert.Equal(t, keys[2], keys[1], "keys = %q", keys)
	assert.Equal(t, keys[3], keys[2], "keys = %q", keys)
}

// Concurrent double submits of one order make one invoice.
func TestCreateInvoice_concurrentSameOrder(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inv, err := c.CreateInvoice(context.Background(), pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("9.99"), OrderRef: "C-3"})
			if !assert.NoError(t, err) {
				return
			}
			ids[i] = inv.InvoiceID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		require.Equal(t, ids[0], id, "ids differ: %q", ids)
	}
	assert.Equal(t, 1, srv.InvoiceCount(), "invoices")
}

func createKeys(srv *pepaytest.Server) []string {
	var keys []string
	for _, r := range srv.Calls() {
		if r.Method == http.MethodPost && r.Path == "/api/v1/invoices" {
			keys = append(keys, r.Header.Get("Idempotency-Key"))
		}
	}
	return keys
}

func wantInvoice(t *testing.T) *pepay.Invoice {
	id := "3f6c1e2a-8d4b-4c1f-9e7a-0b2d5c8e1f43"
	latest := &pepay.InvoicePayment{
		Object: "invoice_payment", ID: "pay_7", InvoiceID: id, MerchantID: "4242", Status: pepay.PaymentConfirmed,
		SettlementStatus: pepay.SettlementSettled,
		Settlement: &pepay.Settlement{SummaryStatus: pepay.SettlementSettled, Stage: "final", MerchantSettlementID: "9001",
			SettlementTxHash: "0xabc123", Network: "base", Status: pepay.SettlementSettled},
	}
	return &pepay.Invoice{
		Object: "invoice", ID: id, MerchantID: "4242", Status: pepay.StatusPaid, InvoiceType: pepay.InvoiceTypeStandard,
		Currency: "usd", Amount: 25000, AmountPaid: 25000, AmountRemaining: 0,
		AmountDecimal: paykit.MustDecimal("25.000"), AmountPaidDecimal: paykit.MustDecimal("25.000"),
		AmountRemainingDecimal: paykit.MustDecimal("0.000"), AmountUnit: "usd_millis", CustomerID: "cus_42",
		PayerWalletAddress: "0x5eed000000000000000000000000000000000001", PayerWalletNetwork: "base",
		Environment: pepay.EnvironmentMainnet,
		ExpiresAt:   mustTime(t, "2026-01-01T12:00:00Z"), CreatedAt: mustTime(t, "2026-01-01T00:00:00Z"),
		PaidAt: mustTime(t, "2026-01-01T00:05:00Z"), LastPaymentAt: mustTime(t, "2026-01-01T00:05:00Z"),
		Metadata:      pepay.Metadata{"order_id": "1001", "items": json.Number("2")},
		LatestPayment: latest,
		Payments: []pepay.InvoicePayment{{Object: "invoice_payment", ID: "pay_7", InvoiceID: id, MerchantID: "4242",
			Status: pepay.PaymentConfirmed, SettlementStatus: pepay.SettlementSettled}},
	}
}

func TestGetInvoice(t *testing.T) {
	c, mux := setup(t, pepay.WithEnvironment(pepay.EnvironmentMainnet))
	mux.HandleFunc("/api/v1/invoices/3f6c1e2a-8d4b-4c1f-9e7a-0b2d5c8e1f43", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, http.MethodGet)
		testMerchantAuth(t, r)
		apitest.Header(t, r, "Idempotency-Key", "")
		apitest.Query(t, r, map[string]string{"expand": "latest_payment,payments", "payments_limit": "20", "environment": "mainnet"})
		apitest.ServeFixture(t, w, http.StatusOK, "invoice.json")
	})
	got, err := c.GetInvoiceExpanded(context.Background(), "3f6c1e2a-8d4b-4c1f-9e7a-0b2d5c8e1f43",
		pepay.GetInvoiceParams{Expand: []pepay.ExpandField{pepay.ExpandLatestPayment, pepay.ExpandPayments}, PaymentsLimit: 20})
	require.NoError(t, err)
	assert.Empty(t, cmp.Diff(wantInvoice(t), got, cmpOpts...), "GetInvoice mismatch (-want +got)")
}

func TestGetInvoice_tolerantDecoding(t *testing.T) {
	var inv pepay.Invoice
	require.NoError(t, json.Unmarshal(apitest.Fixture(t, "invoice_legacy.json"), &inv))
	want := pepay.Invoice{
		Object: "invoice", ID: "8e1d2c3b-0000-4000-8000-000000000001", MerchantID: "4242", Status: pepay.StatusCanceled,
		Currency: "usd", Amount: 1500, AmountRemaining: 1500, AmountDecimal: paykit.MustDecimal("1.500"),
		AmountRemainingDecimal: paykit.MustDecimal("1.500"), AmountUnit: "usd_millis", Environment: pepay.EnvironmentDevnet,
		ExpiresAt: time.Unix(1767268800, 0).UTC(), CreatedAt: time.Unix(1767225600, 0).UTC(),
	}
	assert.Empty(t, cmp.Diff(want, inv, cmpOpts...), "mismatch (-want +got)")
	assert.True(t, inv.Status.IsTerminal(), "status %q terminal=%v, amount %s", inv.Status, inv.Status.IsTerminal(), inv.Amount)
	assert.Equal(t, "1.500", inv.Amount.String(), "status %q terminal=%v, amount %s", inv.Status, inv.Status.IsTerminal(), inv.Amount)
	// Unknown statuses pass through and are not terminal.
	var s pepay.Status
	err := json.Unmarshal([]byte(`"refunded"`), &s)
	require.NoError(t, err, "unknown status = %q, %v", s, err)
	assert.Equal(t, pepay.Status("refunded"), s, "unknown status = %q, %v", s, err)
	assert.False(t, s.IsTerminal(), "unknown status = %q, %v", s, err)
	// Fractional millis are refused rather than rounded.
	var m pepay.USDMillis
	assert.Error(t, json.Unmarshal([]byte(`25000.5`), &m), "fractional usd_millis accepted")
}

func TestGetInvoice_validation(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { t.Errorf("request sent: %s", r.URL) })
	ctx := context.Background()
	for _, err := range []error{
		func() error { _, err := c.GetInvoice(ctx, ""); return err }(),
		func() error { _, err := c.GetInvoice(ctx, "a\nb"); return err }(),
		func() error {
			_, err := c.GetInvoiceExpanded(ctx, "x", pepay.GetInvoiceParams{Expand: []pepay.ExpandField{"customer"}})
			return err
		}(),
		func() error {
			_, err := c.GetInvoiceExpanded(ctx, "x", pepay.GetInvoiceParams{PaymentsLimit: 101})
			return err
		}(),
		func() error { _, err := c.GetInvoiceStatus(ctx, " "); return err }(),
	} {
		assert.ErrorAs(t, err, new(*paykit.ValidationError), "err, want *ValidationError")
	}
}

func TestGetInvoice_pathEscaped(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/api/v1/invoices/a%2Fb%3Fc/status", r.URL.EscapedPath(), "path")
		apitest.ServeFixture(t, w, http.StatusOK, "invoice_status.json")
	})
	_, err := c.GetInvoiceStatus(context.Background(), "a/b?c")
	require.NoError(t, err)
}

func TestGetInvoiceStatus(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("GET /api/v1/invoices/{id}/status", func(w http.ResponseWriter, r *http.Request) {
		testMerchantAuth(t, r)
		apitest.Query(t, r, nil)
		assert.Equal(t, "3f6c1e2a-8d4b-4c1f-9e7a-0b2d5c8e1f43", r.PathValue("id"), "id")
		apitest.ServeFixture(t, w, http.StatusOK, "invoice_status.json")
	})
	got, err := c.GetInvoiceStatus(context.Background(), "3f6c1e2a-8d4b-4c1f-9e7a-0b2d5c8e1f43")
	require.NoError(t, err)
	want := &pepay.InvoiceStatus{
		Object: "invoice_status",
		Invoice: pepay.Invoice{Object: "invoice", ID: "3f6c1e2a-8d4b-4c1f-9e7a-0b2d5c8e1f43", MerchantID: "4242",
			Status: pepay.StatusPaid, Amount: 25000, AmountPaid: 25000, AmountDecimal: paykit.MustDecimal("25.000"),
			AmountPaidDecimal: paykit.MustDecimal("25.000"), AmountUnit: "usd_millis", Environment: pepay.EnvironmentMainnet,
			PaidAt: time.Unix(1767225900, 0).UTC()},
		LatestPayment: wantInvoice(t).LatestPayment,
	}
	assert.Empty(t, cmp.Diff(want, got, cmpOpts...), "mismatch (-want +got)")
	assert.Equal(t, pepay.StatusPaid, got.Status(), "Status()")
}

func TestListInvoices_pagesAndQuery(t *testing.T) {
	c, mux := setup(t, pepay.WithEnvironment(pepay.EnvironmentDevnet))
	gte := mustTime(t, "2026-01-01T00:00:00Z")
	calls := 0
	mux.HandleFunc("GET /api/v1/invoices", func(w http.ResponseWriter, r *http.Request) {
		testMerchantAuth(t, r)
		want := map[string]string{"limit": "2", "status": "paid,underpaid", "invoice_type": "standard",
			"customer_id": "cus_42", "environment": "devnet", "created_gte": "2026-01-01T00:00:00Z",
			"payer_wallet_network": "base"}
		calls++
		switch calls {
		case 1:
			apitest.Query(t, r, want)
			fmt.Fprint(w, `{"object":"list","data":[{"object":"invoice","id":"i3"},{"object":"invoice","id":"i2"}],"has_more":true}`)
		case 2:
			want["starting_after"] = "i2"
			apitest.Query(t, r, want)
			fmt.Fprint(w, `{"object":"list","data":[{"object":"invoice","id":"i1"}],"has_more":false}`)
		default:
			t.Error("extra page fetched")
		}
	})
	var ids []string
	for inv, err := range c.ListInvoices(context.Background(), pepay.ListInvoicesParams{
		Limit: 2, Status: []pepay.Status{pepay.StatusPaid, pepay.StatusUnderpaid}, InvoiceType: []pepay.InvoiceType{pepay.InvoiceTypeStandard},
		CustomerID: "cus_42", CreatedGTE: gte, PayerWalletNetwork: "base",
	}) {
		require.NoError(t, err)
		ids = append(ids, inv.ID)
	}
	assert.Empty(t, cmp.Diff([]string{"i3", "i2", "i1"}, ids))
}

func TestListInvoices_againstFake(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	ctx := context.Background()
	var created []string
	for i := range 7 {
		cust := "even"
		if i%2 == 1 {
			cust = "odd"
		}
		inv, err := c.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.NewDecimal(int64(100+i), 2), CustomerID: cust})
		require.NoError(t, err)
		created = append(created, inv.InvoiceID)
	}
	_, err := srv.Pay(ctx, created[2])
	require.NoError(t, err)
	collect := func(seq func(func(*pepay.Invoice, error) bool)) []string {
		var out []string
		for inv, err := range seq {
			require.NoError(t, err)
			out = append(out, inv.ID)
		}
		return out
	}
	all := collect(c.ListInvoices(ctx, pepay.ListInvoicesParams{Limit: 3}))
	want := []string{created[6], created[5], created[4], created[3], created[2], created[1], created[0]}
	assert.Empty(t, cmp.Diff(want, all), "ListInvoices newest first (-want +got)")
	newer := collect(c.ListInvoices(ctx, pepay.ListInvoicesParams{Limit: 2, EndingBefore: created[2]}))
	assert.Empty(t, cmp.Diff([]string{created[4], created[3], created[6], created[5]}, newer), "ending_before walk (-want +got)")
	odd := collect(c.ListCustomerInvoices(ctx, "odd", pepay.ListInvoicesParams{Limit: 1}))
	assert.Empty(t, cmp.Diff([]string{created[5], created[3], created[1]}, odd), "customer list (-want +got)")
	paid := collect(c.ListInvoices(ctx, pepay.ListInvoicesParams{Status: []pepay.Status{pepay.StatusPaid}}))
	assert.Empty(t, cmp.Diff([]string{created[2]}, paid), "status filter (-want +got)")
	page, err := c.ListInvoicesPage(ctx, pepay.ListInvoicesParams{Limit: 2, StartingAfter: created[1]})
	require.NoError(t, err, "page = %+v, %v", page, err)
	require.Len(t, page.Data, 1, "page = %+v, %v", page, err)
	assert.False(t, page.HasMore, "page = %+v, %v", page, err)
	assert.Equal(t, created[0], page.Data[0].ID, "page = %+v, %v", page, err)
	totals, err := c.InvoiceTotals(ctx, pepay.InvoiceTotalsParams{})
	require.NoError(t, err)
	n, _ := totals.USDMillis("count")
	assert.Equal(t, pepay.USDMillis(7), n, "count (%v)", totals.Names())
	paidAmt, ok := totals.USDMillis("amount_paid")
	require.True(t, ok, "amount_paid = %d, %v", paidAmt, ok)
	assert.Equal(t, pepay.USDMillis(1020), paidAmt, "amount_paid = %d, %v", paidAmt, ok)
	// Stopping early fetches no further page.
	before := len(srv.Calls())
	for range c.ListInvoices(ctx, pepay.ListInvoicesParams{Limit: 1}) {
		break
	}
	assert.Equal(t, 1, len(srv.Calls())-before, "requests made before the early break, want 1")
}

func TestListInvoices_stuckCursorStops(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("GET /api/v1/invoices", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"object":"list","data":[{"id":"same"}],"has_more":true}`)
	})
	var err error
	n := 0
	for _, e := range c.ListInvoices(context.Background(), pepay.ListInvoicesParams{}) {
		n++
		if e != nil {
			err = e
		}
		require.LessOrEqual(t, n, 5, "iteration did not stop")
	}
	assert.ErrorIs(t, err, paykit.ErrPaginationStuck, "err")
}

func TestListInvoices_errorsAndCustomerPath(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("GET /api/v1/invoices/customer/{id}", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "cus 1", r.PathValue("id"), "customer")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"success":false,"error":{"code":"API_KEY_INVALID","message":"Invalid API key"}}`)
	})
	_, err := c.ListCustomerInvoicesPage(context.Background(), "cus 1", pepay.ListInvoicesParams{})
	assert.True(t, paykit.IsCode(err, "API_KEY_INVALID"), "err = %v", err)
	assert.NotContains(t, err.Error(), testKey, "err = %v", err)
	_, err = c.ListInvoicesPage(context.Background(), pepay.ListInvoicesParams{StartingAfter: "a", EndingBefore: "b"})
	assert.ErrorAs(t, err, new(*paykit.ValidationError), "both cursors")
	_, err = c.ListInvoicesPage(context.Background(), pepay.ListInvoicesParams{Limit: 101})
	assert.ErrorAs(t, err, new(*paykit.ValidationError), "limit 101")
}
