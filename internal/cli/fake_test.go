package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/jopaycheckout/jopaycheckouttest"
	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/pepay"
)

// eventWait bounds every wait for a webhook in these tests.
const eventWait = 5 * time.Second

// hookServer is an httptest server running a provider's real webhook handler, built once the
// fake has printed its webhook secret. Deliveries before that are answered 503.
type hookServer struct {
	*httptest.Server
	t *testing.T
	h atomic.Pointer[http.Handler]
}

func newHookServer(t *testing.T) *hookServer {
	t.Helper()
	hs := &hookServer{t: t}
	hs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := hs.h.Load()
		if h == nil {
			http.Error(w, "handler not ready", http.StatusServiceUnavailable)
			return
		}
		(*h).ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return hs
}

// set installs the handler a provider package's constructor returned.
func (hs *hookServer) set(h http.Handler, err error) {
	hs.t.Helper()
	if err != nil {
		hs.t.Fatal(err)
	}
	hs.h.Store(&h)
}

// fakeSecret returns the webhook secret "paykit fake" printed.
func fakeSecret(t *testing.T, s map[string]string) string {
	t.Helper()
	secret, ok := strings.CutSuffix(s["webhook secret"], " (the fake's test secret)")
	require.True(t, ok, "no webhook secret printed: %v", s)
	require.NotEmpty(t, secret, "no webhook secret printed: %v", s)
	return secret
}

// checkSettings checks the printed export lines agree with the printed settings.
func checkSettings(t *testing.T, s map[string]string, prefix, secretEnv, secret string) {
	t.Helper()
	if s[prefix+"BASE_URL"] == "" || s[prefix+"BASE_URL"] != s["base URL"] ||
		s[prefix+"API_KEY"] == "" || s[prefix+"API_KEY"] != s["API key"] || s[secretEnv] != secret {
		t.Fatalf("export lines disagree with the settings: %v", s)
	}
}

// waitEvent returns the first value from ch that match accepts, failing the test after
// eventWait. Values it skips are discarded.
func waitEvent[E any](t *testing.T, ch <-chan E, what string, match func(E) bool) E {
	t.Helper()
	timeout := time.After(eventWait)
	for {
		select {
		case e := <-ch:
			if match(e) {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s webhook arrived within %s", what, eventWait)
		}
	}
}

// noEvent fails when ch holds a value: the handler's callback ran when it should not have.
func noEvent[E any](t *testing.T, ch <-chan E, why string) {
	t.Helper()
	select {
	case e := <-ch:
		t.Fatalf("%s, yet the handler's callback got %+v", why, e)
	default:
	}
}

// adminOK runs an admin action and decodes its delivery summary.
func adminOK(t *testing.T, fakeURL, action string, req adminRequest) deliverySummary {
	t.Helper()
	out, err := adminCall(t.Context(), fakeURL, action, req)
	require.NoError(t, err, "%s %+v", action, req)
	var d deliverySummary
	require.NoError(t, json.Unmarshal([]byte(out), &d), "%s: answer %q", action, out)
	return d
}

// listDeliveries returns GET /_paykit/deliveries.
func listDeliveries(t *testing.T, fakeURL string) []deliverySummary {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), eventWait)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fakeURL+adminPrefix+"deliveries", nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var ds []deliverySummary
	err = json.NewDecoder(resp.Body).Decode(&ds)
	require.NoError(t, err, "deliveries: %d, %v", resp.StatusCode, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "deliveries: %d, %v", resp.StatusCode, err)
	return ds
}

// triggerFakeOK runs "paykit trigger <provider> <event> --fake URL --id ID" and checks the
// fake delivered the event.
func triggerFakeOK(t *testing.T, provider, event, fakeURL, id string) {
	t.Helper()
	args := []string{"trigger", provider, event, "--fake", fakeURL}
	if id != "" {
		args = append(args, "--id", id)
	}
	code, out, errOut := run(t, "", nil, args...)
	require.Zero(t, code, "trigger %s --fake: exit %d\n%s%s", event, code, out, errOut)
	require.Contains(t, out, `"delivered":true`, "trigger %s --fake: exit %d\n%s%s", event, code, out, errOut)
}

// injectFault asks the fake to fail its next API call with 503.
func injectFault(t *testing.T, fakeURL string) {
	t.Helper()
	out, err := adminCall(t.Context(), fakeURL, "faults", adminRequest{Kind: "fail", N: 1, HTTPStatus: http.StatusServiceUnavailable})
	require.NoError(t, err, "faults: %q, %v", out, err)
	require.Contains(t, out, `"fault":"fail"`, "faults: %q, %v", out, err)
}

