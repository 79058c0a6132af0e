// Command checkout runs the JoPay e-commerce checkout end to end: an order becomes a payment
// request (with an idempotency key derived from the order, so retries and double clicks never
// make a second pay link), the customer is sent to the pay page and pays, and the signed
// payment.proof_verified webhook — received by a real HTTP endpoint, verified and deduped —
// marks the order paid exactly once.
//
//	go run ./examples/checkout
//
// With no configuration it runs against the in-process fake (jopaytest), which also plays the
// customer and the blockchain. Set JOPAY_API_KEY, JOPAY_MERCHANT_ID and JOPAY_WEBHOOK_SECRET to
// use your JoPay account; the host is the shared https://admin.jopay.app/api/v1 unless
// JOPAY_SLUG (your own https://{slug}.jopay.app/api/v1) or JOPAY_BASE_URL says otherwise. Setting
// only some of the variables stops with the names of the missing ones. The program then prints
// the pay page for you to pay and waits (JOPAY_WAIT, default 15m) for the webhook on a local
// address (JOPAY_WEBHOOK_ADDR, default 127.0.0.1:0) that JoPay must reach, e.g. through a tunnel
// set as your partner webhook URL. It also polls the request, so it notices the payment without
// one.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paykit-go/paykit/idempotency"
	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopay/jopaytest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "checkout:", err)
		os.Exit(1)
	}
}

const webhookPath = "/webhooks/jopay"

// config is where the program talks to: the fake (real == false) or a real endpoint.
type config struct {
	real                             bool
	host                             jopay.Option // JOPAY_SLUG, JOPAY_BASE_URL or the shared host
	apiKey, merchantID, secret, addr string
	wait                             time.Duration
}

// The JOPAY_* variables: the credentials are required for a real endpoint, the rest optional.
var (
	requiredVars = []string{"JOPAY_API_KEY", "JOPAY_MERCHANT_ID", "JOPAY_WEBHOOK_SECRET"}
	optionalVars = []string{"JOPAY_SLUG", "JOPAY_BASE_URL", "JOPAY_WAIT", "JOPAY_WEBHOOK_ADDR"}
)

func configFromEnv() (config, error) {
	c := config{addr: "127.0.0.1:0", wait: 15 * time.Minute}
	vars, err := envVars(requiredVars, optionalVars)
	if err != nil || vars == nil {
		return c, err
	}
	c.real = true
	c.apiKey, c.merchantID, c.secret = vars["JOPAY_API_KEY"], vars["JOPAY_MERCHANT_ID"], vars["JOPAY_WEBHOOK_SECRET"]
	if c.host, err = jopayHost(vars); err != nil {
		return c, err
	}
	if a := vars["JOPAY_WEBHOOK_ADDR"]; a != "" {
		c.addr = a
	}
	if w := vars["JOPAY_WAIT"]; w != "" {
		if c.wait, err = time.ParseDuration(w); err != nil {
			return c, fmt.Errorf("JOPAY_WAIT: %w", err)
		}
	}
	return c, nil
}

// envVars reads the example's variables. With none set it returns nil: run against the fake.
// With any set a real endpoint is meant, so every required one must be set; the error names
// those missing (never a value).
func envVars(required, optional []string) (map[string]string, error) {
	vars := map[string]string{}
	var missing []string
	for _, k := range slices.Concat(required, optional) {
		if v := os.Getenv(k); v != "" {
			vars[k] = v
		} else if slices.Contains(required, k) {
			missing = append(missing, k)
		}
	}
	switch {
	case len(vars) == 0:
		return nil, nil
	case len(missing) > 0:
		return nil, fmt.Errorf("missing %s: a real endpoint needs %s (optional: %s); unset them all to run against the in-process fake",
			strings.Join(missing, ", "), strings.Join(required, ", "), strings.Join(optional, ", "))
	}
	return vars, nil
}

// jopayHost picks the API host: the partner's own (JOPAY_SLUG), any base URL (JOPAY_BASE_URL),
// or by default the shared host jopay.AdminBaseURL, which serves the same routes and data.
func jopayHost(vars map[string]string) (jopay.Option, error) {
	slug, base := vars["JOPAY_SLUG"], vars["JOPAY_BASE_URL"]
	switch {
	case slug != "" && base != "":
		return nil, errors.New("set JOPAY_SLUG or JOPAY_BASE_URL, not both")
	case slug != "":
		return jopay.WithSlug(slug), nil
	case base != "":
		return jopay.WithBaseURL(base), nil
	}
	return jopay.WithBaseURL(jopay.AdminBaseURL), nil
}

// order is the shop's record. Paid is set once, by the verified-payment webhook.
type order struct {
	ID         string
	CustomerID string
	Lines      []line
	Status     string // "pending", "awaiting confirmation", "paid"
	TxHash     string
}

type line struct {
	Name      string
	Qty       int64
	UnitCents int64
}

func (o *order) totalCents() int64 {
	var t int64
	for _, l := range o.Lines {
		t += l.Qty * l.UnitCents
	}
	return t
}

