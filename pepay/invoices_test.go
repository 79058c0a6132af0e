package pepay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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
	if err != nil {
		t.Fatal(err)
	}
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
	if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
		t.Errorf("CreateInvoice mismatch (-want +got):\n%s", diff)
	}
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
		if err != nil {
			t.Fatal(err)
		}
		if got.IdempotencyKey != keys[len(keys)-1] {
			t.Errorf("returned key %q, sent %q", got.IdempotencyKey, keys[len(keys)-1])
		}
	}
	for _, k := range keys[:2] {
		if err := idempotency.ValidateUUID(k); err != nil || k[14] != '4' {
			t.Errorf("generated key %q is not a v4 UUID: %v", k, err)
		}
	}
	if keys[0] == keys[1] {
		t.Error("two creates without OrderRef shared a random key")
	}
	if keys[2] != given {
		t.Errorf("caller key not used: %q", keys[2])
	}
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
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			if ve.Field != tt.field {
				t.Errorf("field = %q, want %q (%v)", ve.Field, tt.field, err)
			}
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
		if err := dec.Decode(&body); err != nil {
			t.Error(err)
		}
		if body.ExpiresIn != 2_592_000_000 {
			t.Errorf("expires_in = %d", body.ExpiresIn)
		}
		sent = append(sent, body.Amount.String())
		apitest.ServeFixture(t, w, http.StatusCreated, "create_invoice_response.json")
	})
	for _, amt := range []string{"0.01", "1000000", "999999.999", "12.3450"} {
		p := pepay.CreateInvoiceParams{
			AmountUSD: paykit.MustDecimal(amt), ExpiresIn: pepay.MaxExpiresIn,
			Metadata:  pepay.Metadata{"k": strings.Repeat("v", 504)}, // exactly 512 bytes serialized
			Questions: []pepay.Question{{ID: "1", Question: "a"}, {ID: "2", Question: "b"}, {ID: "3", Question: "c"}, {ID: "4", Question: "d"}, {ID: "5", Question: "e"}},
		}
		if _, err := c.CreateInvoice(context.Background(), p); err != nil {
			t.Errorf("amount %s: %v", amt, err)
		}
	}
	if diff := cmp.Diff([]string{"0.01", "1000000", "999999.999", "12.3450"}, sent); diff != "" {
		t.Errorf("amounts not sent digit for digit (-want +got):\n%s", diff)
	}
}

func TestCreateInvoice_conflict(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("POST /api/v1/invoices", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusConflict)
		fmt.Fprint(w, `{"success":false,"error":{"code":"IDEMPOTENCY_CONFLICT","message":"key reused"}}`)
	})
	_, err := c.CreateInvoice(context.Background(), pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("5")})
	if !errors.Is(err, pepay.ErrIdempotencyConflict) {
		t.Fatalf("err = %v, want ErrIdempotencyConflict", err)
	}
	var apiErr *paykit.Error
	if !errors.As(err, &apiErr) || apiErr.Status != 409 || apiErr.Code != "IDEMPOTENCY_CONFLICT" || apiErr.Retryable() {
		t.Errorf("wrapped API error = %+v", apiErr)
	}
}

// A 500 then success: the retry carries the same key and the fake ends up with one invoice.
func TestCreateInvoice_retryAfter500IsKeyed(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNext(1, http.StatusInternalServerError, 0)
	got, err := c.CreateInvoice(context.Background(), pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("12.5"), OrderRef: "A-1"})
	if err != nil {
		t.Fatal(err)
	}
	keys := createKeys(srv)
	if len(keys) != 2 || keys[0] != keys[1] || keys[0] != got.IdempotencyKey {
		t.Errorf("attempt keys = %q, want two equal to %q", keys, got.IdempotencyKey)
	}
	if n := srv.InvoiceCount(); n != 1 {
		t.Errorf("invoices = %d, want 1", n)
	}
}

