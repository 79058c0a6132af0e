package pepay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
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

func drainSeq[T any](seq iter.Seq2[T, error]) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}

// callFixture is what the table's calls need: objects on a fake Pepay and clients for it.
type callFixture struct {
	srv       *pepaytest.Server
	client    *pepay.Client // merchant key and dashboard token, with a recording apitest.Observer
	payor     *pepay.PayorClient
	commerce  *pepay.CommerceClient
	obs       *apitest.Observer
	invoiceID string
	customer  string
	eventID   string
	tokenID   int64
	network   string
}

// rawIDs are the fixture's ids, none of which may appear in a route.
func (f *callFixture) rawIDs() []string { return []string{f.invoiceID, f.customer, f.eventID} }

func newCallFixture(t *testing.T) *callFixture {
	t.Helper()
	ctx := context.Background()
	srv := pepaytest.NewServer()
	t.Cleanup(srv.Close)
	setupClient, err := srv.NewClient()
	require.NoError(t, err)
	created, err := setupClient.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("25"), CustomerID: "cus_4711"})
	require.NoError(t, err)
	var eventID string
	for e, err := range setupClient.ListEvents(ctx, pepay.ListEventsParams{}) {
		require.NoError(t, err)
		eventID = e.ID
		break
	}
	require.NotEmpty(t, eventID, "the fake recorded no event for the new invoice")
	obs := &apitest.Observer{}
	c, err := srv.NewClient(pepay.WithDashboardToken(pepaytest.DefaultDashboardToken), pepay.WithObserver(obs))
	require.NoError(t, err)
	payor, err := c.PayorSession(created.PaymentSessionHeaders)
	require.NoError(t, err)
	tokens, err := payor.AvailableTokens(ctx, pepay.AvailableTokensParams{})
	require.NoError(t, err)
	require.NotEmpty(t, tokens)
	commerce, err := srv.NewCommerceClient(pepay.WithObserver(obs))
	require.NoError(t, err)
	obs.Take()
	srv.ResetCalls()
	return &callFixture{
		srv: srv, client: c, payor: payor, commerce: commerce, obs: obs,
		invoiceID: created.InvoiceID, customer: "cus_4711", eventID: eventID,
		tokenID: tokens[0].ID, network: tokens[0].Network,
	}
}

// clientCall is one exported method of a client, called with per-call options.
type clientCall struct {
	method string // the method's name, as reflect lists it
	routes []string
	call   func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error
}

