package jovepay

import (
	"context"
	"github.com/paykit-go/paykit"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/internal/apitest"
)

func TestNewClientValidation(t *testing.T) {
	cases := []struct {
		name string
		key  string
		opts []Option
		want string
	}{
		{"empty key", "", nil, "empty API key"},
		{"key with space", "ab cd", nil, "whitespace"},
		{"bad base URL", testKey, []Option{WithBaseURL("ftp://x")}, "jovepay: WithBaseURL: invalid base URL"},
		{"empty email", testKey, []Option{WithCredentials("", "pw")}, "jovepay: WithCredentials: invalid email"},
		{"empty password", testKey, []Option{WithCredentials("a@b.c", "")}, "invalid password"},
		{"nil clock", testKey, []Option{WithSandbox(), WithClock(nil)}, "jovepay: WithClock: nil clock"},
		{"bad skew", testKey, []Option{WithTokenRefreshSkew(0)}, "skew"},
		{"retries", testKey, []Option{WithMaxRetries(11)}, "jovepay: WithMaxRetries: max retries"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewClient(tc.key, tc.opts...)
			require.ErrorContains(t, err, tc.want)
		})
	}
	c, err := NewClient(testKey)
	require.NoError(t, err)
	assert.Equal(t, DefaultBaseURL, c.BaseURL(), "defaults: base")
	assert.False(t, c.HasCredentials(), "defaults: credentials")
	c, _ = NewClient(testKey, WithSandbox(), WithCredentials(testEmail, testPassword))
	assert.Equal(t, SandboxBaseURL, c.BaseURL(), "sandbox: base")
	assert.True(t, c.HasCredentials(), "sandbox: credentials")
}

func TestStatus(t *testing.T) {
	c, mux := setup(t)
	msg := `{"message":"OK"}`
	mux.HandleFunc("/v1/status", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, "GET")
		apitest.Header(t, r, "x-api-key", "") // /status is the one call without the key
		apitest.Header(t, r, "Authorization", "")
		apitest.ServeJSON(w, 200, []byte(msg))
	})
	require.NoError(t, c.Status(context.Background()))
	msg = `{"message":"maintenance"}`
	err := c.Status(context.Background())
	require.ErrorIs(t, err, ErrNotOK)
	require.Contains(t, err.Error(), "maintenance", "err = %v, want ErrNotOK with the message", err)
}

func TestCurrencies(t *testing.T) {
	c, mux := setup(t)
	var wantQuery map[string]string
	mux.HandleFunc("/v1/currencies", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, "GET")
		testAPIKeyOnly(t, r)
		apitest.Query(t, r, wantQuery)
		apitest.ServeJSON(w, 200, apitest.Fixture(t, "currencies_response.json"))
	})
	for _, fixed := range []bool{false, true} {
		wantQuery = map[string]string{}
		if fixed {
			wantQuery["fixed_rate"] = "true"
		}
		got, err := c.Currencies(context.Background(), CurrenciesParams{FixedRate: fixed})
		require.NoError(t, err)
		assert.Empty(t, cmp.Diff([]string{"btc", "eth", "trx", "usdttrc20", "xmr"}, got), "currencies (-want +got)")
	}
}

func TestFullCurrencies(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/v1/full-currencies", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, "GET")
		testAPIKeyOnly(t, r)
		apitest.ServeJSON(w, 200, apitest.Fixture(t, "full_currencies_response.json"))
	})
	got, err := c.FullCurrencies(context.Background())
	require.NoError(t, err)
	want := []Currency{
		{ID: "6", Code: "BTC", Name: "Bitcoin", Enable: true, WalletRegex: "^(bc1|[13])[a-zA-HJ-NP-Z0-9]{25,62}$",
			Priority: 1, LogoURL: "/images/coins/btc.svg", Network: "btc"},
		// The second entry sends id, enable, priority, extra_id_exists and precision as strings
		// or 0/1: the same values must come out.
		{ID: "87", Code: "XRP", Name: "Ripple", Enable: true, WalletRegex: "^r[1-9A-HJ-NP-Za-km-z]{25,34}$",
			Priority: 12, ExtraIDExists: true, ExtraIDRegex: "^[0-9]{1,10}$", LogoURL: "/images/coins/xrp.svg",
			Network: "xrp", NetworkPrecision: 6},
	}
	assert.Empty(t, cmp.Diff(want, got), "full currencies (-want +got)")
}

