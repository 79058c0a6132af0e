package jopay_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/jopay"
)

// TestFixtureTolerantDecoding replays a request object in the alternative shapes the docs
// disagree on: request_status instead of status, unix created_at, numeric ids and amounts as
// strings or numbers, metadata values that are not strings, unknown fields.
func TestFixtureTolerantDecoding(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/api/v1/requests/{id}", func(w http.ResponseWriter, r *http.Request) {
		apitest.ServeFixture(t, w, http.StatusOK, "request_object_variant.json")
	})
	got, err := c.GetRequest(context.Background(), "req_01HZX3K9")
	require.NoError(t, err)
	want := &jopay.PaymentRequest{
		ID: "req_01HZX3K9", Status: jopay.StatusOpened, ProofStatus: jopay.ProofStatusAttached,
		PayPageURL: "https://pay.jopay.app/req_01HZX3K9",
		CreatedAt:  time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC),
		ExpiresAt:  time.Date(2026, 5, 9, 9, 0, 0, 250e6, time.UTC),
		Amount:     jopay.Amount{FiatInt: 125000, FiatCode: "USD", USDCMicro: 1_250_000_000},
		MerchantID: "48213", PaymentMode: jopay.PaymentModeInvoice, CustomerName: "Acme GmbH",
		Metadata: map[string]string{"invoice_number": "42", "paid": "true"},
	}
	assert.Empty(t, cmp.Diff(want, got, cmpopts.EquateApproxTime(0)), "(-want +got)")
}

// TestFixtureErrors replays the documented error envelopes through each call.
func TestFixtureErrors(t *testing.T) {
	cases := []struct {
		fixture    string
		status     int
		retryAfter string
		want       *paykit.Error
		detail     func(error) string
		wantDetail string
	}{
		{"error_customer_name_required.json", 400, "", &paykit.Error{Provider: "jopay", Method: "POST", Path: "/requests/create", Status: 400, Code: jopay.CodeCustomerNameRequired}, nil, ""},
		{"error_currency_mismatch.json", 400, "", &paykit.Error{Provider: "jopay", Method: "POST", Path: "/requests/create", Status: 400, Code: jopay.CodeCurrencyMismatch}, jopay.ExpectedFiatCode, "USD"},
		{"error_insufficient_scope.json", 403, "", &paykit.Error{Provider: "jopay", Method: "POST", Path: "/requests/create", Status: 403, Code: jopay.CodeInsufficientScope}, jopay.RequiredScope, "requests:write"},
		{"error_reference_style.json", 404, "", &paykit.Error{Provider: "jopay", Method: "POST", Path: "/requests/create", Status: 404, Code: jopay.CodeNotFound, Message: "Request not found"}, nil, ""},
		// 429 with a Retry-After longer than the client waits: returned at once, not retried.
		{"error_rate_limited.json", 429, "3600", &paykit.Error{Provider: "jopay", Method: "POST", Path: "/requests/create", Status: 429, Code: jopay.CodeRateLimited, RetryAfter: time.Hour}, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.fixture, func(t *testing.T) {
			c, mux := setup(t)
			calls := 0
			mux.HandleFunc("/api/v1/requests/create", func(w http.ResponseWriter, r *http.Request) {
				calls++
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				apitest.ServeFixture(t, w, tc.status, tc.fixture)
			})
			_, err := c.CreateRequest(context.Background(), jopay.CreateRequestParams{MerchantID: "m1", FiatAmountInt: 100})
			var ce *jopay.CreateError
			require.ErrorAs(t, err, &ce)
			require.GreaterOrEqual(t, len(ce.IdempotencyKey), 32, "err = %v, want *CreateError with the key", err)
			var apiErr *paykit.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Empty(t, cmp.Diff(tc.want, apiErr, cmpopts.IgnoreFields(paykit.Error{}, "Body")), "(-want +got)")
			assert.Equal(t, string(apitest.Fixture(t, tc.fixture)), string(apiErr.Body), "Body")
			if tc.detail != nil {
				assert.Equal(t, tc.wantDetail, tc.detail(err), "detail")
			}
			assert.Equal(t, 1, calls, "calls (4xx and long Retry-After are not retried)")
			assert.True(t, paykit.IsCode(err, tc.want.Code), "IsCode(%q) false", tc.want.Code)
		})
	}
}

