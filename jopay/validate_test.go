package jopay_test

import (
	"context"
	"fmt"
	"github.com/paykit-go/paykit"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/idempotency"
	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/jopay"
)

func TestCreateRequestValidation(t *testing.T) {
	ok := func() jopay.CreateRequestParams {
		return jopay.CreateRequestParams{MerchantID: "m1", FiatAmountInt: 100}
	}
	many := map[string]string{}
	for i := 0; i < 21; i++ {
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	exactly20 := map[string]string{}
	for i := 0; i < 20; i++ {
		exactly20[fmt.Sprintf("k%02d", i)] = strings.Repeat("é", 500)
	}
	cases := []struct {
		name      string
		edit      func(p *jopay.CreateRequestParams)
		field     string // "" = valid
		sentinel  error
		inMessage string
	}{
		{"valid", func(p *jopay.CreateRequestParams) {}, "", nil, ""},
		{"no merchant", func(p *jopay.CreateRequestParams) { p.MerchantID = " " }, "merchant_id", nil, "required"},
		{"zero amount", func(p *jopay.CreateRequestParams) { p.FiatAmountInt = 0 }, "fiat_amount_int", nil, "between 1 and 2147483647"},
		{"negative amount", func(p *jopay.CreateRequestParams) { p.FiatAmountInt = -5 }, "fiat_amount_int", nil, "got -5"},
		{"max amount", func(p *jopay.CreateRequestParams) { p.FiatAmountInt = 2147483647 }, "", nil, ""},
		{"amount over int32", func(p *jopay.CreateRequestParams) { p.FiatAmountInt = 2147483648 }, "fiat_amount_int", nil, ""},
		{"currency ok", func(p *jopay.CreateRequestParams) { p.FiatCurrencyCode = "EUR" }, "", nil, ""},
		{"currency short", func(p *jopay.CreateRequestParams) { p.FiatCurrencyCode = "EU" }, "fiat_currency_code", nil, "three-letter"},
		{"currency digits", func(p *jopay.CreateRequestParams) { p.FiatCurrencyCode = "E1R" }, "fiat_currency_code", nil, ""},
		{"memo 500 runes", func(p *jopay.CreateRequestParams) { p.Memo = strings.Repeat("ü", 500) }, "", nil, ""},
		{"memo 501", func(p *jopay.CreateRequestParams) { p.Memo = strings.Repeat("a", 501) }, "memo", nil, "501 characters"},
		{"memo bad utf8", func(p *jopay.CreateRequestParams) { p.Memo = "a\xffb" }, "memo", nil, "UTF-8"},
		{"mode unknown", func(p *jopay.CreateRequestParams) { p.PaymentMode = "subscription" }, "payment_mode", nil, ""},
		{"invoice no name", func(p *jopay.CreateRequestParams) { p.PaymentMode = jopay.PaymentModeInvoice }, "customer_name", nil, "invoice"},
		{"invoice blank name", func(p *jopay.CreateRequestParams) {
			p.PaymentMode, p.CustomerName = jopay.PaymentModeInvoice, "  "
		}, "customer_name", nil, ""},
		{"invoice ok", func(p *jopay.CreateRequestParams) {
			p.PaymentMode, p.CustomerName = jopay.PaymentModeInvoice, "Acme"
		}, "", nil, ""},
		{"email bad", func(p *jopay.CreateRequestParams) { p.CustomerEmail = "not-an-email" }, "customer_email", nil, ""},
		{"email with name", func(p *jopay.CreateRequestParams) { p.CustomerEmail = "Bob <bob@x.example>" }, "customer_email", nil, ""},
		{"email long", func(p *jopay.CreateRequestParams) { p.CustomerEmail = strings.Repeat("a", 250) + "@x.io" }, "customer_email", nil, ""},
		{"expiry negative", func(p *jopay.CreateRequestParams) { p.ExpiryMinutes = -1 }, "expiry_minutes", nil, ""},
		{"key short", func(p *jopay.CreateRequestParams) { p.IdempotencyKey = "abc" }, "idempotency_key", idempotency.ErrInvalidKey, "length 3"},
		{"key bad char", func(p *jopay.CreateRequestParams) { p.IdempotencyKey = strings.Repeat("a", 40) + "!" }, "idempotency_key", idempotency.ErrInvalidKey, "index 40"},
		{"key derived", func(p *jopay.CreateRequestParams) { p.IdempotencyKey = idempotency.Key("checkout", "A-1") }, "", nil, ""},
		{"metadata 21 keys", func(p *jopay.CreateRequestParams) { p.Metadata = many }, "metadata", nil, "21 keys"},
		{"metadata 20 keys at limits", func(p *jopay.CreateRequestParams) { p.Metadata = exactly20 }, "", nil, ""},
		{"metadata key 41", func(p *jopay.CreateRequestParams) {
			p.Metadata = map[string]string{strings.Repeat("k", 41): "v"}
		}, "metadata", nil, "41 characters"},
		{"metadata empty key", func(p *jopay.CreateRequestParams) { p.Metadata = map[string]string{"": "v"} }, "metadata", nil, "empty"},
		{"metadata value 501", func(p *jopay.CreateRequestParams) {
			p.Metadata = map[string]string{"order_id": strings.Repeat("v", 501)}
		}, "metadata.order_id", nil, "501"},
	}
	var calls atomic.Int32
	c, mux := setup(t)
	mux.HandleFunc("/api/v1/requests/create", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		apitest.ServeFixture(t, w, http.StatusOK, "request_object.json")
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := ok()
			tc.edit(&p)
			before := calls.Load()
			_, err := c.CreateRequest(context.Background(), p)
			if tc.field == "" {
				require.NoError(t, err, "unexpected")
				return
			}
			var ve *paykit.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field, "Field (%v)", err)
			if tc.sentinel != nil {
				assert.ErrorIs(t, err, tc.sentinel)
			}
			assert.Contains(t, err.Error(), tc.inMessage, "message")
			assert.Equal(t, before, calls.Load(), "an invalid request was sent")
		})
	}
}