// fastRetry keeps the clients' retry waits short.
const fastRetryMin, fastRetryMax = time.Millisecond, 20 * time.Millisecond

func TestFakeCheckoutEndToEnd(t *testing.T) {
	hook := newHookServer(t)
	got := make(chan *jopaycheckout.Event, 16)
	s := startFakeCommand(t, "jopay-checkout", "--addr", "127.0.0.1:0", "--webhook-url", hook.URL)
	secret := fakeSecret(t, s)
	checkSettings(t, s, "JOPAY_CHECKOUT_", "JOPAY_CHECKOUT_WEBHOOK_SECRET", secret)
	hook.set(jopaycheckout.NewWebhookHandler(secret, func(_ context.Context, e *jopaycheckout.Event) error {
		got <- e
		return nil
	}))
	fakeURL := strings.TrimSuffix(s["base URL"], jopaycheckouttest.APIPath)
	require.NotEqual(t, s["base URL"], fakeURL, "base URL does not end in %s", jopaycheckouttest.APIPath)

	client, err := jopaycheckout.NewClient(s["API key"], jopaycheckout.WithBaseURL(s["base URL"]),
		jopaycheckout.WithRetryWait(fastRetryMin, fastRetryMax))
	require.NoError(t, err)
	create := func(order string) *jopaycheckout.Session {
		t.Helper()
		sess, err := client.CreateSession(t.Context(), jopaycheckout.CreateSessionParams{
			AmountCents: 1999, Currency: "eur",
			SuccessURL: "https://shop.example/ok", CancelURL: "https://shop.example/cancel",
			Metadata: map[string]string{jopaycheckout.MetadataOrderID: order},
		})
		require.NoError(t, err)
		return sess
	}

	// Pay through "paykit trigger --fake": the handler gets the verified, parsed event.
	sess := create("C-1")
	assert.True(t, strings.HasPrefix(sess.URL, fakeURL+"/"), "checkout URL %q not rewritten to the fake's address %s", sess.URL, fakeURL)
	triggerFakeOK(t, provCheckout, string(jopaycheckout.EventSessionCompleted), fakeURL, sess.ID)
	e := waitEvent(t, got, "checkout.session.completed", func(e *jopaycheckout.Event) bool { return e.Data.ID == sess.ID })
	require.Equal(t, jopaycheckout.EventSessionCompleted, e.Type, "event: type %s, paid %v, order %q", e.Type, e.IsPaid(), e.OrderID())
	require.True(t, e.IsPaid(), "event: type %s, paid %v, order %q", e.Type, e.IsPaid(), e.OrderID())
	require.Equal(t, "C-1", e.OrderID(), "event: type %s, paid %v, order %q", e.Type, e.IsPaid(), e.OrderID())
	if again, err := client.GetSession(t.Context(), sess.ID); err != nil || !again.IsPaid() {
		t.Fatalf("session after pay: %+v, %v", again, err)
	}

	// Redeliver: signed and acknowledged again, and the handler's dedupe keeps fn from running twice.
	d := adminOK(t, fakeURL, "redeliver", adminRequest{ID: sess.ID})
	require.True(t, d.Delivered, "redeliver: %+v", d)
	require.Equal(t, string(jopaycheckout.EventSessionCompleted), d.Event, "redeliver: %+v", d)
	require.Equal(t, sess.ID, d.Object, "redeliver: %+v", d)
	noEvent(t, got, "a redelivered event is a duplicate")

	// Expire and fail through the admin surface.
	expired := create("C-2")
	d = adminOK(t, fakeURL, "expire", adminRequest{ID: expired.ID})
	require.True(t, d.Delivered, "expire: %+v", d)
	require.Equal(t, string(jopaycheckout.EventSessionExpired), d.Event, "expire: %+v", d)
	e = waitEvent(t, got, "checkout.session.expired", func(e *jopaycheckout.Event) bool { return e.Data.ID == expired.ID })
	require.Equal(t, jopaycheckout.EventSessionExpired, e.Type, "expired event: type %s, paid %v, terminal %v", e.Type, e.IsPaid(), e.IsTerminal())
	require.False(t, e.IsPaid(), "expired event: type %s, paid %v, terminal %v", e.Type, e.IsPaid(), e.IsTerminal())
	require.True(t, e.IsTerminal(), "expired event: type %s, paid %v, terminal %v", e.Type, e.IsPaid(), e.IsTerminal())
	require.Equal(t, "C-2", e.OrderID(), "expired event: type %s, paid %v, terminal %v", e.Type, e.IsPaid(), e.IsTerminal())
	failed := create("C-3")
	if d := adminOK(t, fakeURL, "fail", adminRequest{ID: failed.ID}); !d.Delivered || d.Event != string(jopaycheckout.EventPaymentFailed) {
		t.Fatalf("fail: %+v", d)
	}
	e = waitEvent(t, got, "checkout.payment.failed", func(e *jopaycheckout.Event) bool { return e.Data.ID == failed.ID })
	require.Equal(t, jopaycheckout.EventPaymentFailed, e.Type, "failed event: type %s, paid %v", e.Type, e.IsPaid())
	require.False(t, e.IsPaid(), "failed event: type %s, paid %v", e.Type, e.IsPaid())
	_, err = adminCall(t.Context(), fakeURL, "pay", adminRequest{ID: "cs_missing"})
	assert.Error(t, err, "pay of an unknown session succeeded")

	// Faults: a 503 reaches a client that does not retry; the default client retries past it.
	injectFault(t, fakeURL)
	c0, err := jopaycheckout.NewClient(s["API key"], jopaycheckout.WithBaseURL(s["base URL"]), jopaycheckout.WithMaxRetries(0))
	require.NoError(t, err)
	_, err = c0.GetSession(t.Context(), sess.ID)
	require.True(t, paykit.IsStatus(err, http.StatusServiceUnavailable), "after a 503 fault: %v, want a 503 error", err)
	_, err = c0.GetSession(t.Context(), sess.ID)
	require.NoError(t, err, "the fault outlived its one call")
	injectFault(t, fakeURL)
	again, err := client.GetSession(t.Context(), sess.ID)
	require.NoError(t, err, "retrying client after a 503 fault: %+v, %v", again, err)
	require.Equal(t, sess.ID, again.ID, "retrying client after a 503 fault: %+v, %v", again, err)
	// The README's example body, sent as curl sends it (a form content type): 2 failures.
	ctx, cancel := context.WithTimeout(t.Context(), eventWait)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, fakeURL+adminPrefix+"faults",
		strings.NewReader(`{"kind":"fail","n":2,"http_status":503}`))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "README faults body: %s", resp.Status)
	for i := range 2 {
		_, err := c0.GetSession(t.Context(), sess.ID)
		require.True(t, paykit.IsStatus(err, http.StatusServiceUnavailable), "call %d after a 2-call 503 fault: %v", i+1, err)
	}
	_, err = c0.GetSession(t.Context(), sess.ID)
	require.NoError(t, err, "the 2-call fault outlived its calls")

	ds := listDeliveries(t, fakeURL)
	assert.Len(t, ds, 4, "deliveries, want completed, its redelivery, expired, failed")
	for _, d := range ds {
		assert.True(t, d.Delivered, "delivery %+v not delivered to %s", d, hook.URL)
		assert.Equal(t, hook.URL, d.URL, "delivery %+v not delivered to %s", d, hook.URL)
	}
}

