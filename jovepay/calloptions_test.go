package jovepay_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/jovepay"
)

// The per-call options (paykit.CallOption) on every jovepay.Client method, tested against a
// go-github style mux that checks method, path, headers and body.

const (
	coKey       = "co-api-key-0123456789"
	coEmail     = "co@example.com"
	coPassword  = "co-password-horse-battery"
	coJWT       = "co-test-jwt"
	coPaymentID = "5745459419"
	coInvoiceID = "4522625843"
	coOrderID   = "A-7"
	coTestHdr   = "X-Paykit-Test"
)

// coPaymentJSON is a finished payment, the answer of every payment endpoint of coServer.
const coPaymentJSON = `{"payment_id":5745459419,"payment_status":"finished","order_id":"A-7","price_amount":10,` +
	`"price_currency":"usd","pay_amount":0.001,"actually_paid":0.001,"pay_currency":"btc","pay_address":"bc1q",` +
	`"created_at":"2025-03-01T12:00:00.000Z"}`

// coRequest is one request coServer received.
type coRequest struct {
	Method, Path string // Path is the escaped path, query excluded
	Header       http.Header
	Body         string
}

// coServer is an httptest server whose mux fails the test on any route not registered, and
// which records every request.
type coServer struct {
	t   *testing.T
	mux *http.ServeMux
	srv *httptest.Server

	mu   sync.Mutex
	reqs []coRequest
}

func newCoServer(t *testing.T) *coServer {
	t.Helper()
	s := &coServer{t: t, mux: http.NewServeMux()}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL.EscapedPath())
		http.Error(w, "unexpected", http.StatusNotFound)
	})
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, coRequest{Method: r.Method, Path: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: string(body)})
		s.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		s.mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// client returns a client for s with the JWT credentials and fast retries; opts come last.
func (s *coServer) client(opts ...jovepay.Option) *jovepay.Client {
	s.t.Helper()
	base := []jovepay.Option{
		jovepay.WithBaseURL(s.srv.URL + "/v1"),
		jovepay.WithCredentials(coEmail, coPassword),
		jovepay.WithRetryWait(time.Millisecond, 2*time.Millisecond),
	}
	c, err := jovepay.NewClient(coKey, append(base, opts...)...)
	require.NoError(s.t, err)
	return c
}

// take returns the requests received since the last take.
func (s *coServer) take() []coRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.reqs
	s.reqs = nil
	return r
}

