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
	if !ok || secret == "" {
		t.Fatalf("no webhook secret printed: %v", s)
	}
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
	if err != nil {
		t.Fatalf("%s %+v: %v", action, req, err)
	}
	var d deliverySummary
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("%s: answer %q: %v", action, out, err)
	}
	return d
}

// listDeliveries returns GET /_paykit/deliveries.
func listDeliveries(t *testing.T, fakeURL string) []deliverySummary {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), eventWait)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fakeURL+adminPrefix+"deliveries", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ds []deliverySummary
	if err := json.NewDecoder(resp.Body).Decode(&ds); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("deliveries: %d, %v", resp.StatusCode, err)
	}
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
	if code != 0 || !strings.Contains(out, `"delivered":true`) {
		t.Fatalf("trigger %s --fake: exit %d\n%s%s", event, code, out, errOut)
	}
}

// injectFault asks the fake to fail its next API call with 503.
func injectFault(t *testing.T, fakeURL string) {
	t.Helper()
	out, err := adminCall(t.Context(), fakeURL, "faults", adminRequest{Kind: "fail", N: 1, HTTPStatus: http.StatusServiceUnavailable})
	if err != nil || !strings.Contains(out, `"fault":"fail"`) {
		t.Fatalf("faults: %q, %v", out, err)
	}
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
	if fakeURL == s["base URL"] {
		t.Fatalf("base URL %q does not end in %s", s["base URL"], jopaycheckouttest.APIPath)
	}

	client, err := jopaycheckout.NewClient(s["API key"], jopaycheckout.WithBaseURL(s["base URL"]),
		jopaycheckout.WithRetryWait(fastRetryMin, fastRetryMax))
	if err != nil {
		t.Fatal(err)
	}
	create := func(order string) *jopaycheckout.Session {
		t.Helper()
		sess, err := client.CreateSession(t.Context(), jopaycheckout.CreateSessionParams{
			AmountCents: 1999, Currency: "eur",
			SuccessURL: "https://shop.example/ok", CancelURL: "https://shop.example/cancel",
			Metadata: map[string]string{jopaycheckout.MetadataOrderID: order},
		})
		if err != nil {
			t.Fatal(err)
		}
		return sess
	}

	// Pay through "paykit trigger --fake": the handler gets the verified, parsed event.
	sess := create("C-1")
	if !strings.HasPrefix(sess.URL, fakeURL+"/") {
		t.Errorf("checkout URL %q not rewritten to the fake's address %s", sess.URL, fakeURL)
	}
	triggerFakeOK(t, provCheckout, string(jopaycheckout.EventSessionCompleted), fakeURL, sess.ID)
	e := waitEvent(t, got, "checkout.session.completed", func(e *jopaycheckout.Event) bool { return e.Data.ID == sess.ID })
	if e.Type != jopaycheckout.EventSessionCompleted || !e.IsPaid() || e.OrderID() != "C-1" {
		t.Fatalf("event: type %s, paid %v, order %q", e.Type, e.IsPaid(), e.OrderID())
	}
	if again, err := client.GetSession(t.Context(), sess.ID); err != nil || !again.IsPaid() {
		t.Fatalf("session after pay: %+v, %v", again, err)
	}

	// Redeliver: signed and acknowledged again, and the handler's dedupe keeps fn from running twice.
	d := adminOK(t, fakeURL, "redeliver", adminRequest{ID: sess.ID})
	if !d.Delivered || d.Event != string(jopaycheckout.EventSessionCompleted) || d.Object != sess.ID {
		t.Fatalf("redeliver: %+v", d)
	}
	noEvent(t, got, "a redelivered event is a duplicate")

	// Expire and fail through the admin surface.
	expired := create("C-2")
	if d := adminOK(t, fakeURL, "expire", adminRequest{ID: expired.ID}); !d.Delivered || d.Event != string(jopaycheckout.EventSessionExpired) {
		t.Fatalf("expire: %+v", d)
	}
	e = waitEvent(t, got, "checkout.session.expired", func(e *jopaycheckout.Event) bool { return e.Data.ID == expired.ID })
	if e.Type != jopaycheckout.EventSessionExpired || e.IsPaid() || !e.IsTerminal() || e.OrderID() != "C-2" {
		t.Fatalf("expired event: type %s, paid %v, terminal %v", e.Type, e.IsPaid(), e.IsTerminal())
	}
	failed := create("C-3")
	if d := adminOK(t, fakeURL, "fail", adminRequest{ID: failed.ID}); !d.Delivered || d.Event != string(jopaycheckout.EventPaymentFailed) {
		t.Fatalf("fail: %+v", d)
	}
	e = waitEvent(t, got, "checkout.payment.failed", func(e *jopaycheckout.Event) bool { return e.Data.ID == failed.ID })
	if e.Type != jopaycheckout.EventPaymentFailed || e.IsPaid() {
		t.Fatalf("failed event: type %s, paid %v", e.Type, e.IsPaid())
	}
	if _, err := adminCall(t.Context(), fakeURL, "pay", adminRequest{ID: "cs_missing"}); err == nil {
		t.Error("pay of an unknown session succeeded")
	}

	// Faults: a 503 reaches a client that does not retry; the default client retries past it.
	injectFault(t, fakeURL)
	c0, err := jopaycheckout.NewClient(s["API key"], jopaycheckout.WithBaseURL(s["base URL"]), jopaycheckout.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c0.GetSession(t.Context(), sess.ID); !paykit.IsStatus(err, http.StatusServiceUnavailable) {
		t.Fatalf("after a 503 fault: %v, want a 503 error", err)
	}
	if _, err := c0.GetSession(t.Context(), sess.ID); err != nil {
		t.Fatalf("the fault outlived its one call: %v", err)
	}
	injectFault(t, fakeURL)
	if again, err := client.GetSession(t.Context(), sess.ID); err != nil || again.ID != sess.ID {
		t.Fatalf("retrying client after a 503 fault: %+v, %v", again, err)
	}
	// The README's example body, sent as curl sends it (a form content type): 2 failures.
	ctx, cancel := context.WithTimeout(t.Context(), eventWait)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, fakeURL+adminPrefix+"faults",
		strings.NewReader(`{"kind":"fail","n":2,"http_status":503}`))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("README faults body: %s", resp.Status)
	}
	for i := range 2 {
		if _, err := c0.GetSession(t.Context(), sess.ID); !paykit.IsStatus(err, http.StatusServiceUnavailable) {
			t.Fatalf("call %d after a 2-call 503 fault: %v", i+1, err)
		}
	}
	if _, err := c0.GetSession(t.Context(), sess.ID); err != nil {
		t.Fatalf("the 2-call fault outlived its calls: %v", err)
	}

	ds := listDeliveries(t, fakeURL)
	if len(ds) != 4 {
		t.Errorf("deliveries: %+v, want completed, its redelivery, expired, failed", ds)
	}
	for _, d := range ds {
		if !d.Delivered || d.URL != hook.URL {
			t.Errorf("delivery %+v not delivered to %s", d, hook.URL)
		}
	}
}