// clientCalls covers every exported method of *pepay.Client that sends a request.
func clientCalls() []clientCall {
	return []clientCall{
		{"CreateInvoice", []string{"/invoices"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			_, err := f.client.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("3.50")}, opts...)
			return err
		}},
		{"GetInvoice", []string{"/invoices/{id}"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			_, err := f.client.GetInvoice(ctx, f.invoiceID, opts...)
			return err
		}},
		{"GetInvoiceExpanded", []string{"/invoices/{id}"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			_, err := f.client.GetInvoiceExpanded(ctx, f.invoiceID, pepay.GetInvoiceParams{Expand: []pepay.ExpandField{pepay.ExpandPayments}}, opts...)
			return err
		}},
		{"GetInvoiceStatus", []string{"/invoices/{id}/status"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			_, err := f.client.GetInvoiceStatus(ctx, f.invoiceID, opts...)
			return err
		}},
		{"ListInvoicesPage", []string{"/invoices"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			_, err := f.client.ListInvoicesPage(ctx, pepay.ListInvoicesParams{Limit: 5}, opts...)
			return err
		}},
		{"ListInvoices", []string{"/invoices"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			return drainSeq(f.client.ListInvoices(ctx, pepay.ListInvoicesParams{}, opts...))
		}},
		{"ListCustomerInvoicesPage", []string{"/invoices/customer/{customer_id}"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			_, err := f.client.ListCustomerInvoicesPage(ctx, f.customer, pepay.ListInvoicesParams{}, opts...)
			return err
		}},
		{"ListCustomerInvoices", []string{"/invoices/customer/{customer_id}"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			return drainSeq(f.client.ListCustomerInvoices(ctx, f.customer, pepay.ListInvoicesParams{}, opts...))
		}},
		{"InvoiceTotals", []string{"/invoices/totals"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			_, err := f.client.InvoiceTotals(ctx, pepay.InvoiceTotalsParams{}, opts...)
			return err
		}},
		{"ListEventsPage", []string{"/events"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			_, err := f.client.ListEventsPage(ctx, pepay.ListEventsParams{}, opts...)
			return err
		}},
		{"ListEvents", []string{"/events"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			return drainSeq(f.client.ListEvents(ctx, pepay.ListEventsParams{}, opts...))
		}},
		{"EventsAfter", []string{"/events"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			return drainSeq(f.client.EventsAfter(ctx, f.eventID, pepay.ListEventsParams{}, opts...))
		}},
		{"GetEvent", []string{"/events/{id}"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			_, err := f.client.GetEvent(ctx, f.eventID, opts...)
			return err
		}},
		{"NewWSToken", []string{"/ws/token"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			_, err := f.client.NewWSToken(ctx, pepay.ScopeMerchant, time.Minute, opts...)
			return err
		}},
		{"MainnetAccessStatus", []string{"/user/mainnet-access/status"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			_, err := f.client.MainnetAccessStatus(ctx, opts...)
			return err
		}},
		{"SwitchAccountEnvironment", []string{"/user/environment"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			return f.client.SwitchAccountEnvironment(ctx, pepay.EnvironmentDevnet, opts...)
		}},
		{"WaitForInvoice", []string{"/invoices/{id}/status"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			_, err := f.srv.Expire(ctx, f.invoiceID) // terminal: one poll
			if err != nil {
				return err
			}
			_, err = f.client.WaitForInvoice(ctx, f.invoiceID, pepay.WithCallOptions(opts...))
			return err
		}},
		{"Do", []string{"/invoices/{id}"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			var out map[string]any
			return f.client.Do(ctx, http.MethodGet, "invoices/"+f.invoiceID, nil, &out, opts...)
		}},
	}
}

// payorCalls covers every exported method of *pepay.PayorClient that sends a request.
func payorCalls() []clientCall {
	return []clientCall{
		{"SessionDetails", []string{"/payments/session-details"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			_, err := f.payor.SessionDetails(ctx, opts...)
			return err
		}},
		{"AvailableTokens", []string{"/payments/available-tokens"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			_, err := f.payor.AvailableTokens(ctx, pepay.AvailableTokensParams{AvailableOnly: true}, opts...)
			return err
		}},
		{"CreatePaymentAddress", []string{"/payments/payment-addresses"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			_, err := f.payor.CreatePaymentAddress(ctx, f.network, f.tokenID, opts...)
			return err
		}},
		{"PaymentStatus", []string{"/payments/payment-status"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			_, err := f.payor.PaymentStatus(ctx, opts...)
			return err
		}},
		{"SetCustomerEmail", []string{"/payments/customer-email"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			return f.payor.SetCustomerEmail(ctx, "payor@example.com", opts...)
		}},
		{"VerifyInvoice", []string{"/invoice/{id}/verify"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			_, err := f.payor.VerifyInvoice(ctx, f.invoiceID, opts...)
			return err
		}},
	}
}

// commerceCalls covers every exported method of *pepay.CommerceClient that sends a request.
func commerceCalls() []clientCall {
	return []clientCall{
		{"NewWSToken", []string{"/ws/token"}, func(ctx context.Context, f *callFixture, opts ...paykit.CallOption) error {
			_, err := f.commerce.NewWSToken(ctx, time.Minute, opts...)
			return err
		}},
	}
}

