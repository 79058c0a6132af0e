package jovepaytest_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/jovepay/jovepaytest"
	"github.com/paykit-go/paykit/webhook"
)

// call sends a raw request to the fake and returns status and decoded JSON body.
func call(t *testing.T, method, url string, header map[string]string, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	require.NoError(t, d.Decode(&out), "%s %s: body %q is not a JSON object", method, url, raw)
	return resp.StatusCode, out
}

func envelope(status int, code string) map[string]any {
	return map[string]any{"status": false, "statusCode": json.Number(itoa(status)), "code": code}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestEnvelopesAndAuth(t *testing.T) {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	key := map[string]string{"x-api-key": srv.APIKey()}
	email, password := srv.Credentials()
	cases := []struct {
		name, method, path string
		header             map[string]string
		body               string
		status             int
		code               string
	}{
		{"no key", "GET", "/v1/currencies", nil, "", 403, "INVALID_API_KEY"},
		{"wrong key", "GET", "/v1/currencies", map[string]string{"x-api-key": "nope"}, "", 403, "INVALID_API_KEY"},
		{"list without JWT", "GET", "/v1/payment/", key, "", 401, "AUTH_REQUIRED"},
		{"list with junk JWT", "GET", "/v1/payment/", map[string]string{"x-api-key": srv.APIKey(), "Authorization": "Bearer a.b.c"}, "", 401, "AUTH_REQUIRED"},
		{"bad login", "POST", "/v1/auth", nil, `{"email":"` + email + `","password":"wrong"}`, 403, "ACCESS_DENIED"},
		{"empty login", "POST", "/v1/auth", nil, `{}`, 400, "INVALID_REQUEST_PARAMS"},
		{"unknown payment", "GET", "/v1/payment/123", key, "", 404, "NOT_FOUND"},
		{"non-numeric id", "GET", "/v1/payment/abc", key, "", 400, "INVALID_REQUEST_PARAMS"},
		{"below minimum", "POST", "/v1/payment", key, `{"price_amount":1,"price_currency":"usd","pay_currency":"btc"}`, 400, "AMOUNT_MINIMAL_ERROR"},
		{"missing pay_currency", "POST", "/v1/payment", key, `{"price_amount":100,"price_currency":"usd"}`, 400, "INVALID_REQUEST_PARAMS"},
		{"zero price", "POST", "/v1/payment", key, `{"price_amount":0,"price_currency":"usd","pay_currency":"btc"}`, 400, "INVALID_REQUEST_PARAMS"},
		{"bad callback", "POST", "/v1/payment", key, `{"price_amount":100,"price_currency":"usd","pay_currency":"btc","ipn_callback_url":"ftp://x"}`, 400, "INVALID_REQUEST_PARAMS"},
		{"payout without currency", "POST", "/v1/payment", key, `{"price_amount":100,"price_currency":"usd","pay_currency":"btc","payout_address":"x"}`, 400, "INVALID_REQUEST_PARAMS"},
		{"not JSON", "POST", "/v1/payment", key, `price_amount=1`, 400, "INVALID_REQUEST_PARAMS"},
		{"estimate unknown pair", "GET", "/v1/estimate?amount=1&currency_from=usd&currency_to=doge", key, "", 400, "INVALID_REQUEST_PARAMS"},
		{"min-amount missing", "GET", "/v1/min-amount", key, "", 400, "INVALID_REQUEST_PARAMS"},
		{"invoice-payment unknown", "POST", "/v1/invoice-payment", key, `{"iid":1,"pay_currency":"btc"}`, 404, "NOT_FOUND"},
		{"no route", "GET", "/v1/payouts", key, "", 404, "NOT_FOUND"},
	}
	for _, tc := range cases {
		status, body := call(t, tc.method, srv.URL+tc.path, tc.header, tc.body)
		assert.Equal(t, tc.status, status, "%s: status (%v)", tc.name, body)
		delete(body, "message")
		assert.Empty(t, cmp.Diff(envelope(tc.status, tc.code), body), "%s: envelope (-want +got)", tc.name)
	}
	status, body := call(t, "GET", srv.URL+"/v1/status", nil, "")
	assert.Equal(t, 200, status, "status %v", body)
	assert.Equal(t, "OK", body["message"], "status: %d %v", status, body)
	status, body = call(t, "POST", srv.URL+"/v1/auth", nil, `{"email":"`+email+`","password":"`+password+`"}`)
	assert.Equal(t, 200, status, "login %v", body)
	assert.True(t, strings.HasPrefix(body["token"].(string), "eyJ"), "login: %d %v", status, body)
	assert.Equal(t, 1, srv.Logins(), "login: %d %v", status, body)
	for _, q := range []string{"limit=0", "limit=501", "page=-1", "sortBy=nope", "orderBy=up", "dateFrom=yesterday", "invoiceId=x"} {
		status, body := call(t, "GET", srv.URL+"/v1/payment/?"+q, map[string]string{"x-api-key": srv.APIKey(), "Authorization": "Bearer " + body["token"].(string)}, "")
		assert.Equal(t, 400, status, "list %s %v", q, body)
		assert.Equal(t, "INVALID_REQUEST_PARAMS", body["code"], "list %s: %d %v", q, status, body)
	}
}

func TestIDsDriftLikeJovePay(t *testing.T) {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	key := map[string]string{"x-api-key": srv.APIKey()}
	status, created := call(t, "POST", srv.BaseURL+"/payment", key, `{"price_amount":"49.99","price_currency":"usd","pay_currency":"btc","order_id":"X"}`)
	require.Equal(t, 201, status, "create %v", created)
	id, isString := created["payment_id"].(string)
	assert.True(t, isString, "create response: payment_id %T %v, pay_amount %v", created["payment_id"], created["payment_id"], created["pay_amount"])
	assert.Equal(t, json.Number("0.0009998"), created["pay_amount"], "create response: payment_id %T %v, pay_amount", created["payment_id"], created["payment_id"])
	_, got := call(t, "GET", srv.BaseURL+"/payment/"+id, key, "")
	assert.Equal(t, json.Number(id), got["payment_id"], "status response payment_id")
	_, isString = got["purchase_id"].(string)
	assert.True(t, isString, "purchase_id %T", got["purchase_id"])
	status, inv := call(t, "POST", srv.BaseURL+"/invoice", key, `{"price_amount":1000,"price_currency":"usd"}`)
	assert.Equal(t, 201, status, "invoice: %v", inv)
	assert.Equal(t, "1000", inv["price_amount"], "invoice: %d %v", status, inv)
	assert.Nil(t, inv["pay_currency"], "invoice: %d %v", status, inv)
}

func TestMarket(t *testing.T) {
	srv := jovepaytest.NewServer(jovepaytest.WithRate("doge", paykit.MustDecimal("0.08")),
		jovepaytest.WithMinAmount("doge", paykit.MustDecimal("50")), jovepaytest.WithMerchantCoinsField("currencies"))
	defer srv.Close()
	c, err := srv.NewClient()
	require.NoError(t, err)
	ctx := context.Background()
	cur, err := c.Currencies(ctx, jovepay.CurrenciesParams{})
	require.NoError(t, err)
	assert.Empty(t, cmp.Diff([]string{"btc", "doge", "eth", "ltc", "trx", "usdttrc20", "xrp"}, cur), "currencies (-want +got)")
	coins, err := c.MerchantCurrencies(ctx)
	require.NoError(t, err, "merchant coins")
	require.Len(t, coins, 7, "merchant coins %v", coins)
	assert.Equal(t, "BTC", coins[0], "merchant coins %v", coins)
	full, err := c.FullCurrencies(ctx)
	require.NoError(t, err, "full currencies")
	require.Len(t, full, 7, "full currencies %+v", full)
	assert.Equal(t, "XRP", full[6].Code, "full currencies %+v", full)
	assert.True(t, full[6].ExtraIDExists, "full currencies %+v", full)
	assert.True(t, full[0].Enable, "full currencies %+v", full)
	m, err := c.MinAmount(ctx, jovepay.MinAmountParams{CurrencyFrom: "doge", FiatEquivalent: "usd"})
	require.NoError(t, err, "min")
	assert.Equal(t, "50", m.MinAmount.String(), "min %+v", m)
	assert.Equal(t, "4", m.FiatEquivalent.String(), "min %+v", m)
	e, err := c.Estimate(ctx, jovepay.EstimateParams{Amount: paykit.MustDecimal("49.99"), CurrencyFrom: "usd", CurrencyTo: "btc"})
	require.NoError(t, err, "estimate")
	assert.Equal(t, "0.0009998", e.EstimatedAmount.String(), "estimate %+v", e)
}

func TestJWTExpiresOnFakeClock(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := jovepaytest.NewServer(jovepaytest.WithClock(clock), jovepaytest.WithJWTLifetime(time.Minute))
	defer srv.Close()
	email, password := srv.Credentials()
	_, login := call(t, "POST", srv.BaseURL+"/auth", nil, `{"email":"`+email+`","password":"`+password+`"}`)
	h := map[string]string{"x-api-key": srv.APIKey(), "Authorization": "Bearer " + login["token"].(string)}
	status, _ := call(t, "GET", srv.BaseURL+"/payment/", h, "")
	require.Equal(t, 200, status, "fresh token")
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	status, body := call(t, "GET", srv.BaseURL+"/payment/", h, "")
	assert.Equal(t, 401, status, "expired token %v", body)
	assert.Equal(t, "AUTH_REQUIRED", body["code"], "expired token: %d %v", status, body)
}

func TestLifecycle(t *testing.T) {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	ctx := context.Background()
	create := func(order string) *jovepay.Payment {
		p, err := c.CreatePayment(ctx, jovepay.CreatePaymentParams{PriceAmount: paykit.MustDecimal("100"), PriceCurrency: "usd", PayCurrency: "btc", OrderID: order})
		require.NoError(t, err)
		return p
	}
	status := func(id jovepay.ID) *jovepay.Payment {
		p, err := c.GetPayment(ctx, id)
		require.NoError(t, err)
		return p
	}

	p := create("P-1")
	_, err := srv.PayAmount(ctx, p.ID, paykit.MustDecimal("0.0005"))
	require.NoError(t, err)
	got := status(p.ID)
	assert.Equal(t, jovepay.StatusPartiallyPaid, got.Status, "partial: %+v", got)
	assert.Equal(t, "0.0005", got.ActuallyPaid.String(), "partial: %+v", got)
	assert.NotEmpty(t, got.PayinHash, "partial: %+v", got)
	_, err = srv.PayAmount(ctx, p.ID, paykit.MustDecimal("0.0015"))
	assert.ErrorIs(t, err, jovepaytest.ErrTransition, "paying a partially paid payment again (use Redeposit)")
	child, err := srv.Redeposit(ctx, p.ID, paykit.MustDecimal("0.0015"))
	require.NoError(t, err)
	ch := status(child)
	assert.Equal(t, p.ID, ch.ParentPaymentID, "re-deposit: %+v", ch)
	assert.Equal(t, "REPEATED", ch.OriginType, "re-deposit: %+v", ch)
	assert.True(t, ch.IsRepeatedDeposit(), "re-deposit: %+v", ch)
	assert.Equal(t, jovepay.StatusFinished, ch.Status, "re-deposit: %+v", ch)
	assert.Equal(t, p.PayAddress, ch.PayAddress, "re-deposit: %+v", ch)
	assert.Equal(t, "P-1", ch.OrderID(), "re-deposit: %+v", ch)
	assert.Equal(t, "75", ch.PriceAmount.String(), "re-deposit: %+v", ch)

	q := create("P-2")
	_, err = srv.Pay(ctx, q.ID)
	require.NoError(t, err)
	got = status(q.ID)
	assert.Equal(t, jovepay.StatusFinished, got.Status, "complete: %+v", got)
	assert.True(t, got.ActuallyPaid.Equal(got.PayAmount), "complete: %+v", got)
	assert.Equal(t, "0.00199", got.OutcomeAmount.String(), "complete: %+v", got)
	assert.NotEmpty(t, got.PayoutHash, "complete: %+v", got)
	_, err = srv.Expire(ctx, q.ID)
	assert.ErrorIs(t, err, jovepaytest.ErrTransition, "expire a finished payment")
	_, err = srv.Refund(ctx, q.ID)
	require.NoError(t, err, "refund")
	assert.Equal(t, jovepay.StatusRefunded, status(q.ID).Status, "refund")
	r := create("P-3")
	_, err = srv.Expire(ctx, r.ID)
	require.NoError(t, err, "expire")
	assert.Equal(t, jovepay.StatusExpired, status(r.ID).Status, "expire")
	f := create("P-4")
	_, err = srv.Fail(ctx, f.ID)
	require.NoError(t, err, "fail")
	assert.Equal(t, jovepay.StatusFailed, status(f.ID).Status, "fail")
	_, err = srv.SetStatus(ctx, "999", jovepay.StatusFinished)
	assert.Error(t, err, "unknown payment advanced")
	est, err := c.UpdateMerchantEstimate(ctx, create("P-5").ID)
	require.NoError(t, err, "update estimate")
	assert.Equal(t, "0.002", est.PayAmount.String(), "update estimate: %+v", est)
	_, err = c.UpdateMerchantEstimate(ctx, q.ID)
	assert.True(t, paykit.IsCode(err, jovepay.CodeInvalidRequestParams), "update estimate of a final payment: %v", err)
	assert.Empty(t, srv.Deliveries(), "deliveries without an ipn_callback_url")
}

// TestIPNSignedInChosenForm checks the fake's signatures independently of jovepay's verifier:
// recompute the HMAC over the chosen reference form.
func TestIPNSignedInChosenForm(t *testing.T) {
	type got struct {
		header string
		body   []byte
	}
	var mu sync.Mutex
	var received []got
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		received = append(received, got{r.Header.Get("X-Nowpayments-Sig"), b})
		mu.Unlock()
	}))
	defer recv.Close()
	srv := jovepaytest.NewServer(jovepaytest.WithIPNSecret(" padded-secret "), jovepaytest.WithSignatureHeader("x-nowpayments-sig"))
	defer srv.Close()
	c, _ := srv.NewClient()
	ctx := context.Background()
	p, err := c.CreatePayment(ctx, jovepay.CreatePaymentParams{PriceAmount: paykit.MustDecimal("100"), PriceCurrency: "usd", PayCurrency: "eth", IPNCallbackURL: recv.URL})
	require.NoError(t, err)
	body := []byte(`{"payment_id":1,"payment_status":"finished","actually_paid":1e-7,"tags":["a","é"]}`)
	forms := []webhook.SortedJSONForm{webhook.FormNode, webhook.FormPHP, webhook.FormPython}
	for _, f := range forms {
		srv.SetSignatureForm(f)
		_, err := srv.SetStatus(ctx, p.ID, jovepay.StatusConfirming)
		require.NoError(t, err)
		srv.DeliverIPN(ctx, recv.URL, body)
	}
	require.Len(t, received, 6, "IPNs received")
	for i, r := range received {
		f := forms[i/2]
		canon, err := webhook.CanonicalSortedJSON(r.body, f)
		require.NoError(t, err)
		key := " padded-secret "
		if f == webhook.FormPHP {
			key = "padded-secret" // the PHP reference trims the secret
		}
		m := hmac.New(sha512.New, []byte(key))
		m.Write(canon)
		assert.Equal(t, hex.EncodeToString(m.Sum(nil)), r.header, "IPN %d (%s form): signature does not match that form", i, f)
	}
	var ipn map[string]any
	require.NoError(t, json.Unmarshal(received[0].body, &ipn), "IPN body %s", received[0].body)
	assert.Equal(t, "confirming", ipn["payment_status"], "IPN body %s", received[0].body)
	assert.Nil(t, ipn["order_id"], "IPN body %s", received[0].body)
}

