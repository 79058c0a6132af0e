package pepay_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
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

func TestPayor_verifyInvoiceRequest(t *testing.T) {
	p, mux := payorSetup(t)
	mux.HandleFunc("/api/v1/invoice/{id}/verify", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, http.MethodGet)
		testSessionAuth(t, r)
		apitest.Query(t, r, nil)
		assert.Equal(t, "inv/1", r.PathValue("id"), "invoice id")
		fmt.Fprint(w, `{"success":true,"data":{"id":"inv/1","invoice_status":"paid","valid":"true","paid_at":1767225600,"extra":{"x":1}}}`)
	})
	got, err := p.VerifyInvoice(context.Background(), "inv/1")
	require.NoError(t, err)
	want := &pepay.InvoiceVerification{
		InvoiceID: "inv/1", Status: pepay.StatusPaid, Verified: ptr(true), PaidAt: time.Unix(1767225600, 0).UTC(),
		Raw: json.RawMessage(`{"id":"inv/1","invoice_status":"paid","valid":"true","paid_at":1767225600,"extra":{"x":1}}`),
	}
	assert.Empty(t, cmp.Diff(want, got), "VerifyInvoice (-want +got)")
	_, err = p.VerifyInvoice(context.Background(), "")
	assert.ErrorAs(t, err, new(*paykit.ValidationError), "empty id")
}

// The verify answer is undocumented: whatever JSON comes back is kept, and the obvious fields are
// picked out when present.
func TestInvoiceVerification_tolerant(t *testing.T) {
	for in, want := range map[string]pepay.InvoiceVerification{
		`true`:  {Verified: ptr(true)},
		`false`: {Verified: ptr(false)},
		`{"invoice_id":"a","status":"cancelled","verified":false}`: {InvoiceID: "a", Status: pepay.StatusCanceled, Verified: ptr(false)},
		`{"invoice_id":7,"verified":null,"paid_at":null}`:          {InvoiceID: "7"},
		`{"is_valid":1,"status":42}`:                               {Verified: ptr(true)},
		`[1,2]`:                                                    {},
		`"ok"`:                                                     {},
		`null`:                                                     {},
	} {
		var got pepay.InvoiceVerification
		if !assert.NoError(t, json.Unmarshal([]byte(in), &got), "%s", in) {
			continue
		}
		want.Raw = json.RawMessage(in)
		assert.Empty(t, cmp.Diff(want, got), "%s (-want +got)", in)
	}
}