// The methods that send no REST request, or none a per-call option could apply to.
var (
	clientExceptions = map[string]string{
		"BaseURL":         "accessor",
		"Environment":     "accessor",
		"PayorSession":    "builds a PayorClient; sends nothing",
		"Stream":          "WebSocket; reconnects are reported through StreamParams.OnReconnect",
		"StreamWithClock": "test hook for Stream (export_test.go)",
	}
	streamOnly = map[string]string{"Stream": "WebSocket; reconnects are reported through OnReconnect"}
)

// checkCompleteTable asserts that calls names exactly typ's exported methods minus exceptions,
// and that each takes trailing ...paykit.CallOption (WaitForInvoice through WithCallOptions).
func checkCompleteTable(t *testing.T, typ reflect.Type, calls []clientCall, exceptions map[string]string) {
	t.Helper()
	var table []string
	for _, c := range calls {
		table = append(table, c.method)
	}
	apitest.MethodTable(t, typ, table, slices.Collect(maps.Keys(exceptions)), []string{"WaitForInvoice"})
}

func TestCallOptions_tableIsComplete(t *testing.T) {
	checkCompleteTable(t, reflect.TypeFor[*pepay.Client](), clientCalls(), clientExceptions)
	checkCompleteTable(t, reflect.TypeFor[*pepay.PayorClient](), payorCalls(), streamOnly)
	checkCompleteTable(t, reflect.TypeFor[*pepay.CommerceClient](), commerceCalls(), streamOnly)
}

// Every method sends WithHeader's header on each request, fills WithResponseInfo, and reports
// a route template without any raw id to the observer.
func TestCallOptions_everyMethod(t *testing.T) {
	groups := []struct {
		name  string
		calls []clientCall
	}{{"Client", clientCalls()}, {"PayorClient", payorCalls()}, {"CommerceClient", commerceCalls()}}
	for _, g := range groups {
		for _, tc := range g.calls {
			t.Run(g.name+"."+tc.method, func(t *testing.T) {
				f := newCallFixture(t)
				name := g.name + "." + tc.method
				var info paykit.ResponseInfo
				err := tc.call(context.Background(), f, paykit.WithHeader("X-Paykit-Test", name), paykit.WithResponseInfo(&info))
				require.NoError(t, err)

				calls := f.srv.Calls()
				require.NotEmpty(t, calls, "no request reached the server")
				for _, c := range calls {
					assert.Equal(t, []string{name}, c.Header.Values("X-Paykit-Test"), "%s %s", c.Method, c.Path)
				}
				assert.GreaterOrEqual(t, info.StatusCode, 200)
				assert.Less(t, info.StatusCode, 300)
				assert.Equal(t, 1, info.Attempts, "attempts")
				assert.NotNil(t, info.Header)
				assert.Positive(t, info.Duration)

				starts := f.obs.Take()
				require.Len(t, starts, len(calls), "one observed call per request")
				for _, s := range starts {
					assert.Equal(t, "pepay", s.Provider)
					assert.Contains(t, tc.routes, s.Route)
					for _, id := range f.rawIDs() {
						assert.NotContains(t, s.Route, id, "route carries a raw id")
					}
				}
			})
		}
	}
}

// WithIdempotencyKey is refused with a *paykit.ValidationError, before anything is sent, by
// every call but CreateInvoice and Do.
func TestCallOptions_idempotencyKeyRefusedElsewhere(t *testing.T) {
	const key = "5f0c3a52-8f4e-4d4b-9a1e-2b7c9d0e1f23"
	all := slices.Concat(clientCalls(), payorCalls(), commerceCalls())
	for _, tc := range all {
		if tc.method == "CreateInvoice" || tc.method == "Do" {
			continue
		}
		t.Run(tc.method, func(t *testing.T) {
			f := newCallFixture(t)
			var info paykit.ResponseInfo
			err := tc.call(context.Background(), f, paykit.WithIdempotencyKey(key), paykit.WithResponseInfo(&info))
			var vErr *paykit.ValidationError
			require.ErrorAs(t, err, &vErr)
			assert.Equal(t, "WithIdempotencyKey", vErr.Field)
			assert.Empty(t, f.srv.Calls(), "a request was sent")
		})
	}
}