// shop holds the orders and runs the business actions the webhook triggers.
type shop struct {
	mu          sync.Mutex
	orders      map[string]*order
	fulfilments int
	calls       int         // handler function runs
	paid        chan string // order ids, when marked paid
	out         *printer
}

// onEvent is the webhook handler function: it runs only for verified, non-duplicate events.
func (s *shop) onEvent(_ context.Context, e *jopay.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	o := s.orders[e.OrderID()]
	if o == nil {
		// Not ours (another integration shares the partner webhook URL): acknowledge.
		s.out.printf("   webhook %s for request %s: no order %q here, acknowledged\n", e.Type, short(e.RequestID), e.OrderID())
		return nil
	}
	switch {
	case e.IsPaid():
		if o.Status == "paid" {
			return nil // idempotent: the dedupe store already stops repeats, this is a second line
		}
		o.Status, o.TxHash = "paid", e.TxHash
		s.fulfilments++
		s.out.printf("   webhook %s for request %s (signature verified): order %s marked PAID, tx %s; fulfilment started\n",
			e.Type, short(e.RequestID), o.ID, short(e.TxHash))
		s.paid <- o.ID
	case e.Type == jopay.EventProofAttached:
		o.Status = "awaiting confirmation"
		s.out.printf("   webhook %s for request %s (signature verified): order %s awaiting on-chain confirmation, not paid yet\n",
			e.Type, short(e.RequestID), o.ID)
	default:
		s.out.printf("   webhook %s for request %s: ignored\n", e.Type, short(e.RequestID))
	}
	return nil
}

func (s *shop) handlerCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// run is the whole program; main_test.go calls it.
func run(ctx context.Context, w io.Writer) error {
	out := &printer{w: w}
	cfg, err := configFromEnv()
	if err != nil {
		return err
	}
	var fake *jopaytest.Server
	if !cfg.real {
		fake = jopaytest.NewServer()
		defer fake.Close()
		cfg.host, cfg.apiKey, cfg.merchantID, cfg.secret = jopay.WithBaseURL(fake.BaseURL), jopaytest.DefaultAPIKey, jopaytest.DefaultMerchantID, jopaytest.WebhookSecret
	}
	client, err := jopay.NewClient(cfg.apiKey, cfg.host, jopay.WithRetryWait(50*time.Millisecond, 2*time.Second))
	if err != nil {
		return err
	}
	if cfg.real {
		out.printf("JoPay checkout example against %s (%s key)\n", client.BaseURL(), client.Mode())
	} else {
		out.printf("JoPay checkout example against an in-process fake JoPay at %s\n", client.BaseURL())
		out.printf("(set JOPAY_API_KEY, JOPAY_MERCHANT_ID and JOPAY_WEBHOOK_SECRET to use your JoPay account)\n\n")
	}

	// 1. The order.
	o := &order{ID: "A-1001", CustomerID: "C-77", Status: "pending", Lines: []line{
		{"Premium coffee beans 1 kg", 2, 1250}, {"Ceramic mug", 1, 250},
	}}
	if cfg.real {
		o.ID = fmt.Sprintf("A-%d", time.Now().Unix()) // a fresh order per run
	}
	s := &shop{orders: map[string]*order{o.ID: o}, paid: make(chan string, 1), out: out}
	out.printf("1. Order %s: 2 × coffee beans @ 12.50 + 1 × mug @ 2.50 = %d cents\n", o.ID, o.totalCents())

	// 2. The webhook endpoint, a real HTTP server.
	hook, err := jopay.NewWebhookHandler(cfg.secret, s.onEvent)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("POST "+webhookPath, hook)
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer shutdown(ctx, hs)
	hookURL := "http://" + ln.Addr().String() + webhookPath
	out.printf("2. Webhook endpoint listening on %s\n", hookURL)
	if fake != nil {
		fake.SetWebhook(hookURL, cfg.secret)
	}

	// 3. Create the payment request with a key derived from the order.
	params := jopay.CreateRequestParams{
		MerchantID:     cfg.merchantID,
		FiatAmountInt:  o.totalCents(),
		Memo:           "Order #" + o.ID,
		IdempotencyKey: idempotency.Key("checkout", o.ID),
		Metadata:       map[string]string{jopay.MetadataOrderID: o.ID, "customer_id": o.CustomerID},
	}
	out.printf("3. Creating the payment request, idempotency key sha256(\"checkout:%s\") = %s…\n", o.ID, params.IdempotencyKey[:16])
	if fake != nil {
		fake.LoseResponseNext(1)
		out.printf("   (fake: JoPay creates the request but the answer is lost on the way back; the client retries with the same key)\n")
	}
	req, err := client.CreateRequest(ctx, params)
	if err != nil {
		return err
	}
	out.printf("   request %s: status %s, proof %s, expires in %s\n", req.ID, req.Status, req.ProofStatus, req.ExpiresAt.Sub(req.CreatedAt).Round(time.Second))
	out.printf("   pay page: %s\n", req.PayPageURL)
	if fake != nil {
		out.printf("   JoPay holds %d request(s) for order %s after the retry\n", countFor(fake, o.ID), o.ID)
	}

	// 4. A double click: the same create again.
	again, err := client.CreateRequest(ctx, params)
	if err != nil {
		return err
	}
	out.printf("4. Customer double-clicks \"Pay\": the second create returns the same request: %v (%s)\n", again.ID == req.ID, again.ID)

	// 5–6. Redirect and payment.
	if fake == nil {
		return waitReal(ctx, out, client, s, req, hookURL, cfg.wait)
	}
	out.printf("5. Redirecting the customer to the pay page\n")
	if err := openPage(ctx, fake.HTTPClient(), req.PayPageURL); err != nil {
		return err
	}
	if r, err := client.GetRequest(ctx, req.ID); err == nil {
		out.printf("   request status now %s\n", r.Status)
	}
	out.printf("6. The customer pays; JoPay sees the transaction, then verifies it on-chain\n")
	if _, err := fake.AttachProof(ctx, req.ID, ""); err != nil {
		return err
	}
	verified, err := fake.VerifyProof(ctx, req.ID)
	if err != nil {
		return err
	}
	select {
	case <-s.paid:
	default:
		return fmt.Errorf("the verified-payment webhook did not mark the order paid (delivery %+v)", verified.Attempts)
	}

	// 7. JoPay delivers the same event again, under a new delivery id.
	before := s.handlerCalls()
	re, err := fake.Redeliver(ctx, req.ID, jopay.EventProofVerified)
	if err != nil {
		return err
	}
	out.printf("7. JoPay delivers payment.proof_verified again, under a new delivery_id (%s; the first was %s)\n", short(re.DeliveryID), short(verified.DeliveryID))
	if s.handlerCalls() == before {
		out.printf("   answered %d without running the handler: this request's payment.proof_verified was already processed, so the order is not fulfilled twice\n",
			re.Attempts[len(re.Attempts)-1].Status)
	} else {
		out.printf("   answered %d and the handler ran again (%d calls before, %d after): it must tolerate repeats\n",
			re.Attempts[len(re.Attempts)-1].Status, before, s.handlerCalls())
	}

	// 8. A forged delivery.
	status, text, err := forge(ctx, hookURL, verified.Body)
	if err != nil {
		return err
	}
	out.printf("8. A forged webhook (signed with the wrong secret) is answered %d %s and ignored\n", status, text)

	// 9. Outcome.
	s.mu.Lock()
	out.printf("9. Order %s is %s (fulfilled %d time(s)); JoPay request %s has proof %s\n", o.ID, o.Status, s.fulfilments, short(req.ID), mustProof(ctx, client, req.ID))
	s.mu.Unlock()
	return nil
}