func TestMerchantCurrencies(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		want    []string
	}{
		{"merchant_coins_documented.json", []string{"btc", "eth"}},
		{"merchant_coins_live.json", []string{"BTC", "ETH", "USDTTRC20"}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			c, mux := setup(t)
			mux.HandleFunc("/v1/merchant/coins", func(w http.ResponseWriter, r *http.Request) {
				apitest.Method(t, r, "GET")
				testAPIKeyOnly(t, r)
				apitest.ServeJSON(w, 200, apitest.Fixture(t, tc.fixture))
			})
			got, err := c.MerchantCurrencies(context.Background())
			require.NoError(t, err)
			assert.Empty(t, cmp.Diff(tc.want, got), "(-want +got)")
		})
	}
}

func TestMinAmount(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/v1/min-amount", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, "GET")
		testAPIKeyOnly(t, r)
		apitest.Query(t, r, map[string]string{"currency_from": "eth", "currency_to": "trx", "fiat_equivalent": "usd", "is_fixed_rate": "true", "is_fee_paid_by_user": "true"})
		apitest.ServeJSON(w, 200, apitest.Fixture(t, "min_amount_response.json"))
	})
	got, err := c.MinAmount(context.Background(), MinAmountParams{CurrencyFrom: "eth", CurrencyTo: "trx", FiatEquivalent: "usd", IsFixedRate: true, IsFeePaidByUser: true})
	require.NoError(t, err)
	want := &MinAmount{CurrencyFrom: "eth", CurrencyTo: "trx", MinAmount: dec("0.0078999"), FiatEquivalent: dec("35.40626584")}
	assert.Empty(t, cmp.Diff(want, got, decimalExact), "(-want +got)")
}

func TestEstimate(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/v1/estimate", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, "GET")
		testAPIKeyOnly(t, r)
		// The amount goes out with the caller's digits, never through float64.
		apitest.Query(t, r, map[string]string{"amount": "3999.50", "currency_from": "usd", "currency_to": "btc"})
		apitest.ServeJSON(w, 200, apitest.Fixture(t, "estimate_response.json"))
	})
	got, err := c.Estimate(context.Background(), EstimateParams{Amount: dec("3999.50"), CurrencyFrom: "usd", CurrencyTo: "btc"})
	require.NoError(t, err)
	want := &Estimate{CurrencyFrom: "usd", AmountFrom: dec("3999.5"), CurrencyTo: "btc", EstimatedAmount: dec("0.17061637")}
	assert.Empty(t, cmp.Diff(want, got, decimalExact), "(-want +got)")
	assert.True(t, got.AtLeast(&MinAmount{MinAmount: dec("0.0001")}), "AtLeast compares wrongly")
	assert.False(t, got.AtLeast(&MinAmount{MinAmount: dec("0.17061638")}), "AtLeast compares wrongly")
}