func TestCreateInvoice_idempotencyKeyOption(t *testing.T) {
	const (
		optionKey = "0b3f6d2e-6a57-4c1e-9d0b-7f1a2c3d4e5f"
		fieldKey  = "9c8b7a65-4321-4fed-8cba-987654321000"
	)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		p    pepay.CreateInvoiceParams
	}{
		{"no field", pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("10")}},
		{"wins over the field", pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("10"), IdempotencyKey: fieldKey}},
		{"wins over OrderRef", pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("10"), OrderRef: "order-77"}},
		{"wins over an invalid field", pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("10"), IdempotencyKey: "not-a-uuid"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := pepaytest.NewServer()
			t.Cleanup(srv.Close)
			c, err := srv.NewClient()
			require.NoError(t, err)
			var info paykit.ResponseInfo
			inv, err := c.CreateInvoice(ctx, tc.p, paykit.WithIdempotencyKey(optionKey), paykit.WithResponseInfo(&info))
			require.NoError(t, err)
			assert.Equal(t, optionKey, inv.IdempotencyKey)
			assert.Equal(t, optionKey, info.IdempotencyKey)
			calls := srv.Calls()
			require.Len(t, calls, 1)
			assert.Equal(t, []string{optionKey}, calls[0].Header.Values("Idempotency-Key"))
		})
	}
	t.Run("field without option", func(t *testing.T) {
		srv := pepaytest.NewServer()
		t.Cleanup(srv.Close)
		c, err := srv.NewClient()
		require.NoError(t, err)
		var info paykit.ResponseInfo
		inv, err := c.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("10"), IdempotencyKey: fieldKey}, paykit.WithResponseInfo(&info))
		require.NoError(t, err)
		assert.Equal(t, fieldKey, inv.IdempotencyKey)
		assert.Equal(t, fieldKey, info.IdempotencyKey)
		assert.Equal(t, fieldKey, srv.Calls()[0].Header.Get("Idempotency-Key"))
	})
	t.Run("same key twice returns the first invoice", func(t *testing.T) {
		srv := pepaytest.NewServer()
		t.Cleanup(srv.Close)
		c, err := srv.NewClient()
		require.NoError(t, err)
		p := pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("10")}
		first, err := c.CreateInvoice(ctx, p, paykit.WithIdempotencyKey(optionKey))
		require.NoError(t, err)
		second, err := c.CreateInvoice(ctx, p, paykit.WithIdempotencyKey(optionKey))
		require.NoError(t, err)
		assert.Equal(t, first.InvoiceID, second.InvoiceID)
	})
	t.Run("invalid option key", func(t *testing.T) {
		for _, key := range []string{"order-42", "0b3f6d2e6a574c1e9d0b7f1a2c3d4e5f", "0b3f6d2e-6a57-4c1e-9d0b-7f1a2c3d4e5"} {
			c, _ := failOnRequest(t)
			_, err := c.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("10"), IdempotencyKey: fieldKey}, paykit.WithIdempotencyKey(key))
			var vErr *paykit.ValidationError
			require.ErrorAs(t, err, &vErr, "key %q", key)
			assert.Equal(t, "WithIdempotencyKey", vErr.Field)
		}
	})
	t.Run("key sent unchanged on retries", func(t *testing.T) {
		srv := pepaytest.NewServer()
		t.Cleanup(srv.Close)
		c, err := srv.NewClient()
		require.NoError(t, err)
		srv.FailNext(2, http.StatusServiceUnavailable, 0)
		var info paykit.ResponseInfo
		_, err = c.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("10")}, paykit.WithIdempotencyKey(optionKey), paykit.WithResponseInfo(&info))
		require.NoError(t, err)
		assert.Equal(t, 3, info.Attempts)
		calls := srv.Calls()
		require.Len(t, calls, 3)
		for _, call := range calls {
			assert.Equal(t, optionKey, call.Header.Get("Idempotency-Key"))
		}
	})
}