// The server creates the invoice but the answer is lost: the keyed retry gets the same invoice.
func TestCreateInvoice_droppedResponseRetriedSafely(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	srv.LoseResponseNext(1)
	ctx := context.Background()
	got, err := c.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("30"), OrderRef: "B-7"})
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.InvoiceCount(); n != 1 {
		t.Fatalf("invoices = %d, want 1", n)
	}
	// A later double submit for the same order returns the same invoice too.
	again, err := c.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("30"), OrderRef: "B-7"})
	if err != nil || again.InvoiceID != got.InvoiceID {
		t.Fatalf("second create = %v, %v; want invoice %s", again, err, got.InvoiceID)
	}
	// Same order, different amount: a conflict, not a second invoice.
	_, err = c.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("31"), OrderRef: "B-7"})
	if !errors.Is(err, pepay.ErrIdempotencyConflict) {
		t.Fatalf("err = %v, want conflict", err)
	}
	if n := srv.InvoiceCount(); n != 1 {
		t.Errorf("invoices = %d, want 1", n)
	}
	if keys := createKeys(srv); len(keys) != 4 || keys[0] != keys[1] || keys[1] != keys[2] || keys[2] != keys[3] {
		t.Errorf("keys = %q", keys)
	}
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
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = inv.InvoiceID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("ids differ: %q", ids)
		}
	}
	if srv.InvoiceCount() != 1 {
		t.Errorf("invoices = %d", srv.InvoiceCount())
	}
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
	got, err := c.GetInvoice(context.Background(), "3f6c1e2a-8d4b-4c1f-9e7a-0b2d5c8e1f43",
		pepay.Expand(pepay.ExpandLatestPayment, pepay.ExpandPayments), pepay.PaymentsLimit(20))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantInvoice(t), got, cmpOpts...); diff != "" {
		t.Errorf("GetInvoice mismatch (-want +got):\n%s", diff)
	}
}

func TestGetInvoice_tolerantDecoding(t *testing.T) {
	var inv pepay.Invoice
	if err := json.Unmarshal(apitest.Fixture(t, "invoice_legacy.json"), &inv); err != nil {
		t.Fatal(err)
	}
	want := pepay.Invoice{
		Object: "invoice", ID: "8e1d2c3b-0000-4000-8000-000000000001", MerchantID: "4242", Status: pepay.StatusCanceled,
		Currency: "usd", Amount: 1500, AmountRemaining: 1500, AmountDecimal: paykit.MustDecimal("1.500"),
		AmountRemainingDecimal: paykit.MustDecimal("1.500"), AmountUnit: "usd_millis", Environment: pepay.EnvironmentDevnet,
		ExpiresAt: time.Unix(1767268800, 0).UTC(), CreatedAt: time.Unix(1767225600, 0).UTC(),
	}
	if diff := cmp.Diff(want, inv, cmpOpts...); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if !inv.Status.IsTerminal() || inv.Amount.String() != "1.500" {
		t.Errorf("status %q terminal=%v, amount %s", inv.Status, inv.Status.IsTerminal(), inv.Amount)
	}
	// Unknown statuses pass through and are not terminal.
	var s pepay.Status
	if err := json.Unmarshal([]byte(`"refunded"`), &s); err != nil || s != "refunded" || s.IsTerminal() {
		t.Errorf("unknown status = %q, %v", s, err)
	}
	// Fractional millis are refused rather than rounded.
	var m pepay.USDMillis
	if err := json.Unmarshal([]byte(`25000.5`), &m); err == nil {
		t.Error("fractional usd_millis accepted")
	}
}

func TestGetInvoice_validation(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { t.Errorf("request sent: %s", r.URL) })
	ctx := context.Background()
	for _, err := range []error{
		func() error { _, err := c.GetInvoice(ctx, ""); return err }(),
		func() error { _, err := c.GetInvoice(ctx, "a\nb"); return err }(),
		func() error { _, err := c.GetInvoice(ctx, "x", pepay.Expand("customer")); return err }(),
		func() error { _, err := c.GetInvoice(ctx, "x", pepay.PaymentsLimit(101)); return err }(),
		func() error { _, err := c.GetInvoiceStatus(ctx, " "); return err }(),
	} {
		if !errors.As(err, new(*paykit.ValidationError)) {
			t.Errorf("err = %v, want *ValidationError", err)
		}
	}
}

func TestGetInvoice_pathEscaped(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.EscapedPath() != "/api/v1/invoices/a%2Fb%3Fc/status" {
			t.Errorf("path = %s", r.URL.EscapedPath())
		}
		apitest.ServeFixture(t, w, http.StatusOK, "invoice_status.json")
	})
	if _, err := c.GetInvoiceStatus(context.Background(), "a/b?c"); err != nil {
		t.Fatal(err)
	}
}

