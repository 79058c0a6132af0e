package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopay/jopaytest"
	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
	"github.com/paykit-go/paykit/webhook"
)

const testSecret = "whsec_cli_test_0123456789abcdef"

// run executes the command in-process and returns its exit status, stdout and stderr.
func run(t *testing.T, stdin string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Execute(t.Context(), args, IO{
		In: strings.NewReader(stdin), Out: &out, Err: &errb,
		Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	require.NotContains(t, out.String()+errb.String(), testSecret, "secret printed:\n%s\n%s", out.String(), errb.String())
	return code, out.String(), errb.String()
}

// verifyFor checks a delivery with the provider package's own verifier and parser.
func verifyFor(provider string, body []byte, h http.Header) error {
	switch provider {
	case provJoPay:
		v, err := jopay.NewWebhookVerifier(testSecret)
		if err != nil {
			return err
		}
		if err := v.Verify(body, h.Get(jopay.SignatureHeader)); err != nil {
			return err
		}
		_, err = jopay.ParseEvent(body)
		return err
	case provCheckout:
		v, err := jopaycheckout.NewWebhookVerifier(testSecret)
		if err != nil {
			return err
		}
		if err := v.Verify(body, h.Get(jopaycheckout.SignatureHeader)); err != nil {
			return err
		}
		_, err = jopaycheckout.ParseEvent(body)
		return err
	case provJovePay:
		v, err := jovepay.NewIPNVerifier(testSecret)
		if err != nil {
			return err
		}
		if err := v.Verify(body, h); err != nil {
			return err
		}
		_, err = jovepay.ParseIPN(body)
		return err
	default:
		v, err := pepay.NewWebhookVerifier(testSecret)
		if err != nil {
			return err
		}
		if err := v.Verify(body, h); err != nil {
			return err
		}
		e, err := pepay.ParseEvent(body)
		if err == nil && h.Get(pepay.EventIDHeader) != e.ID {
			err = fmt.Errorf("event id header %q, body %q", h.Get(pepay.EventIDHeader), e.ID)
		}
		return err
	}
}

type received struct {
	mu    sync.Mutex
	bodys [][]byte
	errs  []error
}

// receiver answers 200 "ok" to deliveries its verifier accepts and 400 otherwise.
func receiver(t *testing.T, provider string) (*httptest.Server, *received) {
	rec := &received{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := verifyFor(provider, body, r.Header)
		rec.mu.Lock()
		rec.bodys, rec.errs = append(rec.bodys, body), append(rec.errs, err)
		rec.mu.Unlock()
		if err != nil {
			http.Error(w, "invalid_signature", http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv, rec
}

func TestTriggerEveryEventVerifies(t *testing.T) {
	for _, name := range providerNames {
		p := providers[name]
		for _, ev := range p.events {
			forms := []string{"node"}
			if name == provJovePay {
				forms = formOrder
			}
			for _, form := range forms {
				t.Run(name+"/"+ev+"/"+form, func(t *testing.T) {
					srv, rec := receiver(t, name)
					args := []string{"trigger", name, ev, "--to", srv.URL, "--secret", testSecret}
					if name == provJovePay {
						args = append(args, "--form", form)
					}
					code, out, errOut := run(t, "", nil, args...)
					require.Zero(t, code, "exit %d\n%s\n%s", code, out, errOut)
					require.Contains(t, out, "result: processed", "exit %d\n%s\n%s", code, out, errOut)
					require.Len(t, rec.errs, 1, "verifier: %v", rec.errs)
					require.NoError(t, rec.errs[0], "verifier: %v", rec.errs)
					assert.Contains(t, string(rec.bodys[0]), ev, "body does not name: %s", rec.bodys[0])
					assert.Contains(t, out, "> POST "+srv.URL, "request/answer not printed:\n%s", out)
					assert.Contains(t, out, "< 200 OK", "request/answer not printed:\n%s", out)
				})
			}
		}
	}
}

func TestTriggerSetEnvAndSecretSource(t *testing.T) {
	srv, rec := receiver(t, provPepay)
	code, out, _ := run(t, "", map[string]string{"PEPAY_WEBHOOK_SECRET": testSecret},
		"trigger", "pepay", "invoice.updated", "--to", srv.URL, "--set", "data.object.amount=10", "--set", "livemode=true",
		"--set", "data.object.metadata.order=A-7")
	require.Zero(t, code, "exit %s", out)
	assert.Contains(t, out, "secret: (from PEPAY_WEBHOOK_SECRET)", "secret source not shown")
	e, err := pepay.ParseEvent(rec.bodys[0])
	require.NoError(t, err)
	var obj struct {
		Amount   int64             `json:"amount"`
		Metadata map[string]string `json:"metadata"`
	}
	require.NoError(t, json.Unmarshal(e.Data.Object, &obj))
	assert.Equal(t, int64(10), obj.Amount, "--set not applied: amount=%d livemode=%v metadata=%v", obj.Amount, e.Livemode, obj.Metadata)
	require.True(t, e.Livemode, "--set not applied: amount=%d livemode=%v metadata=%v", obj.Amount, e.Livemode, obj.Metadata)
	assert.Equal(t, "A-7", obj.Metadata["order"], "--set not applied: amount=%d livemode=%v metadata=%v", obj.Amount, e.Livemode, obj.Metadata)
}

func TestTriggerRepeatDuplicateAndAnswers(t *testing.T) {
	h, err := jopay.NewWebhookHandler(testSecret, func(context.Context, *jopay.Event) error { return nil })
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	code, out, _ := run(t, "", nil, "trigger", "jopay", "payment.proof_verified", "--to", srv.URL, "--secret", testSecret, "--repeat", "2")
	if code != 0 || !strings.Contains(out, "delivery 1/2") || !strings.Contains(out, "result: processed") ||
		!strings.Contains(out, "result: duplicate") {
		t.Fatalf("exit %d\n%s", code, out)
	}

	// A stale signature: JoPay abandons the 400 ("rejected"), Pepay retries it ("retry later").
	code, out, _ = run(t, "", nil, "trigger", "jopay", "payment.proof_attached", "--to", srv.URL, "--secret", testSecret, "--stale")
	require.Equal(t, 1, code, "stale jopay: exit %d\n%s", code, out)
	require.Contains(t, out, "result: rejected", "stale jopay: exit %d\n%s", code, out)
	require.Contains(t, out, "timestamp_out_of_range", "stale jopay: exit %d\n%s", code, out)
	psrv, _ := receiver(t, provPepay)
	code, out, _ = run(t, "", nil, "trigger", "pepay", "test.ping", "--to", psrv.URL, "--secret", testSecret, "--stale")
	require.Equal(t, 1, code, "stale pepay: exit %d\n%s", code, out)
	require.Contains(t, out, "result: retry later", "stale pepay: exit %d\n%s", code, out)
	fail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	defer fail.Close()
	code, out, _ = run(t, "", nil, "trigger", "jopay", "payment.proof_attached", "--to", fail.URL, "--secret", testSecret)
	require.Equal(t, 1, code, "503: exit %d\n%s", code, out)
	require.Contains(t, out, "result: retry later", "503: exit %d\n%s", code, out)
}

func TestBadInput(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"trigger", "stripe", "x", "--to", "http://127.0.0.1:1"}, `unknown provider "stripe"`},
		{[]string{"trigger", "jopay", "payment.paid", "--to", "http://127.0.0.1:1"}, "payment.proof_attached, payment.proof_verified"},
		{[]string{"trigger", "jopay", "payment.proof_verified", "--to", "http://127.0.0.1:1"}, "JOPAY_WEBHOOK_SECRET"},
		{[]string{"trigger", "jopay", "payment.proof_verified", "--to", "ftp://x", "--secret", "s"}, "http:// or https://"},
		{[]string{"trigger", "jovepay", "finished", "--to", "http://127.0.0.1:1", "--secret", "s", "--form", "ruby"}, "node, php or python"},
		{[]string{"trigger", "jovepay", "finished", "--to", "http://127.0.0.1:1", "--secret", "s", "--stale"}, "no timestamp"},
		{[]string{"trigger", "pepay", "test.ping", "--to", "http://127.0.0.1:1", "--secret", "s", "--set", "novalue"}, "key=value"},
		{[]string{"verify", "jopay", "--secret", "s", "--header", "nocolon"}, "'Name: value'"},
		{[]string{"events", "jopay", "--since", "x"}, "pepay only"},
		{[]string{"events", "pepay"}, "--since"},
		{[]string{"fake", "jopay", "--addr", "256.0.0.1:99999"}, "--addr"},
	}
	for _, c := range cases {
		code, _, errOut := run(t, "", nil, c.args...)
		assert.NotZero(t, code, "%v: exit %d, stderr %q, want %q", c.args, code, errOut, c.want)
		assert.Contains(t, errOut, c.want, "%v: exit %d, stderr %q, want %q", c.args, code, errOut, c.want)
	}
	code, out, _ := run(t, "", nil, "trigger", "--help")
	assert.Zero(t, code, "trigger --help: exit %d\n%s", code, out)
	assert.Contains(t, out, "Examples:", "trigger --help: exit %d\n%s", code, out)
}

func jopayHeader(secret string, t time.Time, body []byte) string {
	return "X-JoPay-Signature: " + jopaytest.SignatureHeader(secret, t, body)
}

func TestVerifyExplains(t *testing.T) {
	now := time.Now()
	body := []byte(`{"event":"payment.proof_verified","request_id":"r1","memo":"café <ok>","return":"https://shop.example/a b"}`)
	indented := []byte("{\n  \"event\": \"payment.proof_verified\",\n  \"request_id\": \"r1\"\n}")
	escaped := []byte(`{"event":"payment.proof_verified","memo":"caf\u00e9"}`)
	cases := []struct {
		name     string
		provider string
		stdin    []byte
		args     []string
		code     int
		want     []string
	}{
		{"ok", "jopay", body, []string{"--header", jopayHeader(testSecret, now, body)}, 0,
			[]string{"matches", "result: verified", "from --secret"}},
		{"previous secret", "jopay", body, []string{"--previous-secret", "old-secret-123", "--header", jopayHeader("old-secret-123", now, body)}, 0,
			[]string{"previous secret (from --previous-secret): matches", "result: verified"}},
		{"stale", "jopay", body, []string{"--header", jopayHeader(testSecret, now.Add(-7*time.Minute), body)}, 1,
			[]string{"timestamp outside tolerance by 2m0s", "7m0s old"}},
		{"trailing newline", "jopay", append(bytes.Clone(body), '\n'), []string{"--header", jopayHeader(testSecret, now, body)}, 1,
			[]string{"body changed", "trailing newline was added"}},
		{"re-serialized", "jopay", indented, []string{"--header", jopayHeader(testSecret, now, []byte(`{"event":"payment.proof_verified","request_id":"r1"}`))}, 1,
			[]string{"body changed", "re-serialized JSON"}},
		{"unicode decoded", "jopay", []byte(`{"event":"payment.proof_verified","memo":"café"}`), []string{"--header", jopayHeader(testSecret, now, escaped)}, 1,
			[]string{"body changed", "decoded the body", `\uXXXX`}},
		{"percent decoded", "jopay-checkout", body, []string{"--header", "X-JoPay-Signature: " + webhook.SignTimestamp(testSecret, now, []byte(strings.ReplaceAll(string(body), " ", "%20")))}, 1,
			[]string{"body changed", "percent-decoded"}},
		{"header missing", "jopay", body, nil, 1, []string{"header missing: X-JoPay-Signature"}},
		{"malformed", "jopay", body, []string{"--header", "X-JoPay-Signature: sha256=abc"}, 1, []string{"header malformed"}},
		{"malformed hex", "jopay", body, []string{"--header", "X-JoPay-Signature: t=1,v1=zz"}, 1, []string{"header malformed", "64 hex characters"}},
		{"wrong header", "jopay", body, []string{"--header", "Stripe-Signature: t=1,v1=abc"}, 1,
			[]string{"wrong header for jopay: Stripe-Signature is sent by Stripe", "header missing"}},
		{"other provider", "pepay", body, []string{"--header", jopayHeader(testSecret, now, body)}, 1,
			[]string{"wrong header for pepay: X-JoPay-Signature", "header missing: X-Pepay-Signature and X-Pepay-Timestamp"}},
		{"wrong secret", "jopay", body, []string{"--header", jopayHeader("another-secret", now, body)}, 1,
			[]string{"no signature matches", "secret is wrong"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"verify", c.provider, "--secret", testSecret}, c.args...)
			code, out, errOut := run(t, string(c.stdin), nil, args...)
			assert.Equal(t, c.code, code, "exit code\n%s%s", out, errOut)
			for _, w := range c.want {
				assert.Contains(t, out, w, "output lacks")
			}
		})
	}
}