func TestCreatePayment(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/v1/payment", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, "POST")
		testAPIKeyOnly(t, r)
		apitest.Header(t, r, "Content-Type", "application/json")
		apitest.Header(t, r, "Origin-Ip", "203.0.113.9")
		apitest.Header(t, r, "Idempotency-Key", "") // JovePay has none; none is invented
		apitest.JSONBody(t, r, `{"price_amount":3999.50,"price_currency":"usd","pay_currency":"btc",
			"ipn_callback_url":"https://nowpayments.io","order_id":"RGDBP-21314",
			"order_description":"Apple Macbook Pro 2019 x 1","is_fixed_rate":true}`)
		apitest.ServeJSON(w, 201, apitest.Fixture(t, "create_payment_response.json"))
	})
	got, err := c.CreatePayment(context.Background(), CreatePaymentParams{
		PriceAmount: dec("3999.50"), PriceCurrency: "usd", PayCurrency: "btc",
		IPNCallbackURL: "https://nowpayments.io", OrderID: "RGDBP-21314",
		OrderDescription: "Apple Macbook Pro 2019 x 1", IsFixedRate: true, OriginIP: "203.0.113.9",
	})
	require.NoError(t, err)
	want := &Payment{
		ID: "5745459419", Status: StatusWaiting, PayAddress: "3EZ2uTdVDAMFXTfc6uLDDKR6o8qKBZXVkj",
		PriceAmount: dec("3999.5"), PriceCurrency: "usd", PayAmount: dec("0.17070286"), PayCurrency: "btc",
		orderID: "RGDBP-21314", OrderDescription: "Apple Macbook Pro 2019 x 1", IPNCallbackURL: "https://nowpayments.io",
		PurchaseID: "5837122679", Network: "btc",
		CreatedAt: mustTime("2020-12-22T15:00:22.742Z"), UpdatedAt: mustTime("2020-12-22T15:00:22.742Z"),
		ExpirationEstimateDate: mustTime("2020-12-23T15:00:22.742Z"),
	}
	assert.Empty(t, cmp.Diff(want, got, decimalExact, cmp.AllowUnexported(Payment{})), "(-want +got)")
}

func TestGetPaymentNumericIDs(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/v1/payment/5524759814", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, "GET")
		testAPIKeyOnly(t, r)
		apitest.ServeJSON(w, 200, apitest.Fixture(t, "payment_status_response.json"))
	})
	got, err := c.GetPayment(context.Background(), "5524759814")
	require.NoError(t, err)
	want := &Payment{
		ID: "5524759814", Status: StatusFinished, PayAddress: "TNDFkiSmBQorNFacb3735q8MnT29sn8BLn",
		PriceAmount: dec("5"), PriceCurrency: "usd", PayAmount: dec("165.652609"), ActuallyPaid: dec("180"),
		PayCurrency: "trx", orderID: "RGDBP-21314", OrderDescription: "Apple Macbook Pro 2019 x 1",
		PurchaseID: "4944856743", OutcomeAmount: dec("178.9005"), OutcomeCurrency: "trx",
		CreatedAt: mustTime("2023-07-28T15:06:09.932Z"), UpdatedAt: mustTime("2023-07-28T15:08:12.215Z"),
	}
	assert.Empty(t, cmp.Diff(want, got, decimalExact, cmp.AllowUnexported(Payment{})), "(-want +got)")
}

func TestGetPaymentEscapesID(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/v1/payment/{id}", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "a/b?c", r.PathValue("id"), "id not escaped: %q", r.URL.EscapedPath())
		assert.Contains(t, r.URL.RawPath+r.URL.EscapedPath(), "a%2Fb%3Fc", "id not escaped")
		apitest.ServeJSON(w, 200, []byte(`{"payment_id":"a/b?c","payment_status":"waiting"}`))
	})
	_, err := c.GetPayment(context.Background(), "a/b?c")
	require.NoError(t, err)
}

func TestUpdateMerchantEstimate(t *testing.T) {
	c, mux := setup(t)
	calls := 0
	mux.HandleFunc("/v1/payment/4455667788/update-merchant-estimate", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, "POST")
		testAPIKeyOnly(t, r)
		if calls++; calls == 1 {
			apitest.ServeJSON(w, 502, []byte(`{"statusCode":502,"code":"BAD_GATEWAY","message":"upstream"}`))
			return
		}
		apitest.ServeJSON(w, 200, apitest.Fixture(t, "update_estimate_response.json"))
	})
	got, err := c.UpdateMerchantEstimate(context.Background(), "4455667788")
	require.NoError(t, err)
	want := &MerchantEstimate{ID: "4455667788", TokenID: "5566778899", PayAmount: dec("0.04671013"), ExpirationEstimateDate: mustTime("2022-08-12T13:14:28.536Z")}
	assert.Empty(t, cmp.Diff(want, got, decimalExact), "(-want +got)")
	assert.Equal(t, 2, calls, "calls: refreshing an estimate is safe to retry after a 502")
}