func FuzzInvoiceVerification(f *testing.F) {
	for _, s := range []string{`true`, `{"invoice_id":"a","status":"paid","verified":true,"paid_at":"2026-01-01T00:00:00Z"}`,
		`{"id":1,"invoice_status":null,"valid":"1"}`, `[]`, `null`, `{"verified":{}}`, `{"paid_at":"soon"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v pepay.InvoiceVerification
		err := v.UnmarshalJSON(b)
		if json.Valid(b) && err != nil {
			t.Fatalf("valid JSON refused: %v", err)
		}
		if err == nil && string(v.Raw) != string(b) {
			t.Fatalf("Raw = %q, want the input", v.Raw)
		}
	})
}

func TestPayor_verifyAgainstFake(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	ctx := context.Background()
	a, _ := c.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("5")})
	b, _ := c.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("6")})
	p, _ := pepay.NewPayorClient(a.PaymentSessionHeaders, pepay.WithBaseURL(srv.BaseURL))
	_, _ = srv.Pay(ctx, a.InvoiceID)
	v, err := p.VerifyInvoice(ctx, a.InvoiceID)
	require.NoError(t, err, "verify = %+v, %v", v, err)
	assert.Equal(t, a.InvoiceID, v.InvoiceID, "verify = %+v, %v", v, err)
	assert.Equal(t, pepay.StatusPaid, v.Status, "verify = %+v, %v", v, err)
	require.NotNil(t, v.Verified, "verify = %+v, %v", v, err)
	assert.True(t, *v.Verified, "verify = %+v, %v", v, err)
	assert.False(t, v.PaidAt.IsZero(), "verify = %+v, %v", v, err)
	_, err = p.VerifyInvoice(ctx, b.InvoiceID)
	assert.True(t, paykit.IsStatus(err, http.StatusForbidden), "other invoice: %v", err)
}

// payorStream runs PayorClient.Stream in the background; stop cancels it and returns its error.
func payorStream(t *testing.T, p *pepay.PayorClient, conn pepay.WSConnection, params pepay.PayorStreamParams, fn func(context.Context, *pepay.Event) error) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Stream(ctx, conn, params, fn) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Error("Stream did not return after cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func fastPayor() pepay.PayorStreamParams {
	return pepay.PayorStreamParams{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
}

// The payor stream follows one invoice with the payment session JWT only, reconnects after
// dropped connections, and hands each event over once.
func TestPayorStream_againstFake(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	ctx := context.Background()
	mine, _ := c.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("40")})
	other, _ := c.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("7")})
	p, err := c.PayorSession(mine.PaymentSessionHeaders) // shares the merchant client: must still not send the key
	require.NoError(t, err)
	addr, err := p.CreatePaymentAddress(ctx, "base", 1)
	require.NoError(t, err)
	rec := newRecorder()
	params := fastPayor()
	params.OnStatus = rec.status
	stop := payorStream(t, p, addr.WSConnection, params, rec.handle)
	waitFor(t, 5*time.Second, "connect", func() bool { return srv.OpenStreams() == 1 })

	_, _ = srv.Pay(ctx, other.InvoiceID) // not this session's invoice
	_, err = srv.PayAmount(ctx, mine.InvoiceID, 15_000)
	require.NoError(t, err)
	waitFor(t, 5*time.Second, "underpayment events", func() bool { return rec.count() == 2 })
	for range 3 { // drop, wait for the reconnect, drop again
		n := len(rec.states(pepay.StreamConnected))
		srv.DropStreams()
		waitFor(t, 5*time.Second, "reconnect", func() bool { return len(rec.states(pepay.StreamConnected)) == n+1 && srv.OpenStreams() == 1 })
	}
	_, err = srv.Pay(ctx, mine.InvoiceID)
	require.NoError(t, err)
	waitFor(t, 5*time.Second, "payment events", func() bool { return rec.count() == 5 })
	assert.ErrorIs(t, stop(), context.Canceled, "Stream")
	// The payor stream does not resume, and nothing was logged while it was down: the server
	// sent each of the invoice's five events once and nothing else, all of them handled.
	st := srv.StreamStats()
	assert.Equal(t, 5, st.Frames, "frames sent by the server, want the 5 events of the session's invoice")

	var want []string
	for _, e := range srv.EventLog() {
		if e.InvoiceID == mine.InvoiceID && e.Type != pepay.EventInvoiceCreated {
			want = append(want, e.ID)
		}
	}
	rec.mu.Lock()
	assert.Empty(t, cmp.Diff(want, rec.ids), "events (-want +got)")
	rec.mu.Unlock()
	upgrades := 0
	for _, r := range srv.Calls() {
		if r.Path != pepay.PayorStreamPath {
			continue
		}
		upgrades++
		for _, h := range []string{"x-api-key", "x-session-token", "x-signature", "Authorization"} {
			assert.Empty(t, r.Header.Get(h), "payor stream upgrade sent %s", h)
		}
		got := map[string]string{}
		for k := range r.Query {
			got[k] = r.Query.Get(k)
		}
		assert.Empty(t, cmp.Diff(map[string]string{"token": addr.WSConnection.Token, "format": "event_v1"}, got), "query (-want +got)")
	}
	assert.Equal(t, 4, upgrades, "upgrades, want 4")
}

// Without ws_url the stream uses the client's WebSocket host and the endpoint; a refused token
// is a terminal *StreamError that does not leak the token.
func TestPayorStream_endpointAndRefusedToken(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	ctx := context.Background()
	created, _ := c.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("9")})
	p, _ := pepay.NewPayorClient(created.PaymentSessionHeaders, pepay.WithBaseURL(srv.BaseURL))
	addr, _ := p.CreatePaymentAddress(ctx, "base", 1)

	rec := newRecorder()
	stop := payorStream(t, p, pepay.WSConnection{Token: addr.WSConnection.Token, Endpoint: "/ws/payment"}, fastPayor(), rec.handle)
	waitFor(t, 5*time.Second, "connect", func() bool { return srv.OpenStreams() == 1 })
	_, _ = srv.Cancel(ctx, created.InvoiceID)
	waitFor(t, 5*time.Second, "event", func() bool { return rec.count() == 1 })
	stop()

	forged := "eyJwYXlvciJ9.forged.token-value"
	err := p.Stream(ctx, pepay.WSConnection{Token: forged, WSURL: srv.URL + "/ws/payment"}, fastPayor(), rec.handle)
	var serr *pepay.StreamError
	require.ErrorAs(t, err, &serr, "forged token: %v", err)
	assert.Equal(t, 401, serr.HTTPStatus, "forged token: %v", err)
	assert.Equal(t, "INVALID_TOKEN", serr.Code, "forged token: %v", err)
	assert.NotContains(t, err.Error(), forged, "forged token: %v", err)
	for name, conn := range map[string]pepay.WSConnection{
		"no token":     {WSURL: "wss://x/ws/payment"},
		"bad ws_url":   {Token: "t", WSURL: "ftp://x/ws/payment"},
		"bad endpoint": {Token: "t", Endpoint: "ws/payment?x=1"},
	} {
		assert.ErrorAs(t, p.Stream(ctx, conn, fastPayor(), rec.handle), new(*paykit.ValidationError), "%s", name)
	}
	assert.ErrorAs(t, p.Stream(ctx, addr.WSConnection, pepay.PayorStreamParams{IdleTimeout: -1}, rec.handle), new(*paykit.ValidationError), "negative idle timeout")
}