// count returns how many requests were received since the last take.
func (s *coServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// reply registers pattern to answer status with body after checking the credentials the route
// needs: none (/status, /auth), x-api-key, or x-api-key plus the Bearer JWT.
func (s *coServer) reply(pattern, auth string, status int, body string) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		switch auth {
		case "none":
			assert.Empty(s.t, r.Header.Get("x-api-key"), "%s: x-api-key", pattern)
			assert.Empty(s.t, r.Header.Get("Authorization"), "%s: Authorization", pattern)
		case "key":
			assert.Equal(s.t, coKey, r.Header.Get("x-api-key"), "%s: x-api-key", pattern)
			assert.Empty(s.t, r.Header.Get("Authorization"), "%s: Authorization", pattern)
		case "jwt":
			assert.Equal(s.t, coKey, r.Header.Get("x-api-key"), "%s: x-api-key", pattern)
			assert.Equal(s.t, "Bearer "+coJWT, r.Header.Get("Authorization"), "%s: Authorization", pattern)
		default:
			s.t.Fatalf("reply %s: unknown auth %q", pattern, auth)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
}

// serveAll registers every endpoint the client wraps, plus GET /v1/balance and
// GET /v1/payout/{id} for Do and DoJWT.
func (s *coServer) serveAll() {
	s.reply("GET /v1/status", "none", 200, `{"message":"OK"}`)
	s.serveAuth()
	s.reply("GET /v1/currencies", "key", 200, `{"currencies":["btc","eth"]}`)
	s.reply("GET /v1/full-currencies", "key", 200, `{"currencies":[{"id":1,"code":"BTC","name":"Bitcoin","enable":true}]}`)
	s.reply("GET /v1/merchant/coins", "key", 200, `{"selectedCurrencies":["btc"]}`)
	s.reply("GET /v1/min-amount", "key", 200, `{"currency_from":"btc","currency_to":"btc","min_amount":0.0002,"fiat_equivalent":0}`)
	s.reply("GET /v1/estimate", "key", 200, `{"currency_from":"usd","amount_from":10,"currency_to":"btc","estimated_amount":0.001}`)
	s.reply("POST /v1/payment", "key", 201, coPaymentJSON)
	s.reply("GET /v1/payment/{id}", "key", 200, coPaymentJSON)
	s.reply("GET /v1/payment/{$}", "jwt", 200, `{"data":[`+coPaymentJSON+`],"limit":100,"pagesCount":1,"total":1}`)
	s.reply("POST /v1/payment/{id}/update-merchant-estimate", "key", 200, `{"id":"5745459419","token_id":"1","pay_amount":0.001}`)
	s.reply("POST /v1/invoice", "key", 201, `{"id":"4522625843","token_id":"1","invoice_url":"https://pay.example/?iid=4522625843","price_amount":"10"}`)
	s.reply("POST /v1/invoice-payment", "key", 201, coPaymentJSON)
	s.reply("GET /v1/balance", "key", 200, `{"btc":{"amount":0.5,"pendingAmount":0}}`)
	s.reply("GET /v1/payout/{id}", "jwt", 200, `{"id":"5000000001","status":"FINISHED"}`)
}

// serveAuth registers POST /v1/auth, answering the test credentials with coJWT.
func (s *coServer) serveAuth() {
	s.mux.HandleFunc("POST /v1/auth", func(w http.ResponseWriter, r *http.Request) {
		assert.JSONEq(s.t, `{"email":"`+coEmail+`","password":"`+coPassword+`"}`, readBody(r), "login body")
		assert.Empty(s.t, r.Header.Get("x-api-key"), "login: x-api-key")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"token":"`+coJWT+`"}`)
	})
}

func readBody(r *http.Request) string {
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

// coMethod is one exported Client method called with the per-call options.
type coMethod struct {
	name string
	call func(ctx context.Context, c *jovepay.Client, opts ...paykit.CallOption) error
	// routes are the observed "METHOD /route" of the call's requests, in order (the login is
	// the client's own call, made inside the first JWT request).
	routes []string
}

// coMethods lists every exported method of *jovepay.Client that sends requests.
func coMethods() []coMethod {
	createParams := jovepay.CreatePaymentParams{PriceAmount: paykit.MustDecimal("10"), PriceCurrency: "usd", PayCurrency: "btc", OrderID: coOrderID}
	return []coMethod{
		{"Status", func(ctx context.Context, c *jovepay.Client, o ...paykit.CallOption) error {
			return c.Status(ctx, o...)
		}, []string{"GET /status"}},
		{"Currencies", func(ctx context.Context, c *jovepay.Client, o ...paykit.CallOption) error {
			_, err := c.Currencies(ctx, jovepay.CurrenciesParams{FixedRate: true}, o...)
			return err
		}, []string{"GET /currencies"}},
		{"FullCurrencies", func(ctx context.Context, c *jovepay.Client, o ...paykit.CallOption) error {
			_, err := c.FullCurrencies(ctx, o...)
			return err
		}, []string{"GET /full-currencies"}},
		{"MerchantCurrencies", func(ctx context.Context, c *jovepay.Client, o ...paykit.CallOption) error {
			_, err := c.MerchantCurrencies(ctx, o...)
			return err
		}, []string{"GET /merchant/coins"}},
		{"MinAmount", func(ctx context.Context, c *jovepay.Client, o ...paykit.CallOption) error {
			_, err := c.MinAmount(ctx, jovepay.MinAmountParams{CurrencyFrom: "btc"}, o...)
			return err
		}, []string{"GET /min-amount"}},
		{"Estimate", func(ctx context.Context, c *jovepay.Client, o ...paykit.CallOption) error {
			_, err := c.Estimate(ctx, jovepay.EstimateParams{Amount: paykit.MustDecimal("10"), CurrencyFrom: "usd", CurrencyTo: "btc"}, o...)
			return err
		}, []string{"GET /estimate"}},
		{"CreatePayment", func(ctx context.Context, c *jovepay.Client, o ...paykit.CallOption) error {
			_, err := c.CreatePayment(ctx, createParams, o...)
			return err
		}, []string{"POST /payment"}},
		{"GetPayment", func(ctx context.Context, c *jovepay.Client, o ...paykit.CallOption) error {
			_, err := c.GetPayment(ctx, coPaymentID, o...)
			return err
		}, []string{"GET /payment/{id}"}},
		{"UpdateMerchantEstimate", func(ctx context.Context, c *jovepay.Client, o ...paykit.CallOption) error {
			_, err := c.UpdateMerchantEstimate(ctx, coPaymentID, o...)
			return err
		}, []string{"POST /payment/{id}/update-merchant-estimate"}},
		{"CreateInvoice", func(ctx context.Context, c *jovepay.Client, o ...paykit.CallOption) error {
			_, err := c.CreateInvoice(ctx, jovepay.CreateInvoiceParams{PriceAmount: paykit.MustDecimal("10"), PriceCurrency: "usd", OrderID: coOrderID}, o...)
			return err
		}, []string{"POST /invoice"}},
		{"CreateInvoicePayment", func(ctx context.Context, c *jovepay.Client, o ...paykit.CallOption) error {
			_, err := c.CreateInvoicePayment(ctx, jovepay.CreateInvoicePaymentParams{InvoiceID: coInvoiceID, PayCurrency: "btc"}, o...)
			return err
		}, []string{"POST /invoice-payment"}},
		{"ListPaymentsPage", func(ctx context.Context, c *jovepay.Client, o ...paykit.CallOption) error {
			_, err := c.ListPaymentsPage(ctx, jovepay.ListPaymentsParams{Limit: 100}, o...)
			return err
		}, []string{"GET /payment/", "POST /auth"}},
		{"ListPayments", func(ctx context.Context, c *jovepay.Client, o ...paykit.CallOption) error {
			for _, err := range c.ListPayments(ctx, jovepay.ListPaymentsParams{Limit: 100}, o...) {
				if err != nil {
					return err
				}
			}
			return nil
		}, []string{"GET /payment/", "POST /auth"}},
		{"FindPaymentByOrderID", func(ctx context.Context, c *jovepay.Client, o ...paykit.CallOption) error {
			_, err := c.FindPaymentByOrderID(ctx, coOrderID, time.Time{}, o...)
			return err
		}, []string{"GET /payment/", "POST /auth"}},
		{"CreatePaymentOnce", func(ctx context.Context, c *jovepay.Client, o ...paykit.CallOption) error {
			_, err := c.CreatePaymentOnce(ctx, createParams, jovepay.OnceOptions{}, o...)
			return err
		}, []string{"POST /payment"}},
		{"WaitForPayment", func(ctx context.Context, c *jovepay.Client, o ...paykit.CallOption) error {
			_, err := c.WaitForPayment(ctx, coPaymentID, jovepay.WithCallOptions(o...))
			return err
		}, []string{"GET /payment/{id}"}},
		{"Do", func(ctx context.Context, c *jovepay.Client, o ...paykit.CallOption) error {
			var out map[string]any
			return c.Do(ctx, "GET", "/payment/"+coPaymentID, nil, &out, o...)
		}, []string{"GET /payment/{id}"}},
		{"DoJWT", func(ctx context.Context, c *jovepay.Client, o ...paykit.CallOption) error {
			var out map[string]any
			return c.DoJWT(ctx, "GET", "payout/5000000001", nil, &out, o...)
		}, []string{"GET /payout/{id}", "POST /auth"}},
	}
}

// coNoRequest are the exported Client methods that send nothing, so take no CallOptions.
var coNoRequest = []string{"BaseURL", "HasCredentials"}

// TestCallOptionsEveryMethod: every method that sends a request takes the per-call options:
// a WithHeader reaches the wire on each of its requests, WithResponseInfo is filled, and the
// route the Observer sees is a template without the raw ids.
func TestCallOptionsEveryMethod(t *testing.T) {
	methods := coMethods()
	var names []string
	for _, m := range methods {
		names = append(names, m.name)
	}
	// WaitForPayment takes call options through WithCallOptions.
	apitest.MethodTable(t, reflect.TypeFor[*jovepay.Client](), names, coNoRequest, []string{"WaitForPayment"})

	for _, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			srv := newCoServer(t)
			srv.serveAll()
			obs := new(apitest.Observer)
			c := srv.client(jovepay.WithObserver(obs))
			var info paykit.ResponseInfo
			err := m.call(context.Background(), c, paykit.WithHeader(coTestHdr, m.name), paykit.WithResponseInfo(&info))
			require.NoError(t, err)

			reqs := srv.take()
			require.NotEmpty(t, reqs, "requests sent")
			sent := 0
			for _, r := range reqs {
				if r.Path == "/v1/auth" {
					continue // the client's own login, not the caller's request
				}
				sent++
				assert.Equal(t, []string{m.name}, r.Header.Values(coTestHdr), "%s %s: %s", r.Method, r.Path, coTestHdr)
			}
			assert.Positive(t, sent, "requests of the call itself")
			assert.Contains(t, []int{200, 201}, info.StatusCode, "info.StatusCode")
			assert.Equal(t, 1, info.Attempts, "info.Attempts")
			assert.Positive(t, info.Duration, "info.Duration")
			assert.Empty(t, info.IdempotencyKey, "info.IdempotencyKey: JovePay takes none")

			routes := obs.Routes()
			assert.Empty(t, cmp.Diff(m.routes, routes), "observed routes (-want +got)")
			for _, r := range routes {
				for _, raw := range []string{coPaymentID, coInvoiceID, coOrderID, "5000000001"} {
					assert.NotContains(t, r, raw, "route %q carries a raw id", r)
				}
			}
		})
	}
}

// TestCallOptionsIdempotencyKeyRefused: JovePay documents no idempotency mechanism, so every
// call given WithIdempotencyKey fails with a *paykit.ValidationError and sends nothing.
func TestCallOptionsIdempotencyKeyRefused(t *testing.T) {
	for _, m := range coMethods() {
		t.Run(m.name, func(t *testing.T) {
			srv := newCoServer(t)
			srv.serveAll()
			c := srv.client()
			var info paykit.ResponseInfo
			err := m.call(context.Background(), c, paykit.WithIdempotencyKey("order-A-7-attempt-1"), paykit.WithResponseInfo(&info))
			var vErr *paykit.ValidationError
			require.ErrorAs(t, err, &vErr)
			assert.Equal(t, "WithIdempotencyKey", vErr.Field, "field")
			assert.Contains(t, err.Error(), "no idempotency", "message")
			// Only the JWT login may have gone out before the refusal; the call itself did not.
			for _, r := range srv.take() {
				assert.Equal(t, "/v1/auth", r.Path, "%s %s sent despite the refused key", r.Method, r.Path)
			}
			assert.Zero(t, info.Attempts, "info.Attempts")
		})
	}
}

// TestCallOptionsInvalidOption: an invalid CallOption fails before anything is sent.
func TestCallOptionsInvalidOption(t *testing.T) {
	srv := newCoServer(t)
	c := srv.client()
	for name, opt := range map[string]paykit.CallOption{
		"reserved header": paykit.WithHeader("x-api-key", "other"),
		"timeout":         paykit.WithTimeout(0),
		"retries":         paykit.WithMaxRetries(11),
		"info":            paykit.WithResponseInfo(nil),
	} {
		_, err := c.GetPayment(context.Background(), coPaymentID, opt)
		var vErr *paykit.ValidationError
		assert.ErrorAs(t, err, &vErr, name)
	}
	assert.Zero(t, srv.count(), "requests sent")
}

// TestCallOptionsTimeout: WithTimeout ends a slow call with context.DeadlineExceeded.
func TestCallOptionsTimeout(t *testing.T) {
	srv := newCoServer(t)
	srv.mux.HandleFunc("GET /v1/payment/{id}", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		w.WriteHeader(http.StatusGatewayTimeout)
	})
	c := srv.client()
	start := time.Now()
	var info paykit.ResponseInfo
	_, err := c.GetPayment(context.Background(), coPaymentID, paykit.WithTimeout(50*time.Millisecond), paykit.WithResponseInfo(&info))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 4*time.Second, "the call waited for the server instead of its timeout")
	assert.Equal(t, 1, srv.count(), "requests: a timed-out call is not retried")
	assert.Zero(t, info.StatusCode, "no response arrived")
	assert.Equal(t, 1, info.Attempts, "info.Attempts")

	// A create that times out may have reached JovePay: its outcome is unknown.
	srv.mux.HandleFunc("POST /v1/payment", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	_, err = c.CreatePayment(context.Background(), jovepay.CreatePaymentParams{PriceAmount: paykit.MustDecimal("10"), PriceCurrency: "usd", PayCurrency: "btc"},
		paykit.WithTimeout(50*time.Millisecond))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, paykit.ErrUnknownOutcome)
}

// coFlaky answers GET /v1/payment/{id} with the statuses in order, then 200 with a payment;
// every answer carries a request id and rate-limit headers.
func coFlaky(srv *coServer, statuses ...int) {
	var mu sync.Mutex
	n := 0
	srv.mux.HandleFunc("GET /v1/payment/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		i := n
		mu.Unlock()
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("X-Request-Id", "req-"+strconv.Itoa(i))
		h.Set("X-RateLimit-Limit", "100")
		h.Set("X-RateLimit-Remaining", strconv.Itoa(10-i))
		h.Set("X-RateLimit-Reset", "30")
		if i <= len(statuses) {
			st := statuses[i-1]
			w.WriteHeader(st)
			code := map[int]string{404: "NOT_FOUND", 503: "SERVICE_UNAVAILABLE"}[st]
			_, _ = io.WriteString(w, `{"statusCode":`+strconv.Itoa(st)+`,"code":"`+code+`","message":"not now"}`)
			return
		}
		_, _ = io.WriteString(w, coPaymentJSON)
	})
}

// TestCallOptionsMaxRetries: WithMaxRetries(0) and (2) against a server that keeps answering
// 503: one attempt, then three.
func TestCallOptionsMaxRetries(t *testing.T) {
	for _, tc := range []struct {
		retries, attempts int
	}{{0, 1}, {2, 3}} {
		srv := newCoServer(t)
		coFlaky(srv, 503, 503, 503, 503, 503, 503)
		c := srv.client()
		var info paykit.ResponseInfo
		_, err := c.GetPayment(context.Background(), coPaymentID, paykit.WithMaxRetries(tc.retries), paykit.WithResponseInfo(&info))
		var apiErr *paykit.Error
		require.ErrorAs(t, err, &apiErr, "WithMaxRetries(%d)", tc.retries)
		assert.Equal(t, 503, apiErr.Status, "WithMaxRetries(%d): status", tc.retries)
		assert.Equal(t, tc.attempts, srv.count(), "WithMaxRetries(%d): requests", tc.retries)
		assert.Equal(t, tc.attempts, info.Attempts, "WithMaxRetries(%d): info.Attempts", tc.retries)
		assert.Equal(t, 503, info.StatusCode, "WithMaxRetries(%d): info.StatusCode", tc.retries)
	}
}

// TestResponseInfo: filled on success, on an API error and after retries, with the request id
// and the X-RateLimit-* headers.
func TestResponseInfo(t *testing.T) {
	checkRateLimit := func(t *testing.T, rl paykit.RateLimit, remaining int, before time.Time) {
		t.Helper()
		assert.True(t, rl.Known(), "RateLimit.Known")
		assert.Equal(t, 100, rl.Limit, "RateLimit.Limit")
		assert.Equal(t, remaining, rl.Remaining, "RateLimit.Remaining")
		assert.WithinRange(t, rl.Reset, before.Add(29*time.Second), time.Now().Add(31*time.Second), "RateLimit.Reset: 30 s after the answer")
	}

	t.Run("success", func(t *testing.T) {
		srv := newCoServer(t)
		coFlaky(srv)
		c := srv.client()
		before := time.Now()
		var info paykit.ResponseInfo
		p, err := c.GetPayment(context.Background(), coPaymentID, paykit.WithResponseInfo(&info))
		require.NoError(t, err)
		assert.Equal(t, coOrderID, p.OrderID(), "payment decoded")
		assert.Equal(t, 200, info.StatusCode, "StatusCode")
		assert.Equal(t, "req-1", info.RequestID, "RequestID")
		assert.Equal(t, "req-1", info.Header.Get("X-Request-Id"), "Header")
		assert.Equal(t, 1, info.Attempts, "Attempts")
		assert.Positive(t, info.Duration, "Duration")
		assert.Empty(t, info.IdempotencyKey, "IdempotencyKey")
		checkRateLimit(t, info.RateLimit, 9, before)
	})

	t.Run("API error", func(t *testing.T) {
		srv := newCoServer(t)
		coFlaky(srv, 404)
		c := srv.client()
		before := time.Now()
		var info paykit.ResponseInfo
		_, err := c.GetPayment(context.Background(), coPaymentID, paykit.WithResponseInfo(&info))
		var apiErr *paykit.Error
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 404, apiErr.Status, "error status")
		assert.Equal(t, "NOT_FOUND", apiErr.Code, "error code")
		assert.Equal(t, 404, info.StatusCode, "StatusCode")
		assert.Equal(t, "req-1", info.RequestID, "RequestID")
		assert.Equal(t, 1, info.Attempts, "Attempts: a 404 is not retried")
		checkRateLimit(t, info.RateLimit, 9, before)
	})

	t.Run("after retries", func(t *testing.T) {
		srv := newCoServer(t)
		coFlaky(srv, 503, 503)
		c := srv.client()
		before := time.Now()
		var info paykit.ResponseInfo
		_, err := c.GetPayment(context.Background(), coPaymentID, paykit.WithResponseInfo(&info))
		require.NoError(t, err)
		assert.Equal(t, 200, info.StatusCode, "StatusCode")
		assert.Equal(t, 3, info.Attempts, "Attempts")
		assert.Equal(t, "req-3", info.RequestID, "RequestID of the last answer")
		checkRateLimit(t, info.RateLimit, 7, before)
	})

	t.Run("list: the last page", func(t *testing.T) {
		srv := newCoServer(t)
		srv.serveAuth()
		srv.mux.HandleFunc("GET /v1/payment/{$}", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Request-Id", "page-"+r.URL.Query().Get("page"))
			_, _ = io.WriteString(w, `{"data":[`+coPaymentJSON+`],"limit":1,"pagesCount":2,"total":2}`)
		})
		c := srv.client()
		var info paykit.ResponseInfo
		n := 0
		for _, err := range c.ListPayments(context.Background(), jovepay.ListPaymentsParams{Limit: 1}, paykit.WithResponseInfo(&info)) {
			require.NoError(t, err)
			n++
		}
		assert.Equal(t, 2, n, "payments")
		assert.Equal(t, "page-1", info.RequestID, "WithResponseInfo holds the last request's info")
	})
}

// TestCallOptionsHeaderOnRetries: WithHeader is sent on every attempt.
func TestCallOptionsHeaderOnRetries(t *testing.T) {
	srv := newCoServer(t)
	coFlaky(srv, 503)
	c := srv.client()
	_, err := c.GetPayment(context.Background(), coPaymentID, paykit.WithHeader(coTestHdr, "a"), paykit.WithHeader(coTestHdr, "b"))
	require.NoError(t, err)
	reqs := srv.take()
	require.Len(t, reqs, 2)
	for i, r := range reqs {
		assert.Equal(t, []string{"a", "b"}, r.Header.Values(coTestHdr), "attempt %d", i+1)
		assert.Equal(t, coKey, r.Header.Get("x-api-key"), "attempt %d: auth kept", i+1)
	}
}