// TestOKFalseIn2xx: an envelope that says ok:false is an error even with status 200.
func TestOKFalseIn2xx(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/api/v1/requests/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"ok":false,"error":"not_found"}`))
	})
	_, err := c.GetRequest(context.Background(), "x")
	require.True(t, paykit.IsCode(err, jopay.CodeNotFound), "err = %v", err)
}

func TestInvalidResponse(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/api/v1/requests/{id}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("id") {
		case "noid":
			_, _ = w.Write([]byte(`{"ok":true,"status":"requested"}`))
		case "badamount":
			_, _ = w.Write([]byte(`{"ok":true,"request_id":"x","amount":{"usdc_micro":"2.5"}}`))
		}
	})
	for _, id := range []string{"noid", "badamount"} {
		_, err := c.GetRequest(context.Background(), id)
		assert.ErrorIs(t, err, paykit.ErrInvalidResponse, "%s", id)
	}
}

// TestFixtureWebhooks parses the documented webhook payloads.
func TestFixtureWebhooks(t *testing.T) {
	verified, err := jopay.ParseEvent(apitest.Fixture(t, "webhook_proof_verified.json"))
	require.NoError(t, err)
	want := &jopay.Event{
		Type: jopay.EventProofVerified, DeliveryID: "4f1c2a9e-0b7d-4c3e-9a51-2d8e6f0a7b13",
		PartnerID: "0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f", RequestID: "7b2e9c1a-4d3f-4e8b-9a6c-1f2e3d4c5b6a",
		MerchantID: "b4d5c6e7-1f20-4a3b-8c4d-5e6f70819203", ProofStatus: jopay.ProofStatusVerified,
		ProofSource: "trails_on_chain", TxHash: "0x5e3c1f0a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e",
		PayerAddress: "0x8a1b2c3d4e5f60718293a4b5c6d7e8f901234567", Timestamp: time.Date(2026, 5, 2, 9, 15, 0, 0, time.UTC),
		Metadata: map[string]string{"order_id": "A-1001"},
	}
	assert.Empty(t, cmp.Diff(want, verified, cmpopts.IgnoreFields(jopay.Event{}, "Raw")), "(-want +got)")
	assert.True(t, verified.IsPaid(), "IsPaid/OrderID wrong")
	assert.Equal(t, "A-1001", verified.OrderID(), "IsPaid/OrderID wrong")
	attached, err := jopay.ParseEvent(apitest.Fixture(t, "webhook_proof_attached.json"))
	require.NoError(t, err)
	assert.False(t, attached.IsPaid(), "attached = %+v", attached)
	assert.Empty(t, attached.PayerAddress, "attached = %+v", attached)
	assert.Nil(t, attached.Metadata, "attached = %+v", attached)
	assert.Equal(t, "del_7Hq2", attached.DeliveryID, "attached = %+v", attached)
}

// TestListPageMixedShapes: one row in the documented shape and one in the variant shape on the
// same page; both decode (the page falls back to tolerant decoding).
func TestListPageMixedShapes(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/api/v1/requests", func(w http.ResponseWriter, r *http.Request) {
		doc := apitest.Fixture(t, "request_object.json")
		variant := apitest.Fixture(t, "request_object_variant.json")
		_, _ = w.Write([]byte(`{"ok":true,"has_more":false,"next_cursor":null,"requests":[` + string(doc) + `,` + string(variant) + `]}`))
	})
	page, err := c.ListRequestsPage(context.Background(), jopay.ListRequestsParams{})
	require.NoError(t, err)
	require.Len(t, page.Data, 2, "requests")
	assert.Empty(t, cmp.Diff(documentedRequest, page.Data[0]), "documented row (-want +got)")
	got := page.Data[1]
	assert.Equal(t, "req_01HZX3K9", got.ID, "variant row = %+v", got)
	assert.Equal(t, "48213", got.MerchantID, "variant row = %+v", got)
	assert.Equal(t, int64(1_250_000_000), got.Amount.USDCMicro, "variant row = %+v", got)
	assert.Equal(t, jopay.StatusOpened, got.Status, "variant row = %+v", got)
}

// TestWrappedRequestObject: {"ok":true,"request":{…}} decodes like the flat object.
func TestWrappedRequestObject(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/api/v1/requests/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"ok":true,"request":` + string(apitest.Fixture(t, "request_object.json")) + `}`))
	})
	got, err := c.GetRequest(context.Background(), documentedRequest.ID)
	require.NoError(t, err)
	assert.Empty(t, cmp.Diff(documentedRequest, got), "(-want +got)")
}