func TestFakeJovePayEndToEnd(t *testing.T) {
	hook := newHookServer(t)
	got := make(chan *jovepay.IPN, 16)
	s := startFakeCommand(t, "jovepay", "--addr", "127.0.0.1:0", "--webhook-url", hook.URL+"/ipn")
	secret := fakeSecret(t, s)
	checkSettings(t, s, "JOVEPAY_", "JOVEPAY_IPN_SECRET", secret)
	require.NotEmpty(t, s["JOVEPAY_EMAIL"], "no JovePay credentials printed: %v", s)
	require.NotEmpty(t, s["JOVEPAY_PASSWORD"], "no JovePay credentials printed: %v", s)
	hook.set(jovepay.NewIPNHandler(secret, func(_ context.Context, ipn *jovepay.IPN) error {
		got <- ipn
		return nil
	}))
	fakeURL := strings.TrimSuffix(s["base URL"], "/v1")
	require.NotEqual(t, s["base URL"], fakeURL, "base URL does not end in /v1")
	client, err := jovepay.NewClient(s["API key"], jovepay.WithBaseURL(s["base URL"]),
		jovepay.WithRetryWait(fastRetryMin, fastRetryMax))
	require.NoError(t, err)
	create := func(order, ipnURL string) *jovepay.Payment {
		t.Helper()
		p, err := client.CreatePayment(t.Context(), jovepay.CreatePaymentParams{
			PriceAmount: paykit.MustDecimal("25.50"), PriceCurrency: "usd", PayCurrency: "btc",
			OrderID: order, IPNCallbackURL: ipnURL,
		})
		require.NoError(t, err)
		return p
	}
	// Pay moves a payment through the intermediate statuses first, an IPN each.
	forPayment := func(id jovepay.ID, status jovepay.PaymentStatus) func(*jovepay.IPN) bool {
		return func(i *jovepay.IPN) bool { return i.Payment != nil && i.Payment.ID == id && i.Payment.Status == status }
	}

	// No ipn_callback_url: the fake fills in --webhook-url.
	pay := create("J-1", "")
	triggerFakeOK(t, provJovePay, string(jovepay.StatusFinished), fakeURL, pay.ID.String())
	ipn := waitEvent(t, got, "finished IPN", forPayment(pay.ID, jovepay.StatusFinished))
	require.True(t, ipn.IsPaid(), "IPN: status %s, paid %v, order %q", ipn.Payment.Status, ipn.IsPaid(), ipn.OrderID())
	require.Equal(t, jovepay.StatusFinished, ipn.Payment.Status, "IPN: status %s, paid %v, order %q", ipn.Payment.Status, ipn.IsPaid(), ipn.OrderID())
	require.Equal(t, "J-1", ipn.OrderID(), "IPN: status %s, paid %v, order %q", ipn.Payment.Status, ipn.IsPaid(), ipn.OrderID())
	again, err := client.GetPayment(t.Context(), pay.ID)
	require.NoError(t, err, "payment after pay: %+v, %v", again, err)
	require.Equal(t, jovepay.StatusFinished, again.Status, "payment after pay: %+v, %v", again, err)
	for len(got) > 0 { // IPNs after finished, if any
		<-got
	}
	d := adminOK(t, fakeURL, "redeliver", adminRequest{ID: pay.ID.String()})
	require.True(t, d.Delivered, "redeliver: %+v", d)
	require.Equal(t, string(jovepay.StatusFinished), d.Event, "redeliver: %+v", d)
	require.Equal(t, hook.URL+"/ipn", d.URL, "redeliver: %+v", d)
	noEvent(t, got, "a redelivered IPN is a duplicate")

	// An explicit ipn_callback_url is kept; expire and fail through the admin surface.
	expired := create("J-2", hook.URL+"/explicit")
	d = adminOK(t, fakeURL, "expire", adminRequest{ID: expired.ID.String()})
	require.True(t, d.Delivered, "expire: %+v", d)
	require.Equal(t, string(jovepay.StatusExpired), d.Event, "expire: %+v", d)
	require.Equal(t, hook.URL+"/explicit", d.URL, "expire: %+v", d)
	ipn = waitEvent(t, got, "expired IPN", forPayment(expired.ID, jovepay.StatusExpired))
	require.False(t, ipn.IsPaid(), "expired IPN: status %s, paid %v", ipn.Payment.Status, ipn.IsPaid())
	require.Equal(t, jovepay.StatusExpired, ipn.Payment.Status, "expired IPN: status %s, paid %v", ipn.Payment.Status, ipn.IsPaid())
	require.True(t, ipn.IsTerminal(), "expired IPN: status %s, paid %v", ipn.Payment.Status, ipn.IsPaid())
	failed := create("J-3", "")
	d = adminOK(t, fakeURL, "fail", adminRequest{ID: failed.ID.String()})
	require.True(t, d.Delivered, "fail: %+v", d)
	require.Equal(t, string(jovepay.StatusFailed), d.Event, "fail: %+v", d)
	ipn = waitEvent(t, got, "failed IPN", forPayment(failed.ID, jovepay.StatusFailed))
	require.False(t, ipn.IsPaid(), "failed IPN: status %s, paid %v", ipn.Payment.Status, ipn.IsPaid())
	require.Equal(t, jovepay.StatusFailed, ipn.Payment.Status, "failed IPN: status %s, paid %v", ipn.Payment.Status, ipn.IsPaid())

	// Faults: a 503 reaches a client that does not retry; reset clears pending faults.
	injectFault(t, fakeURL)
	c0, err := jovepay.NewClient(s["API key"], jovepay.WithBaseURL(s["base URL"]), jovepay.WithMaxRetries(0))
	require.NoError(t, err)
	_, err = c0.GetPayment(t.Context(), pay.ID)
	require.True(t, paykit.IsStatus(err, http.StatusServiceUnavailable), "after a 503 fault: %v, want a 503 error", err)
	_, err = adminCall(t.Context(), fakeURL, "faults", adminRequest{Kind: "fail", N: 3})
	require.NoError(t, err)
	_, err = adminCall(t.Context(), fakeURL, "faults", adminRequest{Kind: "reset"})
	require.NoError(t, err)
	_, err = c0.GetPayment(t.Context(), pay.ID)
	require.NoError(t, err, "faults survived reset")
	_, err = adminCall(t.Context(), fakeURL, "faults", adminRequest{Kind: "explode"})
	require.Error(t, err, "unknown fault kind: %v", err)
	assert.Contains(t, err.Error(), "want fail, drop", "unknown fault kind: %v", err)
}