// failOnRequest returns a client whose server fails the test on any request.
func failOnRequest(t *testing.T, opts ...pepay.Option) (*pepay.Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	c, err := pepay.NewClient(coKey, append([]pepay.Option{pepay.WithBaseURL(srv.URL)}, opts...)...)
	require.NoError(t, err)
	return c, srv
}

// coKey is the merchant key of the call-option tests' httptest servers.
const coKey = "pk_test_calloptions_0123456789"

// coServer returns a client aimed at an httptest server running h, with fast retries.
func coServer(t *testing.T, h http.HandlerFunc, opts ...pepay.Option) *pepay.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	base := []pepay.Option{pepay.WithBaseURL(srv.URL), pepay.WithRetryWait(time.Millisecond, 2*time.Millisecond)}
	c, err := pepay.NewClient(coKey, append(base, opts...)...)
	require.NoError(t, err)
	return c
}

const statusBody = `{"object":"invoice_status","invoice":{"object":"invoice","id":"inv_1","status":"unpaid","amount":25000}}`

func TestCallOptions_timeout(t *testing.T) {
	c := coServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	start := time.Now()
	var info paykit.ResponseInfo
	_, err := c.GetInvoiceStatus(context.Background(), "inv_1", paykit.WithTimeout(50*time.Millisecond), paykit.WithResponseInfo(&info))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 3*time.Second, "the timeout did not end the call")
	assert.Equal(t, 0, info.StatusCode)
}

func TestCallOptions_maxRetries(t *testing.T) {
	for _, tc := range []struct {
		retries, want int
	}{{0, 1}, {2, 3}} {
		t.Run(fmt.Sprint(tc.retries), func(t *testing.T) {
			var hits atomic.Int32
			c := coServer(t, func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte(`{"success":false,"error":{"code":"SERVICE_UNAVAILABLE","message":"try later"}}`))
			}, pepay.WithMaxRetries(5))
			var info paykit.ResponseInfo
			_, err := c.GetInvoiceStatus(context.Background(), "inv_1", paykit.WithMaxRetries(tc.retries), paykit.WithResponseInfo(&info))
			require.True(t, paykit.IsStatus(err, http.StatusServiceUnavailable), "err = %v", err)
			assert.Equal(t, tc.want, int(hits.Load()), "requests")
			assert.Equal(t, tc.want, info.Attempts)
			assert.Equal(t, http.StatusServiceUnavailable, info.StatusCode)
		})
	}
}

