package jovepaytest_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/jovepay/jovepaytest"
	"github.com/paykit-go/paykit/webhook"
)

// call sends a raw request to the fake and returns status and decoded JSON body.
func call(t *testing.T, method, url string, header map[string]string, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&out); err != nil {
		t.Fatalf("%s %s: body %q is not a JSON object", method, url, raw)
	}
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
		if status != tc.status {
			t.Errorf("%s: status %d, want %d (%v)", tc.name, status, tc.status, body)
		}
		delete(body, "message")
		if diff := cmp.Diff(envelope(tc.status, tc.code), body); diff != "" {
			t.Errorf("%s: envelope (-want +got):\n%s", tc.name, diff)
		}
	}
	status, body := call(t, "GET", srv.URL+"/v1/status", nil, "")
	if status != 200 || body["message"] != "OK" {
		t.Errorf("status: %d %v", status, body)
	}
	status, body = call(t, "POST", srv.URL+"/v1/auth", nil, `{"email":"`+email+`","password":"`+password+`"}`)
	if status != 200 || !strings.HasPrefix(body["token"].(string), "eyJ") || srv.Logins() != 1 {
		t.Errorf("login: %d %v", status, body)
	}
	for _, q := range []string{"limit=0", "limit=501", "page=-1", "sortBy=nope", "orderBy=up", "dateFrom=yesterday", "invoiceId=x"} {
		status, body := call(t, "GET", srv.URL+"/v1/payment/?"+q, map[string]string{"x-api-key": srv.APIKey(), "Authorization": "Bearer " + body["token"].(string)}, "")
		if status != 400 || body["code"] != "INVALID_REQUEST_PARAMS" {
			t.Errorf("list %s: %d %v", q, status, body)
		}
	}
}

func TestIDsDriftLikeJovePay(t *testing.T) {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	key := map[string]string{"x-api-key": srv.APIKey()}
	status, created := call(t, "POST", srv.BaseURL+"/payment", key, `{"price_amount":"49.99","price_currency":"usd","pay_currency":"btc","order_id":"X"}`)
	if status != 201 {
		t.Fatalf("create: %d %v", status, created)
	}
	id, isString := created["payment_id"].(string)
	if !isString || created["pay_amount"] != json.Number("0.0009998") {
		t.Errorf("create response: payment_id %T %v, pay_amount %v", created["payment_id"], created["payment_id"], created["pay_amount"])
	}
	_, got := call(t, "GET", srv.BaseURL+"/payment/"+id, key, "")
	if _, isNumber := got["payment_id"].(json.Number); !isNumber || got["payment_id"] != json.Number(id) {
		t.Errorf("status response payment_id %T %v", got["payment_id"], got["payment_id"])
	}
	if _, isString := got["purchase_id"].(string); !isString {
		t.Errorf("purchase_id %T", got["purchase_id"])
	}
	status, inv := call(t, "POST", srv.BaseURL+"/invoice", key, `{"price_amount":1000,"price_currency":"usd"}`)
	if status != 201 || inv["price_amount"] != "1000" || inv["pay_currency"] != nil {
		t.Errorf("invoice: %d %v", status, inv)
	}
}