func TestCreateInvoice(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/v1/invoice", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, "POST")
		testAPIKeyOnly(t, r)
		apitest.JSONBody(t, r, `{"price_amount":1000,"price_currency":"usd","ipn_callback_url":"https://nowpayments.io",
			"order_id":"RGDBP-21314","order_description":"Apple Macbook Pro 2019 x 1",
			"success_url":"https://nowpayments.io","cancel_url":"https://nowpayments.io"}`)
		apitest.ServeJSON(w, 201, apitest.Fixture(t, "invoice_response.json"))
	})
	got, err := c.CreateInvoice(context.Background(), CreateInvoiceParams{
		PriceAmount: dec("1000"), PriceCurrency: "usd", IPNCallbackURL: "https://nowpayments.io",
		OrderID: "RGDBP-21314", OrderDescription: "Apple Macbook Pro 2019 x 1",
		SuccessURL: "https://nowpayments.io", CancelURL: "https://nowpayments.io",
	})
	require.NoError(t, err)
	want := &Invoice{
		ID: "4522625843", TokenID: "6215482014", InvoiceURL: "https://nowpayments.io/payment/?iid=4522625843",
		PriceAmount: dec("1000"), PriceCurrency: "usd", IPNCallbackURL: "https://nowpayments.io",
		OrderID: "RGDBP-21314", OrderDescription: "Apple Macbook Pro 2019 x 1",
		SuccessURL: "https://nowpayments.io", CancelURL: "https://nowpayments.io",
		CreatedAt: mustTime("2020-12-22T15:05:58.290Z"), UpdatedAt: mustTime("2020-12-22T15:05:58.290Z"),
	}
	assert.Empty(t, cmp.Diff(want, got, decimalExact), "(-want +got)")
}

func TestCreateInvoicePayment(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/v1/invoice-payment", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, "POST")
		testAPIKeyOnly(t, r)
		// iid goes out as a number, as in the documented example.
		apitest.JSONBody(t, r, `{"iid":4522625843,"pay_currency":"btc","customer_email":"buyer@example.com"}`)
		apitest.ServeJSON(w, 201, apitest.Fixture(t, "create_payment_response.json"))
	})
	got, err := c.CreateInvoicePayment(context.Background(), CreateInvoicePaymentParams{InvoiceID: "4522625843", PayCurrency: "btc", CustomerEmail: "buyer@example.com"})
	require.NoError(t, err)
	assert.Equal(t, ID("5745459419"), got.ID, "payment = %+v", got)
	assert.NotEmpty(t, got.PayAddress, "payment = %+v", got)
}