func TestMerchantValidation(t *testing.T) {
	cases := []struct {
		p     jopay.CreateMerchantParams
		field string
	}{
		{jopay.CreateMerchantParams{}, ""},
		{jopay.CreateMerchantParams{Email: "x"}, "email"},
		{jopay.CreateMerchantParams{BusinessName: strings.Repeat("b", 121)}, "business_name"},
		{jopay.CreateMerchantParams{Country: "USA"}, "country"},
		{jopay.CreateMerchantParams{Phone: strings.Repeat("1", 33)}, "phone"},
		{jopay.CreateMerchantParams{Instagram: strings.Repeat("i", 201)}, "instagram"},
		{jopay.CreateMerchantParams{Industry: strings.Repeat("i", 81)}, "industry"},
		{jopay.CreateMerchantParams{DisplayCurrency: "EURO"}, "display_currency"},
		{jopay.CreateMerchantParams{DisplayName: "\xff"}, "display_name"},
		{jopay.CreateMerchantParams{Email: "a@b.example", Country: "us", DisplayCurrency: "usd", BusinessName: strings.Repeat("b", 120)}, ""},
	}
	for _, tc := range cases {
		err := tc.p.Validate()
		if tc.field == "" {
			assert.NoError(t, err, "%+v", tc.p)
			continue
		}
		var ve *paykit.ValidationError
		if assert.ErrorAs(t, err, &ve, "%+v: want field %s", tc.p, tc.field) {
			assert.Equal(t, tc.field, ve.Field, "%+v: err = %v", tc.p, err)
		}
	}
}

func TestListParamsValidation(t *testing.T) {
	c, _ := setup(t)
	for _, p := range []jopay.ListRequestsParams{{Limit: -1}, {Limit: 101}} {
		for _, err := range c.ListRequests(context.Background(), p) {
			var ve *paykit.ValidationError
			if assert.ErrorAs(t, err, &ve, "Limit %d", p.Limit) {
				assert.Equal(t, "limit", ve.Field, "Limit %d: err = %v", p.Limit, err)
			}
		}
	}
}

func TestValidateAllocatesOnlyOnFailure(t *testing.T) {
	p := jopay.CreateRequestParams{
		MerchantID: "b4d5c6e7-1f20-4a3b-8c4d-5e6f70819203", FiatAmountInt: 275, FiatCurrencyCode: "USD",
		Memo: "Order A-1001", IdempotencyKey: "order-A-1001-0123456789abcdef0123456789",
		Metadata: map[string]string{"order_id": "A-1001", "customer_id": "C-77", "note": "ünïcödé"},
	}
	n := testing.AllocsPerRun(100, func() {
		// A plain check: testify in the measured function could count its own allocations.
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, n, "Validate of valid params allocates")
}