// waitReal prints what the user must do and waits for the webhook, polling as a fallback.
func waitReal(ctx context.Context, out *printer, client *jopay.Client, s *shop, req *jopay.PaymentRequest, hookURL string, wait time.Duration) error {
	out.printf("5. Pay at %s\n", req.PayPageURL)
	out.printf("   waiting up to %s for the payment.proof_verified webhook on %s\n", wait, hookURL)
	out.printf("   (JoPay must reach it: expose it, e.g. through a tunnel, and set that URL as your partner webhook URL)\n")
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case id := <-s.paid:
			out.printf("6. Order %s paid.\n", id)
			return nil
		case <-tick.C:
			r, err := client.GetRequest(ctx, req.ID)
			if err != nil {
				out.printf("   poll: %v\n", err)
				continue
			}
			if r.IsPaid() {
				out.printf("6. Polling shows request %s paid (the webhook has not arrived; check the webhook URL)\n", r.ID)
				return nil
			}
			if r.Status.IsTerminal() {
				return fmt.Errorf("request %s ended %s unpaid", r.ID, r.Status)
			}
		case <-ctx.Done():
			return fmt.Errorf("no payment within %s: %w", wait, ctx.Err())
		}
	}
}

// forge posts body signed with a secret that is not the webhook secret.
func forge(ctx context.Context, url string, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set(jopay.SignatureHeader, jopaytest.SignatureHeader("not-the-secret", time.Now(), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	return resp.StatusCode, strings.TrimSpace(string(b)), nil
}

func openPage(ctx context.Context, hc *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New("pay page answered " + resp.Status)
	}
	return nil
}

func countFor(fake *jopaytest.Server, orderID string) int {
	n := 0
	for _, r := range fake.PaymentRequests() {
		if r.Metadata[jopay.MetadataOrderID] == orderID {
			n++
		}
	}
	return n
}

func mustProof(ctx context.Context, c *jopay.Client, id string) jopay.ProofStatus {
	r, err := c.GetRequest(ctx, id)
	if err != nil {
		return jopay.ProofStatus("unknown (" + err.Error() + ")")
	}
	return r.ProofStatus
}

func shutdown(ctx context.Context, hs *http.Server) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
}

// short abbreviates long ids and hashes for the printout.
func short(s string) string {
	if len(s) > 13 {
		return s[:10] + "…"
	}
	return s
}

// printer serializes output: webhook handlers print from server goroutines.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}