func TestInvoicePageRedirects(t *testing.T) {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	ctx := context.Background()
	inv, err := c.CreateInvoice(ctx, jovepay.CreateInvoiceParams{PriceAmount: paykit.MustDecimal("25"), PriceCurrency: "usd",
		SuccessURL: "https://shop.example/thanks", PartiallyPaidURL: "https://shop.example/partial"})
	require.NoError(t, err)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func() *http.Response {
		resp, err := noFollow.Get(inv.InvoiceURL)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	r := get()
	assert.Equal(t, 200, r.StatusCode, "unpaid page")
	id, err := srv.ChooseCurrency(inv.ID, "ltc")
	require.NoError(t, err)
	_, err = srv.Pay(ctx, id)
	require.NoError(t, err)
	r = get()
	assert.Equal(t, http.StatusSeeOther, r.StatusCode, "paid page %s", r.Header.Get("Location"))
	assert.Equal(t, "https://shop.example/thanks", r.Header.Get("Location"), "paid page: %d", r.StatusCode)
}

func TestFaults(t *testing.T) {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	key := map[string]string{"x-api-key": srv.APIKey()}
	srv.FailNext(1, http.StatusTooManyRequests, 2*time.Second)
	req, _ := http.NewRequest("GET", srv.BaseURL+"/currencies", nil)
	req.Header.Set("x-api-key", srv.APIKey())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var env map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&env)
	resp.Body.Close()
	assert.Equal(t, 429, resp.StatusCode, "429 fault %v %v", resp.Header, env)
	assert.Equal(t, "2", resp.Header.Get("Retry-After"), "429 fault: %d %v %v", resp.StatusCode, resp.Header, env)
	assert.Equal(t, "TOO_MANY_REQUESTS", env["code"], "429 fault: %d %v %v", resp.StatusCode, resp.Header, env)
	assert.Equal(t, float64(429), env["statusCode"], "429 fault: %d %v %v", resp.StatusCode, resp.Header, env)
	srv.DropNext(1)
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}} // no silent retry on a reused connection
	_, err = fresh.Do(req.Clone(context.Background()))
	assert.Error(t, err, "dropped request answered")
	srv.SetLatency(30 * time.Millisecond)
	start := time.Now()
	status, _ := call(t, "GET", srv.BaseURL+"/currencies", key, "")
	elapsed := time.Since(start)
	assert.Equal(t, 200, status, "latency after %v", elapsed)
	assert.GreaterOrEqual(t, elapsed, 30*time.Millisecond, "latency")
	srv.AddFault(1, jovepaytest.Fault{LoseResponse: true, Match: jovepaytest.Match("POST", "/v1/payment")})
	srv.ResetFaults()
	status, _ = call(t, "POST", srv.BaseURL+"/payment", key, `{"price_amount":100,"price_currency":"usd","pay_currency":"btc"}`)
	assert.Equal(t, 201, status, "after reset")
	assert.Equal(t, 3, srv.CountCalls("GET", "/v1/currencies"), "recorded currency requests (failed and dropped ones too)")
}