func TestCallOptions_responseInfo(t *testing.T) {
	reset := time.Now().Add(time.Hour).Truncate(time.Second)
	rateHeaders := func(w http.ResponseWriter) {
		w.Header().Set("X-RateLimit-Limit", "120")
		w.Header().Set("X-RateLimit-Remaining", "7")
		w.Header().Set("X-RateLimit-Reset", fmt.Sprint(reset.Unix()))
		w.Header().Set("X-Request-Id", "req_abc123")
		w.Header().Set("Content-Type", "application/json")
	}
	wantRate := paykit.RateLimit{Limit: 120, Remaining: 7, Reset: reset}

	t.Run("success", func(t *testing.T) {
		c := coServer(t, func(w http.ResponseWriter, r *http.Request) {
			rateHeaders(w)
			_, _ = w.Write([]byte(statusBody))
		})
		var info paykit.ResponseInfo
		st, err := c.GetInvoiceStatus(context.Background(), "inv_1", paykit.WithResponseInfo(&info))
		require.NoError(t, err)
		assert.Equal(t, pepay.StatusUnpaid, st.Status())
		assert.Equal(t, http.StatusOK, info.StatusCode)
		assert.Equal(t, "req_abc123", info.RequestID)
		assert.Equal(t, 1, info.Attempts)
		assert.Empty(t, info.IdempotencyKey)
		assert.Equal(t, "7", info.Header.Get("X-RateLimit-Remaining"))
		assert.Empty(t, cmp.Diff(wantRate, info.RateLimit))
	})
	t.Run("API error", func(t *testing.T) {
		c := coServer(t, func(w http.ResponseWriter, r *http.Request) {
			rateHeaders(w)
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"success":false,"error":{"code":"INVOICE_NOT_FOUND","message":"no such invoice"}}`))
		})
		var info paykit.ResponseInfo
		_, err := c.GetInvoiceStatus(context.Background(), "inv_1", paykit.WithResponseInfo(&info))
		var apiErr *paykit.Error
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, "INVOICE_NOT_FOUND", apiErr.Code)
		assert.Equal(t, http.StatusNotFound, info.StatusCode)
		assert.Equal(t, "req_abc123", info.RequestID)
		assert.Equal(t, 1, info.Attempts)
		assert.Empty(t, cmp.Diff(wantRate, info.RateLimit))
	})
	t.Run("after retries", func(t *testing.T) {
		var hits atomic.Int32
		c := coServer(t, func(w http.ResponseWriter, r *http.Request) {
			rateHeaders(w)
			if hits.Add(1) < 3 {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte(`{"success":false,"error":{"code":"UNAVAILABLE","message":"later"}}`))
				return
			}
			_, _ = w.Write([]byte(statusBody))
		})
		var info paykit.ResponseInfo
		_, err := c.GetInvoiceStatus(context.Background(), "inv_1", paykit.WithResponseInfo(&info))
		require.NoError(t, err)
		assert.Equal(t, 3, info.Attempts)
		assert.Equal(t, http.StatusOK, info.StatusCode)
		assert.Empty(t, cmp.Diff(wantRate, info.RateLimit))
	})
	t.Run("no rate-limit headers", func(t *testing.T) {
		c := coServer(t, func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(statusBody))
		})
		var info paykit.ResponseInfo
		_, err := c.GetInvoiceStatus(context.Background(), "inv_1", paykit.WithResponseInfo(&info))
		require.NoError(t, err)
		assert.False(t, info.RateLimit.Known())
		assert.Empty(t, info.RequestID)
	})
}

// An invalid CallOption fails the call before anything is sent.
func TestCallOptions_invalidOptionSendsNothing(t *testing.T) {
	c, _ := failOnRequest(t)
	for name, opt := range map[string]paykit.CallOption{
		"reserved header":  paykit.WithHeader("x-api-key", "other"),
		"idempotency hdr":  paykit.WithHeader("Idempotency-Key", "5f0c3a52-8f4e-4d4b-9a1e-2b7c9d0e1f23"),
		"negative timeout": paykit.WithTimeout(-time.Second),
		"retries":          paykit.WithMaxRetries(11),
		"nil info":         paykit.WithResponseInfo(nil),
	} {
		_, err := c.CreateInvoice(context.Background(), pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("1")}, opt)
		var vErr *paykit.ValidationError
		assert.ErrorAs(t, err, &vErr, name)
		_, err = c.GetInvoiceStatus(context.Background(), "inv_1", opt)
		assert.ErrorAs(t, err, &vErr, name)
	}
}

// The credentials never show in a call's error, even when the server echoes them.
func TestCallOptions_errorsHideKey(t *testing.T) {
	c := coServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		body, _ := json.Marshal(map[string]any{"success": false, "error": map[string]string{"code": "API_KEY_INVALID", "message": "bad key " + r.Header.Get("x-api-key")}})
		_, _ = w.Write(body)
	})
	var info paykit.ResponseInfo
	_, err := c.GetInvoiceStatus(context.Background(), "inv_1", paykit.WithResponseInfo(&info), paykit.WithHeader("X-Trace", "t1"))
	require.Error(t, err)
	assert.False(t, strings.Contains(err.Error(), coKey), "key in error: %v", err)
	assert.Equal(t, http.StatusUnauthorized, info.StatusCode)
	assert.False(t, errors.Is(err, paykit.ErrRateLimited))
}