func TestMarket(t *testing.T) {
	srv := jovepaytest.NewServer(jovepaytest.WithRate("doge", paykit.MustDecimal("0.08")),
		jovepaytest.WithMinAmount("doge", paykit.MustDecimal("50")), jovepaytest.WithMerchantCoinsField("currencies"))
	defer srv.Close()
	c, err := srv.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cur, err := c.Currencies(ctx, jovepay.CurrenciesParams{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"btc", "doge", "eth", "ltc", "trx", "usdttrc20", "xrp"}, cur); diff != "" {
		t.Errorf("currencies (-want +got):\n%s", diff)
	}
	coins, err := c.MerchantCurrencies(ctx)
	if err != nil || len(coins) != 7 || coins[0] != "BTC" {
		t.Errorf("merchant coins %v %v", coins, err)
	}
	full, err := c.FullCurrencies(ctx)
	if err != nil || len(full) != 7 || full[6].Code != "XRP" || !full[6].ExtraIDExists || !full[0].Enable {
		t.Errorf("full currencies %+v %v", full, err)
	}
	m, err := c.MinAmount(ctx, jovepay.MinAmountParams{CurrencyFrom: "doge", FiatEquivalent: "usd"})
	if err != nil || m.MinAmount.String() != "50" || m.FiatEquivalent.String() != "4" {
		t.Errorf("min %+v %v", m, err)
	}
	e, err := c.Estimate(ctx, jovepay.EstimateParams{Amount: paykit.MustDecimal("49.99"), CurrencyFrom: "usd", CurrencyTo: "btc"})
	if err != nil || e.EstimatedAmount.String() != "0.0009998" {
		t.Errorf("estimate %+v %v", e, err)
	}
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
	if status, _ := call(t, "GET", srv.BaseURL+"/payment/", h, ""); status != 200 {
		t.Fatalf("fresh token: %d", status)
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if status, body := call(t, "GET", srv.BaseURL+"/payment/", h, ""); status != 401 || body["code"] != "AUTH_REQUIRED" {
		t.Errorf("expired token: %d %v", status, body)
	}
}

func TestLifecycle(t *testing.T) {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	ctx := context.Background()
	create := func(order string) *jovepay.Payment {
		p, err := c.CreatePayment(ctx, jovepay.CreatePaymentParams{PriceAmount: paykit.MustDecimal("100"), PriceCurrency: "usd", PayCurrency: "btc", OrderID: order})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	status := func(id jovepay.ID) *jovepay.Payment {
		p, err := c.GetPayment(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	p := create("P-1")
	if _, err := srv.PayAmount(ctx, p.ID, paykit.MustDecimal("0.0005")); err != nil {
		t.Fatal(err)
	}
	got := status(p.ID)
	if got.Status != jovepay.StatusPartiallyPaid || got.ActuallyPaid.String() != "0.0005" || got.PayinHash == "" {
		t.Errorf("partial: %+v", got)
	}
	if _, err := srv.PayAmount(ctx, p.ID, paykit.MustDecimal("0.0015")); !errors.Is(err, jovepaytest.ErrTransition) {
		t.Errorf("paying a partially paid payment again: %v (use Redeposit)", err)
	}
	child, err := srv.Redeposit(ctx, p.ID, paykit.MustDecimal("0.0015"))
	if err != nil {
		t.Fatal(err)
	}
	ch := status(child)
	if ch.ParentPaymentID != p.ID || ch.OriginType != "REPEATED" || !ch.IsRepeatedDeposit() || ch.Status != jovepay.StatusFinished ||
		ch.PayAddress != p.PayAddress || ch.OrderID != "P-1" || ch.PriceAmount.String() != "75" {
		t.Errorf("re-deposit: %+v", ch)
	}

	q := create("P-2")
	if _, err := srv.Pay(ctx, q.ID); err != nil {
		t.Fatal(err)
	}
	got = status(q.ID)
	if got.Status != jovepay.StatusFinished || !got.ActuallyPaid.Equal(got.PayAmount) || got.OutcomeAmount.String() != "0.00199" || got.PayoutHash == "" {
		t.Errorf("complete: %+v", got)
	}
	if _, err := srv.Expire(ctx, q.ID); !errors.Is(err, jovepaytest.ErrTransition) {
		t.Errorf("expire a finished payment: %v", err)
	}
	if _, err := srv.Refund(ctx, q.ID); err != nil || status(q.ID).Status != jovepay.StatusRefunded {
		t.Errorf("refund: %v", err)
	}
	r := create("P-3")
	if _, err := srv.Expire(ctx, r.ID); err != nil || status(r.ID).Status != jovepay.StatusExpired {
		t.Errorf("expire: %v", err)
	}
	f := create("P-4")
	if _, err := srv.Fail(ctx, f.ID); err != nil || status(f.ID).Status != jovepay.StatusFailed {
		t.Errorf("fail: %v", err)
	}
	if _, err := srv.SetStatus(ctx, "999", jovepay.StatusFinished); err == nil {
		t.Error("unknown payment advanced")
	}
	est, err := c.UpdateMerchantEstimate(ctx, create("P-5").ID)
	if err != nil || est.PayAmount.String() != "0.002" {
		t.Errorf("update estimate: %+v %v", est, err)
	}
	if _, err := c.UpdateMerchantEstimate(ctx, q.ID); !paykit.IsCode(err, jovepay.CodeInvalidRequestParams) {
		t.Errorf("update estimate of a final payment: %v", err)
	}
	if len(srv.Deliveries()) != 0 {
		t.Error("deliveries without an ipn_callback_url")
	}
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
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"payment_id":1,"payment_status":"finished","actually_paid":1e-7,"tags":["a","é"]}`)
	forms := []webhook.SortedJSONForm{webhook.FormNode, webhook.FormPHP, webhook.FormPython}
	for _, f := range forms {
		srv.SetSignatureForm(f)
		if _, err := srv.SetStatus(ctx, p.ID, jovepay.StatusConfirming); err != nil {
			t.Fatal(err)
		}
		srv.DeliverIPN(ctx, recv.URL, body)
	}
	if len(received) != 6 {
		t.Fatalf("received %d IPNs", len(received))
	}
	for i, r := range received {
		f := forms[i/2]
		canon, err := webhook.CanonicalSortedJSON(r.body, f)
		if err != nil {
			t.Fatal(err)
		}
		key := " padded-secret "
		if f == webhook.FormPHP {
			key = "padded-secret" // the PHP reference trims the secret
		}
		m := hmac.New(sha512.New, []byte(key))
		m.Write(canon)
		if want := hex.EncodeToString(m.Sum(nil)); r.header != want {
			t.Errorf("IPN %d (%s form): signature does not match that form", i, f)
		}
	}
	var ipn map[string]any
	if err := json.Unmarshal(received[0].body, &ipn); err != nil || ipn["payment_status"] != "confirming" || ipn["order_id"] != nil {
		t.Errorf("IPN body %s", received[0].body)
	}
}

func TestInvoicePageRedirects(t *testing.T) {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	ctx := context.Background()
	inv, err := c.CreateInvoice(ctx, jovepay.CreateInvoiceParams{PriceAmount: paykit.MustDecimal("25"), PriceCurrency: "usd",
		SuccessURL: "https://shop.example/thanks", PartiallyPaidURL: "https://shop.example/partial"})
	if err != nil {
		t.Fatal(err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func() *http.Response {
		resp, err := noFollow.Get(inv.InvoiceURL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := get(); r.StatusCode != 200 {
		t.Errorf("unpaid page: %d", r.StatusCode)
	}
	id, err := srv.ChooseCurrency(inv.ID, "ltc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Pay(ctx, id); err != nil {
		t.Fatal(err)
	}
	if r := get(); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "https://shop.example/thanks" {
		t.Errorf("paid page: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
}

func TestFaults(t *testing.T) {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	key := map[string]string{"x-api-key": srv.APIKey()}
	srv.FailNext(1, http.StatusTooManyRequests, 2*time.Second)
	req, _ := http.NewRequest("GET", srv.BaseURL+"/currencies", nil)
	req.Header.Set("x-api-key", srv.APIKey())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&env)
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" || env["code"] != "TOO_MANY_REQUESTS" || env["statusCode"] != float64(429) {
		t.Errorf("429 fault: %d %v %v", resp.StatusCode, resp.Header, env)
	}
	srv.DropNext(1)
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}} // no silent retry on a reused connection
	if _, err := fresh.Do(req.Clone(context.Background())); err == nil {
		t.Error("dropped request answered")
	}
	srv.SetLatency(30 * time.Millisecond)
	start := time.Now()
	if status, _ := call(t, "GET", srv.BaseURL+"/currencies", key, ""); status != 200 || time.Since(start) < 30*time.Millisecond {
		t.Errorf("latency: %d after %v", status, time.Since(start))
	}
	srv.AddFault(1, jovepaytest.Fault{LoseResponse: true, Match: jovepaytest.Match("POST", "/v1/payment")})
	srv.ResetFaults()
	if status, _ := call(t, "POST", srv.BaseURL+"/payment", key, `{"price_amount":100,"price_currency":"usd","pay_currency":"btc"}`); status != 201 {
		t.Errorf("after reset: %d", status)
	}
	if n := srv.CountCalls("GET", "/v1/currencies"); n != 3 {
		t.Errorf("recorded %d currency requests, want 3 (failed and dropped ones too)", n)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	d, err := srv.Pay(ctx, p.ID)
	if err != nil || d == nil || !d.Delivered || d.PaymentID != p.ID || d.Status != jovepay.StatusFinished || len(d.Attempts) != 1 || d.Attempts[0].Status != 200 {
		t.Fatalf("Pay = %+v, %v", d, err)
	}
	if got := strings.Join(statuses, ","); got != "confirming,confirmed,sending,finished" {
		t.Errorf("received before Pay returned: %s", got)
	}
	dels := srv.Deliveries()
	if len(dels) != 4 || dels[3] != d {
		t.Errorf("Deliveries() = %d, want 4 ending with Pay's", len(dels))
	}
	again, err := srv.Redeliver(ctx, p.ID)
	if err != nil || !bytes.Equal(again.Body, d.Body) || again.Status != jovepay.StatusFinished {
		t.Errorf("Redeliver = %+v, %v", again, err)
	}
}