func TestVerifyPepayAndJovePay(t *testing.T) {
	now := time.Now()
	body := []byte(`{"id":"evt_1-1","object":"event","type":"test.ping","created":1,"data":{"object":{"object":"ping"}}}`)
	args := func(h http.Header) []string {
		var a []string
		for k := range h {
			a = append(a, "--header", k+": "+h.Get(k))
		}
		return a
	}
	// Rotation: the current signature under a secret we do not have, the previous one under ours.
	h := pepaytest.SignatureHeaders("new-secret-xyz", testSecret, now, body)
	code, out, _ := run(t, string(body), map[string]string{"PAYKIT_WEBHOOK_PREVIOUS_SECRET": testSecret},
		append([]string{"verify", "pepay", "--secret", "unrelated-secret"}, args(h)...)...)
	require.Zero(t, code, "pepay rotation: exit %d\n%s", code, out)
	require.Contains(t, out, "previous secret (from PAYKIT_WEBHOOK_PREVIOUS_SECRET): matches (X-Pepay-Signature-Previous)", "pepay rotation: exit %d\n%s", code, out)
	h = pepaytest.SignatureHeaders(testSecret, "", now.Add(-time.Hour), body)
	code, out, _ = run(t, string(body), nil, append([]string{"verify", "pepay", "--secret", testSecret}, args(h)...)...)
	require.Equal(t, 1, code, "pepay stale: exit %d\n%s", code, out)
	require.Contains(t, out, "timestamp outside tolerance by 55m0s", "pepay stale: exit %d\n%s", code, out)

	ipn := []byte(`{"payment_id":5,"payment_status":"finished","price_amount":1.0,"fee":{"serviceFee":0.21},"arr":[2,1]}`)
	sig, err := webhook.SignSortedJSONForm(testSecret, ipn, webhook.FormPython)
	require.NoError(t, err)
	code, out, _ = run(t, string(ipn), nil, "verify", "jovepay", "--secret", testSecret, "--header", "x-nowpayments-sig: "+sig)
	require.Zero(t, code, "jovepay python: exit %d\n%s", code, out)
	require.Contains(t, out, "matches in the python form", "jovepay python: exit %d\n%s", code, out)
	code, out, _ = run(t, string(ipn), nil, "verify", "jovepay", "--secret", "wrong-secret-1", "--header", "x-jovepay-sig: "+sig)
	require.Equal(t, 1, code, "jovepay wrong secret: exit %d\n%s", code, out)
	require.Contains(t, out, "node: no match; php: no match; python: no match", "jovepay wrong secret: exit %d\n%s", code, out)
	require.Contains(t, out, "secret is wrong", "jovepay wrong secret: exit %d\n%s", code, out)
	code, out, _ = run(t, string(ipn), nil, "verify", "jovepay", "--secret", testSecret, "--header", "X-JoPay-Signature: t=1,v1=ab")
	require.Equal(t, 1, code, "jovepay wrong header: exit %d\n%s", code, out)
	require.Contains(t, out, "wrong header for jovepay", "jovepay wrong header: exit %d\n%s", code, out)
	require.Contains(t, out, "header missing", "jovepay wrong header: exit %d\n%s", code, out)
}