func TestGetInvoiceStatus(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("GET /api/v1/invoices/{id}/status", func(w http.ResponseWriter, r *http.Request) {
		testMerchantAuth(t, r)
		apitest.Query(t, r, nil)
		if r.PathValue("id") != "3f6c1e2a-8d4b-4c1f-9e7a-0b2d5c8e1f43" {
			t.Errorf("id = %s", r.PathValue("id"))
		}
		apitest.ServeFixture(t, w, http.StatusOK, "invoice_status.json")
	})
	got, err := c.GetInvoiceStatus(context.Background(), "3f6c1e2a-8d4b-4c1f-9e7a-0b2d5c8e1f43")
	if err != nil {
		t.Fatal(err)
	}
	want := &pepay.InvoiceStatus{
		Object: "invoice_status",
		Invoice: pepay.Invoice{Object: "invoice", ID: "3f6c1e2a-8d4b-4c1f-9e7a-0b2d5c8e1f43", MerchantID: "4242",
			Status: pepay.StatusPaid, Amount: 25000, AmountPaid: 25000, AmountDecimal: paykit.MustDecimal("25.000"),
			AmountPaidDecimal: paykit.MustDecimal("25.000"), AmountUnit: "usd_millis", Environment: pepay.EnvironmentMainnet,
			PaidAt: time.Unix(1767225900, 0).UTC()},
		LatestPayment: wantInvoice(t).LatestPayment,
	}
	if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if got.Status() != pepay.StatusPaid {
		t.Errorf("Status() = %s", got.Status())
	}
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
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inv.ID)
	}
	if diff := cmp.Diff([]string{"i3", "i2", "i1"}, ids); diff != "" {
		t.Error(diff)
	}
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
		if err != nil {
			t.Fatal(err)
		}
		created = append(created, inv.InvoiceID)
	}
	if _, err := srv.Pay(ctx, created[2]); err != nil {
		t.Fatal(err)
	}
	collect := func(seq func(func(*pepay.Invoice, error) bool)) []string {
		var out []string
		for inv, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, inv.ID)
		}
		return out
	}
	all := collect(c.ListInvoices(ctx, pepay.ListInvoicesParams{Limit: 3}))
	want := []string{created[6], created[5], created[4], created[3], created[2], created[1], created[0]}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("ListInvoices newest first (-want +got):\n%s", diff)
	}
	newer := collect(c.ListInvoices(ctx, pepay.ListInvoicesParams{Limit: 2, EndingBefore: created[2]}))
	if diff := cmp.Diff([]string{created[4], created[3], created[6], created[5]}, newer); diff != "" {
		t.Errorf("ending_before walk (-want +got):\n%s", diff)
	}
	odd := collect(c.ListCustomerInvoices(ctx, "odd", pepay.ListInvoicesParams{Limit: 1}))
	if diff := cmp.Diff([]string{created[5], created[3], created[1]}, odd); diff != "" {
		t.Errorf("customer list (-want +got):\n%s", diff)
	}
	paid := collect(c.ListInvoices(ctx, pepay.ListInvoicesParams{Status: []pepay.Status{pepay.StatusPaid}}))
	if diff := cmp.Diff([]string{created[2]}, paid); diff != "" {
		t.Errorf("status filter (-want +got):\n%s", diff)
	}
	page, err := c.ListInvoicesPage(ctx, pepay.ListInvoicesParams{Limit: 2, StartingAfter: created[1]})
	if err != nil || len(page.Data) != 1 || page.HasMore || page.Data[0].ID != created[0] {
		t.Errorf("page = %+v, %v", page, err)
	}
	totals, err := c.InvoiceTotals(ctx, pepay.InvoiceTotalsParams{})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := totals.USDMillis("count"); n != 7 {
		t.Errorf("count = %d (%v)", n, totals.Names())
	}
	if paidAmt, ok := totals.USDMillis("amount_paid"); !ok || paidAmt != 1020 {
		t.Errorf("amount_paid = %d, %v", paidAmt, ok)
	}
	// Stopping early fetches no further page.
	before := len(srv.Calls())
	for range c.ListInvoices(ctx, pepay.ListInvoicesParams{Limit: 1}) {
		break
	}
	if n := len(srv.Calls()) - before; n != 1 {
		t.Errorf("early break made %d requests, want 1", n)
	}
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
		if n > 5 {
			t.Fatal("iteration did not stop")
		}
	}
	if !errors.Is(err, paykit.ErrPaginationStuck) {
		t.Errorf("err = %v", err)
	}
}

func TestListInvoices_errorsAndCustomerPath(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("GET /api/v1/invoices/customer/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "cus 1" {
			t.Errorf("customer = %q", r.PathValue("id"))
		}
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"success":false,"error":{"code":"API_KEY_INVALID","message":"Invalid API key"}}`)
	})
	_, err := c.ListCustomerInvoicesPage(context.Background(), "cus 1", pepay.ListInvoicesParams{})
	if !paykit.IsCode(err, "API_KEY_INVALID") || strings.Contains(err.Error(), testKey) {
		t.Errorf("err = %v", err)
	}
	_, err = c.ListInvoicesPage(context.Background(), pepay.ListInvoicesParams{StartingAfter: "a", EndingBefore: "b"})
	if !errors.As(err, new(*paykit.ValidationError)) {
		t.Errorf("both cursors: %v", err)
	}
	_, err = c.ListInvoicesPage(context.Background(), pepay.ListInvoicesParams{Limit: 101})
	if !errors.As(err, new(*paykit.ValidationError)) {
		t.Errorf("limit 101: %v", err)
	}
}