func TestFakePepayEndToEnd(t *testing.T) {
	hook := newHookServer(t)
	got := make(chan *pepay.Event, 16)
	s := startFakeCommand(t, "pepay", "--addr", "127.0.0.1:0", "--webhook-url", hook.URL)
	secret := fakeSecret(t, s)
	checkSettings(t, s, "PEPAY_", "PEPAY_WEBHOOK_SECRET", secret)
	hook.set(pepay.NewWebhookHandler(secret, func(_ context.Context, e *pepay.Event) error {
		got <- e
		return nil
	}))
	fakeURL := strings.TrimSuffix(s["base URL"], "/")
	client, err := pepay.NewClient(s["API key"], pepay.WithBaseURL(s["base URL"]),
		pepay.WithRetryWait(fastRetryMin, fastRetryMax))
	require.NoError(t, err)
	create := func(order string) *pepay.CreatedInvoice {
		t.Helper()
		inv, err := client.CreateInvoice(t.Context(), pepay.CreateInvoiceParams{
			AmountUSD: paykit.MustDecimal("25.00"), Description: "order " + order,
			Metadata: pepay.Metadata{"order_id": order}, OrderRef: order,
		})
		require.NoError(t, err)
		return inv
	}
	forInvoice := func(id string, paid bool) func(*pepay.Event) bool {
		return func(e *pepay.Event) bool { return e.InvoiceID() == id && e.IsPaid() == paid }
	}

	inv := create("P-1")
	assert.True(t, strings.HasPrefix(inv.PaymentURL, fakeURL+"/"), "payment URL %q not rewritten to the fake's address %s", inv.PaymentURL, fakeURL)
	triggerFakeOK(t, provPepay, string(pepay.EventInvoiceUpdated), fakeURL, inv.InvoiceID)
	e := waitEvent(t, got, "paid invoice", forInvoice(inv.InvoiceID, true))
	require.Equal(t, "P-1", e.OrderID(), "paid event %s: order ID", e.Type)
	st, err := client.GetInvoiceStatus(t.Context(), inv.InvoiceID)
	require.NoError(t, err, "invoice after pay: %+v, %v", st, err)
	require.True(t, st.Status().IsPaid(), "invoice after pay: %+v, %v", st, err)

	// Redeliver takes the event id that deliveries lists; the handler dedupes on it.
	var eventID string
	for _, d := range listDeliveries(t, fakeURL) {
		if d.EventID == e.ID {
			eventID = d.EventID
			assert.Equal(t, inv.InvoiceID, d.Object, "delivery of %s: %+v", e.ID, d)
			assert.True(t, d.Delivered, "delivery of %s: %+v", e.ID, d)
		}
	}
	require.NotEmpty(t, eventID, "deliveries do not list event %s", e.ID)
	for len(got) > 0 { // the other events of the payment
		<-got
	}
	d := adminOK(t, fakeURL, "redeliver", adminRequest{ID: eventID})
	require.True(t, d.Delivered, "redeliver: %+v", d)
	require.Equal(t, eventID, d.EventID, "redeliver: %+v", d)
	require.Equal(t, string(e.Type), d.Event, "redeliver: %+v", d)
	require.Equal(t, inv.InvoiceID, d.Object, "redeliver: %+v", d)
	noEvent(t, got, "a redelivered event is a duplicate")
	_, err = adminCall(t.Context(), fakeURL, "redeliver", adminRequest{ID: "evt_0-0"})
	require.Error(t, err, "redeliver of an unknown event: %v", err)
	assert.Contains(t, err.Error(), "no event", "redeliver of an unknown event: %v", err)

	// Expire, and fail (Pepay's cancel), through the admin surface.
	expired := create("P-2")
	d = adminOK(t, fakeURL, "expire", adminRequest{ID: expired.InvoiceID})
	require.True(t, d.Delivered, "expire: %+v", d)
	e = waitEvent(t, got, "expired invoice", func(e *pepay.Event) bool { return e.InvoiceID() == expired.InvoiceID && e.IsTerminal() })
	require.False(t, e.IsPaid(), "expired event %s: %s", e.Type, e.Data.Object)
	require.NotNil(t, e.Invoice(), "expired event %s: %s", e.Type, e.Data.Object)
	require.Equal(t, pepay.StatusExpired, e.Invoice().Status, "expired event %s: %s", e.Type, e.Data.Object)
	canceled := create("P-3")
	d = adminOK(t, fakeURL, "fail", adminRequest{ID: canceled.InvoiceID})
	require.True(t, d.Delivered, "fail: %+v", d)
	e = waitEvent(t, got, "canceled invoice", func(e *pepay.Event) bool { return e.InvoiceID() == canceled.InvoiceID && e.IsTerminal() })
	require.False(t, e.IsPaid(), "canceled event %s: %s", e.Type, e.Data.Object)
	require.NotNil(t, e.Invoice(), "canceled event %s: %s", e.Type, e.Data.Object)
	require.Equal(t, pepay.StatusCanceled, e.Invoice().Status, "canceled event %s: %s", e.Type, e.Data.Object)

	// test.ping needs no id.
	triggerFakeOK(t, provPepay, string(pepay.EventTestPing), fakeURL, "")
	waitEvent(t, got, "test.ping", func(e *pepay.Event) bool { return e.Type == pepay.EventTestPing })

	// Faults: a 503 reaches a client that does not retry; the default client retries past it.
	injectFault(t, fakeURL)
	c0, err := pepay.NewClient(s["API key"], pepay.WithBaseURL(s["base URL"]), pepay.WithMaxRetries(0))
	require.NoError(t, err)
	_, err = c0.GetInvoice(t.Context(), inv.InvoiceID)
	require.True(t, paykit.IsStatus(err, http.StatusServiceUnavailable), "after a 503 fault: %v, want a 503 error", err)
	injectFault(t, fakeURL)
	again, err := client.GetInvoice(t.Context(), inv.InvoiceID)
	require.NoError(t, err, "retrying client after a 503 fault: %+v, %v", again, err)
	require.Equal(t, inv.InvoiceID, again.ID, "retrying client after a 503 fault: %+v, %v", again, err)
}