// syncBuffer is a bytes.Buffer safe for the fake's goroutine and the test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startFakeCommand runs "paykit fake" in-process until the test ends and returns the printed
// settings by name ("base URL", "API key", "webhook secret", "admin").
func startFakeCommand(t *testing.T, args ...string) map[string]string {
	t.Helper()
	settings, _ := startFakeOutput(t, args...)
	return settings
}

// startFakeOutput is startFakeCommand, also returning everything the command prints.
func startFakeOutput(t *testing.T, args ...string) (map[string]string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, append([]string{"fake"}, args...), IO{Out: out, Err: out})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("fake did not stop")
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "environment:") {
		require.False(t, time.Now().After(deadline), "fake printed no settings:\n%s", out.String())
		time.Sleep(10 * time.Millisecond)
	}
	settings := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, " ") {
			settings[k] = strings.TrimSpace(v)
		}
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "  export "), "="); ok && strings.HasPrefix(line, "  export ") {
			settings[k] = v
		}
	}
	return settings, out
}

func TestFakeJoPayEndToEnd(t *testing.T) {
	got := make(chan *jopay.Event, 4)
	var hookSecret string
	var hook http.Handler
	var once sync.Once
	hookSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() {
			var err error
			hook, err = jopay.NewWebhookHandler(hookSecret, func(_ context.Context, e *jopay.Event) error {
				got <- e
				return nil
			})
			assert.NoError(t, err)
		})
		hook.ServeHTTP(w, r)
	}))
	defer hookSrv.Close()

	s := startFakeCommand(t, "jopay", "--addr", "127.0.0.1:0", "--webhook-url", hookSrv.URL)
	hookSecret = strings.TrimSuffix(s["webhook secret"], " (the fake's test secret)")
	require.Equal(t, s["base URL"], s["JOPAY_BASE_URL"], "settings: %v", s)
	require.Equal(t, s["API key"], s["JOPAY_API_KEY"], "settings: %v", s)
	require.NotEmpty(t, s["JOPAY_MERCHANT_ID"], "settings: %v", s)
	require.NotEmpty(t, hookSecret, "settings: %v", s)
	client, err := jopay.NewClient(s["API key"], jopay.WithBaseURL(s["base URL"]))
	require.NoError(t, err)
	req, err := client.CreateRequest(t.Context(), jopay.CreateRequestParams{
		MerchantID: s["JOPAY_MERCHANT_ID"], FiatAmountInt: 4200, Memo: "order A-1",
		Metadata: map[string]string{jopay.MetadataOrderID: "A-1"},
	})
	require.NoError(t, err)
	fakeURL := strings.TrimSuffix(s["base URL"], "/api/v1")
	assert.True(t, strings.HasPrefix(req.PayPageURL, fakeURL), "pay URL %q not rewritten to the fake's address %s", req.PayPageURL, fakeURL)
	code, out, errOut := run(t, "", nil, "trigger", "jopay", "payment.proof_verified", "--fake", fakeURL, "--id", req.ID)
	require.Zero(t, code, "trigger --fake: exit %d\n%s%s", code, out, errOut)
	require.Contains(t, out, `"delivered":true`, "trigger --fake: exit %d\n%s%s", code, out, errOut)
	var paid bool
	for len(got) > 0 {
		e := <-got
		if e.RequestID == req.ID && e.IsPaid() && e.OrderID() == "A-1" {
			paid = true
		}
	}
	require.True(t, paid, "no verified payment.proof_verified webhook arrived")
	again, err := client.GetRequest(t.Context(), req.ID)
	require.NoError(t, err, "request after pay: %+v, %v", again, err)
	require.True(t, again.ProofStatus.IsPaid(), "request after pay: %+v, %v", again, err)

	// Admin surface: deliveries, faults and errors.
	resp, err := http.Get(fakeURL + adminPrefix + "deliveries")
	require.NoError(t, err)
	var ds []deliverySummary
	_ = json.NewDecoder(resp.Body).Decode(&ds)
	resp.Body.Close()
	require.Len(t, ds, 2, "deliveries: %+v", ds)
	assert.Equal(t, string(jopay.EventProofVerified), ds[1].Event, "deliveries: %+v", ds)
	assert.True(t, ds[1].Delivered, "deliveries: %+v", ds)
	_, err = adminCall(t.Context(), fakeURL, "faults", adminRequest{Kind: "fail", N: 1, HTTPStatus: 503})
	require.NoError(t, err)
	c0, _ := jopay.NewClient(s["API key"], jopay.WithBaseURL(s["base URL"]), jopay.WithMaxRetries(0))
	_, err = c0.GetRequest(t.Context(), req.ID)
	assert.Error(t, err, "injected 503 fault not served")
	_, err = adminCall(t.Context(), fakeURL, "fail", adminRequest{ID: req.ID})
	require.Error(t, err, "fail on jopay: %v", err)
	assert.Contains(t, err.Error(), `no "fail" action`, "fail on jopay: %v", err)
}