func TestFakeJovePayEndToEnd(t *testing.T) {
	hook := newHookServer(t)
	got := make(chan *jovepay.IPN, 16)
	s := startFakeCommand(t, "jovepay", "--addr", "127.0.0.1:0", "--webhook-url", hook.URL+"/ipn")
	secret := fakeSecret(t, s)
	checkSettings(t, s, "JOVEPAY_", "JOVEPAY_IPN_SECRET", secret)
	if s["JOVEPAY_EMAIL"] == "" || s["JOVEPAY_PASSWORD"] == "" {
		t.Fatalf("no JovePay credentials printed: %v", s)
	}
	hook.set(jovepay.NewIPNHandler(secret, func(_ context.Context, ipn *jovepay.IPN) error {
		got <- ipn
		return nil
	}))
	fakeURL := strings.TrimSuffix(s["base URL"], "/v1")
	if fakeURL == s["base URL"] {
		t.Fatalf("base URL %q does not end in /v1", s["base URL"])
	}
	client, err := jovepay.NewClient(s["API key"], jovepay.WithBaseURL(s["base URL"]),
		jovepay.WithRetryWait(fastRetryMin, fastRetryMax))
	if err != nil {
		t.Fatal(err)
	}
	create := func(order, ipnURL string) *jovepay.Payment {
		t.Helper()
		p, err := client.CreatePayment(t.Context(), jovepay.CreatePaymentParams{
			PriceAmount: paykit.MustDecimal("25.50"), PriceCurrency: "usd", PayCurrency: "btc",
			OrderID: order, IPNCallbackURL: ipnURL,
		})
		if err != nil {
			t.Fatal(err)
		}
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
	if !ipn.IsPaid() || ipn.Payment.Status != jovepay.StatusFinished || ipn.OrderID() != "J-1" {
		t.Fatalf("IPN: status %s, paid %v, order %q", ipn.Payment.Status, ipn.IsPaid(), ipn.OrderID())
	}
	if again, err := client.GetPayment(t.Context(), pay.ID); err != nil || again.Status != jovepay.StatusFinished {
		t.Fatalf("payment after pay: %+v, %v", again, err)
	}
	for len(got) > 0 { // IPNs after finished, if any
		<-got
	}
	d := adminOK(t, fakeURL, "redeliver", adminRequest{ID: pay.ID.String()})
	if !d.Delivered || d.Event != string(jovepay.StatusFinished) || d.URL != hook.URL+"/ipn" {
		t.Fatalf("redeliver: %+v", d)
	}
	noEvent(t, got, "a redelivered IPN is a duplicate")

	// An explicit ipn_callback_url is kept; expire and fail through the admin surface.
	expired := create("J-2", hook.URL+"/explicit")
	d = adminOK(t, fakeURL, "expire", adminRequest{ID: expired.ID.String()})
	if !d.Delivered || d.Event != string(jovepay.StatusExpired) || d.URL != hook.URL+"/explicit" {
		t.Fatalf("expire: %+v", d)
	}
	ipn = waitEvent(t, got, "expired IPN", forPayment(expired.ID, jovepay.StatusExpired))
	if ipn.IsPaid() || ipn.Payment.Status != jovepay.StatusExpired || !ipn.IsTerminal() {
		t.Fatalf("expired IPN: status %s, paid %v", ipn.Payment.Status, ipn.IsPaid())
	}
	failed := create("J-3", "")
	if d := adminOK(t, fakeURL, "fail", adminRequest{ID: failed.ID.String()}); !d.Delivered || d.Event != string(jovepay.StatusFailed) {
		t.Fatalf("fail: %+v", d)
	}
	ipn = waitEvent(t, got, "failed IPN", forPayment(failed.ID, jovepay.StatusFailed))
	if ipn.IsPaid() || ipn.Payment.Status != jovepay.StatusFailed {
		t.Fatalf("failed IPN: status %s, paid %v", ipn.Payment.Status, ipn.IsPaid())
	}

	// Faults: a 503 reaches a client that does not retry; reset clears pending faults.
	injectFault(t, fakeURL)
	c0, err := jovepay.NewClient(s["API key"], jovepay.WithBaseURL(s["base URL"]), jovepay.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c0.GetPayment(t.Context(), pay.ID); !paykit.IsStatus(err, http.StatusServiceUnavailable) {
		t.Fatalf("after a 503 fault: %v, want a 503 error", err)
	}
	if _, err := adminCall(t.Context(), fakeURL, "faults", adminRequest{Kind: "fail", N: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := adminCall(t.Context(), fakeURL, "faults", adminRequest{Kind: "reset"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c0.GetPayment(t.Context(), pay.ID); err != nil {
		t.Fatalf("faults survived reset: %v", err)
	}
	if _, err := adminCall(t.Context(), fakeURL, "faults", adminRequest{Kind: "explode"}); err == nil || !strings.Contains(err.Error(), "want fail, drop") {
		t.Errorf("unknown fault kind: %v", err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	create := func(order string) *pepay.CreatedInvoice {
		t.Helper()
		inv, err := client.CreateInvoice(t.Context(), pepay.CreateInvoiceParams{
			AmountUSD: paykit.MustDecimal("25.00"), Description: "order " + order,
			Metadata: pepay.Metadata{"order_id": order}, OrderRef: order,
		})
		if err != nil {
			t.Fatal(err)
		}
		return inv
	}
	forInvoice := func(id string, paid bool) func(*pepay.Event) bool {
		return func(e *pepay.Event) bool { return e.InvoiceID() == id && e.IsPaid() == paid }
	}

	inv := create("P-1")
	if !strings.HasPrefix(inv.PaymentURL, fakeURL+"/") {
		t.Errorf("payment URL %q not rewritten to the fake's address %s", inv.PaymentURL, fakeURL)
	}
	triggerFakeOK(t, provPepay, string(pepay.EventInvoiceUpdated), fakeURL, inv.InvoiceID)
	e := waitEvent(t, got, "paid invoice", forInvoice(inv.InvoiceID, true))
	if e.OrderID() != "P-1" {
		t.Fatalf("paid event %s: order %q", e.Type, e.OrderID())
	}
	if st, err := client.GetInvoiceStatus(t.Context(), inv.InvoiceID); err != nil || !st.Status().IsPaid() {
		t.Fatalf("invoice after pay: %+v, %v", st, err)
	}

	// Redeliver takes the event id that deliveries lists; the handler dedupes on it.
	var eventID string
	for _, d := range listDeliveries(t, fakeURL) {
		if d.EventID == e.ID {
			eventID = d.EventID
			if d.Object != inv.InvoiceID || !d.Delivered {
				t.Errorf("delivery of %s: %+v", e.ID, d)
			}
		}
	}
	if eventID == "" {
		t.Fatalf("deliveries do not list event %s", e.ID)
	}
	for len(got) > 0 { // the other events of the payment
		<-got
	}
	d := adminOK(t, fakeURL, "redeliver", adminRequest{ID: eventID})
	if !d.Delivered || d.EventID != eventID || d.Event != string(e.Type) || d.Object != inv.InvoiceID {
		t.Fatalf("redeliver: %+v", d)
	}
	noEvent(t, got, "a redelivered event is a duplicate")
	if _, err := adminCall(t.Context(), fakeURL, "redeliver", adminRequest{ID: "evt_0-0"}); err == nil || !strings.Contains(err.Error(), "no event") {
		t.Errorf("redeliver of an unknown event: %v", err)
	}

	// Expire, and fail (Pepay's cancel), through the admin surface.
	expired := create("P-2")
	if d := adminOK(t, fakeURL, "expire", adminRequest{ID: expired.InvoiceID}); !d.Delivered {
		t.Fatalf("expire: %+v", d)
	}
	e = waitEvent(t, got, "expired invoice", func(e *pepay.Event) bool { return e.InvoiceID() == expired.InvoiceID && e.IsTerminal() })
	if e.IsPaid() || e.Invoice() == nil || e.Invoice().Status != pepay.StatusExpired {
		t.Fatalf("expired event %s: %s", e.Type, e.Data.Object)
	}
	canceled := create("P-3")
	if d := adminOK(t, fakeURL, "fail", adminRequest{ID: canceled.InvoiceID}); !d.Delivered {
		t.Fatalf("fail: %+v", d)
	}
	e = waitEvent(t, got, "canceled invoice", func(e *pepay.Event) bool { return e.InvoiceID() == canceled.InvoiceID && e.IsTerminal() })
	if e.IsPaid() || e.Invoice() == nil || e.Invoice().Status != pepay.StatusCanceled {
		t.Fatalf("canceled event %s: %s", e.Type, e.Data.Object)
	}

	// test.ping needs no id.
	triggerFakeOK(t, provPepay, string(pepay.EventTestPing), fakeURL, "")
	waitEvent(t, got, "test.ping", func(e *pepay.Event) bool { return e.Type == pepay.EventTestPing })

	// Faults: a 503 reaches a client that does not retry; the default client retries past it.
	injectFault(t, fakeURL)
	c0, err := pepay.NewClient(s["API key"], pepay.WithBaseURL(s["base URL"]), pepay.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c0.GetInvoice(t.Context(), inv.InvoiceID); !paykit.IsStatus(err, http.StatusServiceUnavailable) {
		t.Fatalf("after a 503 fault: %v, want a 503 error", err)
	}
	injectFault(t, fakeURL)
	if again, err := client.GetInvoice(t.Context(), inv.InvoiceID); err != nil || again.ID != inv.InvoiceID {
		t.Fatalf("retrying client after a 503 fault: %+v, %v", again, err)
	}
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
			if strings.Contains(printed, testSecret) {
				t.Fatalf("secret printed:\n%s", printed)
			}
			if s["webhook secret"] != "(from --webhook-secret)" || s[p.secretEnv] != "" ||
				!strings.Contains(printed, "  # export "+p.secretEnv+"=… (the secret from --webhook-secret, not printed)\n") {
				t.Fatalf("secret settings:\n%s", printed)
			}
			fakeURL := strings.TrimSuffix(strings.TrimSuffix(s["base URL"], "/v1"), "/")
			if name == provPepay {
				triggerFakeOK(t, name, string(pepay.EventTestPing), fakeURL, "")
			} else {
				client, err := jovepay.NewClient(s["API key"], jovepay.WithBaseURL(s["base URL"]))
				if err != nil {
					t.Fatal(err)
				}
				pay, err := client.CreatePayment(t.Context(), jovepay.CreatePaymentParams{
					PriceAmount: paykit.MustDecimal("50"), PriceCurrency: "usd", PayCurrency: "btc", OrderID: "S-1",
				})
				if err != nil {
					t.Fatal(err)
				}
				triggerFakeOK(t, name, string(jovepay.StatusFinished), fakeURL, pay.ID.String())
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.errs) == 0 {
				t.Fatal("no delivery arrived")
			}
			for i, err := range rec.errs {
				if err != nil {
					t.Errorf("delivery %d does not verify with the chosen secret: %v", i, err)
				}
			}
		})
	}
}