// A secret given with --webhook-secret signs the deliveries and is never printed, not even in
// the export lines (which must stay safe to paste into a shell).
func TestFakeChosenSecret(t *testing.T) {
	for _, name := range []string{provPepay, provJovePay} {
		t.Run(name, func(t *testing.T) {
			rcv, rec := receiver(t, name) // verifies with testSecret
			p := providers[name]
			s, out := startFakeOutput(t, name, "--addr", "127.0.0.1:0", "--webhook-url", rcv.URL, "--webhook-secret", testSecret)
			printed := out.String()
			require.NotContains(t, printed, testSecret, "secret printed")
			if s["webhook secret"] != "(from --webhook-secret)" || s[p.secretEnv] != "" ||
				!strings.Contains(printed, "  # export "+p.secretEnv+"=… (the secret from --webhook-secret, not printed)\n") {
				t.Fatalf("secret settings:\n%s", printed)
			}
			fakeURL := strings.TrimSuffix(strings.TrimSuffix(s["base URL"], "/v1"), "/")
			if name == provPepay {
				triggerFakeOK(t, name, string(pepay.EventTestPing), fakeURL, "")
			} else {
				client, err := jovepay.NewClient(s["API key"], jovepay.WithBaseURL(s["base URL"]))
				require.NoError(t, err)
				pay, err := client.CreatePayment(t.Context(), jovepay.CreatePaymentParams{
					PriceAmount: paykit.MustDecimal("50"), PriceCurrency: "usd", PayCurrency: "btc", OrderID: "S-1",
				})
				require.NoError(t, err)
				triggerFakeOK(t, name, string(jovepay.StatusFinished), fakeURL, pay.ID.String())
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			require.NotEmpty(t, rec.errs, "no delivery arrived")
			for i, err := range rec.errs {
				assert.NoError(t, err, "delivery %d does not verify with the chosen secret", i)
			}
		})
	}
}