func TestValidationSendsNothing(t *testing.T) {
	c, _ := setup(t, WithCredentials(testEmail, testPassword)) // any request fails the test
	ctx := context.Background()
	ok := CreatePaymentParams{PriceAmount: dec("10"), PriceCurrency: "usd", PayCurrency: "btc"}
	// create calls CreatePayment with ok changed by f.
	create := func(f func(*CreatePaymentParams)) func() error {
		return func() error {
			p := ok
			f(&p)
			_, err := c.CreatePayment(ctx, p)
			return err
		}
	}
	cases := []struct {
		field string
		call  func() error
	}{
		{"price_amount", create(func(p *CreatePaymentParams) { p.PriceAmount = dec("0") })},
		{"price_amount", create(func(p *CreatePaymentParams) { p.PriceAmount = dec("-1") })},
		{"price_currency", create(func(p *CreatePaymentParams) { p.PriceCurrency = " " })},
		{"pay_currency", create(func(p *CreatePaymentParams) { p.PayCurrency = "" })},
		{"pay_amount", create(func(p *CreatePaymentParams) { p.PayAmount = dec("-0.1") })},
		{"ipn_callback_url", create(func(p *CreatePaymentParams) { p.IPNCallbackURL = "ftp://x" })},
		{"payout_currency", create(func(p *CreatePaymentParams) { p.PayoutAddress = "bc1q" })},
		{"origin-ip", create(func(p *CreatePaymentParams) { p.OriginIP = "1\r\nX: y" })},
		{"payment_id", func() error { _, err := c.GetPayment(ctx, ""); return err }},
		{"payment_id", func() error { _, err := c.UpdateMerchantEstimate(ctx, ""); return err }},
		{"currency_from", func() error { _, err := c.MinAmount(ctx, MinAmountParams{}); return err }},
		{"amount", func() error {
			_, err := c.Estimate(ctx, EstimateParams{CurrencyFrom: "usd", CurrencyTo: "btc"})
			return err
		}},
		{"currency_to", func() error {
			_, err := c.Estimate(ctx, EstimateParams{Amount: dec("1"), CurrencyFrom: "usd"})
			return err
		}},
		{"price_amount", func() error { _, err := c.CreateInvoice(ctx, CreateInvoiceParams{PriceCurrency: "usd"}); return err }},
		{"success_url", func() error {
			_, err := c.CreateInvoice(ctx, CreateInvoiceParams{PriceAmount: dec("1"), PriceCurrency: "usd", SuccessURL: "/relative"})
			return err
		}},
		{"iid", func() error {
			_, err := c.CreateInvoicePayment(ctx, CreateInvoicePaymentParams{PayCurrency: "btc"})
			return err
		}},
		{"pay_currency", func() error {
			_, err := c.CreateInvoicePayment(ctx, CreateInvoicePaymentParams{InvoiceID: "1"})
			return err
		}},
		{"limit", func() error { _, err := c.ListPaymentsPage(ctx, ListPaymentsParams{Limit: 501}); return err }},
		{"page", func() error { _, err := c.ListPaymentsPage(ctx, ListPaymentsParams{Cursor: "-1"}); return err }},
		{"orderBy", func() error { _, err := c.ListPaymentsPage(ctx, ListPaymentsParams{OrderBy: "up"}); return err }},
		{"dateTo", func() error {
			_, err := c.ListPaymentsPage(ctx, ListPaymentsParams{DateFrom: time.Now(), DateTo: time.Now().Add(-time.Hour)})
			return err
		}},
		{"order_id", func() error { _, err := c.FindPaymentByOrderID(ctx, "", time.Time{}); return err }},
		{"order_id", func() error { _, err := c.CreatePaymentOnce(ctx, ok, OnceOptions{}); return err }},
	}
	for _, tc := range cases {
		err := tc.call()
		var ve *paykit.ValidationError
		if assert.ErrorAs(t, err, &ve, "%s: want paykit.ValidationError on that field", tc.field) {
			assert.Equal(t, tc.field, ve.Field, "%s: err = %v", tc.field, err)
		}
	}
}

func TestErrorEnvelope(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/v1/payment", func(w http.ResponseWriter, r *http.Request) {
		apitest.ServeJSON(w, 400, apitest.Fixture(t, "error_invalid_request.json"))
	})
	_, err := c.CreatePayment(context.Background(), CreatePaymentParams{PriceAmount: dec("1"), PriceCurrency: "usd", PayCurrency: "btc"})
	var apiErr *paykit.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "jovepay", apiErr.Provider, "error = %+v", apiErr)
	assert.Equal(t, 400, apiErr.Status, "error = %+v", apiErr)
	assert.Equal(t, CodeInvalidRequestParams, apiErr.Code, "error = %+v", apiErr)
	assert.Equal(t, "price_amount must be a number", apiErr.Message, "error = %+v", apiErr)
	assert.False(t, apiErr.Retryable(), "error = %+v", apiErr)
	assert.NotErrorIs(t, err, paykit.ErrUnknownOutcome, "a 400 is a definite answer, not an unknown outcome")
	assert.Equal(t, "jovepay: 400 INVALID_REQUEST_PARAMS: price_amount must be a number", err.Error(), "Error()")
}