// Helpers return once their IPNs were delivered, with the last one's Delivery.
func TestHelpersReturnLastDelivery(t *testing.T) {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	ctx := context.Background()
	var statuses []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Status string `json:"payment_status"`
		}
		_ = json.NewDecoder(r.Body).Decode(&b)
		statuses = append(statuses, b.Status) // deliveries are sequential
	}))
	defer recv.Close()
	p, err := c.CreatePayment(ctx, jovepay.CreatePaymentParams{PriceAmount: paykit.MustDecimal("100"), PriceCurrency: "usd",
		PayCurrency: "btc", IPNCallbackURL: recv.URL})
	require.NoError(t, err)
	d, err := srv.Pay(ctx, p.ID)
	require.NoError(t, err, "Pay = %+v", d)
	require.NotNil(t, d, "Pay")
	require.True(t, d.Delivered, "Pay = %+v", d)
	require.Equal(t, p.ID, d.PaymentID, "Pay = %+v", d)
	require.Equal(t, jovepay.StatusFinished, d.Status, "Pay = %+v", d)
	require.Len(t, d.Attempts, 1, "Pay = %+v", d)
	require.Equal(t, 200, d.Attempts[0].Status, "Pay = %+v", d)
	assert.Equal(t, "confirming,confirmed,sending,finished", strings.Join(statuses, ","), "received before Pay returned")
	dels := srv.Deliveries()
	if assert.Len(t, dels, 4, "Deliveries(), want 4 ending with Pay's") {
		assert.Same(t, d, dels[3], "Deliveries() does not end with Pay's")
	}
	again, err := srv.Redeliver(ctx, p.ID)
	require.NoError(t, err, "Redeliver = %+v", again)
	assert.Equal(t, d.Body, again.Body, "Redeliver = %+v", again)
	assert.Equal(t, jovepay.StatusFinished, again.Status, "Redeliver = %+v", again)
}
