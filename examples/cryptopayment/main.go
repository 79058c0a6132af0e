// Command cryptopayment runs JovePay's standard e-commerce flow end to end: API status →
// currencies → minimum amount → estimate (checked against the minimum) → payment with a deposit
// address → signed IPNs received on a local HTTP endpoint, verified and deduplicated → order
// fulfilled. A second order is paid only partly and is shown not being fulfilled, and the
// customer's top-up arrives as a repeated deposit that is held for review.
//
// With no configuration it starts the jovepaytest fake in-process. Set JOVEPAY_API_KEY to call
// your JovePay account instead (JOVEPAY_BASE_URL overrides the default
// https://api.jovepay.io/v1, e.g. with the sandbox host); setting only JOVEPAY_BASE_URL stops
// with the name of the missing key. A real JovePay cannot post IPNs to 127.0.0.1, so that mode
// stops after creating the payment and needs no IPN secret.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/jovepay/jovepaytest"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cryptopayment:", err)
		os.Exit(1)
	}
}

// printer serialises output: IPNs are handled on the HTTP server's goroutines.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) f(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

// shop is the merchant's order book: what each order expects, and what happened to it.
type shop struct {
	out       *printer
	mu        sync.Mutex
	orders    map[string]jovepay.Expected
	fulfilled []string
	held      []string
	handled   int
}

// handleIPN is the application function behind jovepay.NewIPNHandler: it only ever sees
// verified, parsed, not-yet-handled IPNs.
func (s *shop) handleIPN(_ context.Context, ipn *jovepay.IPN) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handled++
	if ipn.Payment == nil {
		s.out.f("   IPN (%s) ignored: not a payment", ipn.Kind)
		return nil
	}
	p := ipn.Payment
	exp, ok := s.orders[p.OrderID()]
	if !ok {
		s.out.f("   IPN for unknown order %q ignored", p.OrderID())
		return nil
	}
	check := jovepay.CheckIPN(ipn, exp)
	prefix := fmt.Sprintf("   IPN %s %-14s paid %s/%s %s:", p.OrderID(), p.Status, p.ActuallyPaid, p.PayAmount, p.PayCurrency)
	switch {
	case p.IsRepeatedDeposit():
		s.held = append(s.held, p.OrderID()+" (re-deposit "+p.ID.String()+")")
		s.out.f("%s repeated deposit of payment %s: NOT fulfilled automatically, held for review", prefix, p.ParentPaymentID)
	case p.Status == jovepay.StatusPartiallyPaid:
		s.out.f("%s NOT fulfilled (%s)", prefix, reasons(check))
	case p.Status.IsPaid() && check == nil:
		if slices.Contains(s.fulfilled, p.OrderID()) {
			s.out.f("%s already fulfilled", prefix)
			return nil
		}
		s.fulfilled = append(s.fulfilled, p.OrderID())
		s.out.f("%s amount and asset match → ORDER %s FULFILLED", prefix, p.OrderID())
	case p.Status.IsPaid():
		s.held = append(s.held, p.OrderID())
		s.out.f("%s paid but %s: held for review", prefix, reasons(check))
	case p.Status.IsTerminal():
		s.out.f("%s order closed without payment", prefix)
	default:
		s.out.f("%s in progress", prefix)
	}
	return nil
}

// reasons lists the mismatching fields of a CheckIPN error.
func reasons(err error) string {
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		return "ok"
	}
	var out []string
	for _, e := range joined.Unwrap() {
		var m *jovepay.MismatchError
		if errors.As(e, &m) {
			if m.Want != "" {
				out = append(out, fmt.Sprintf("%s %s, expected %s", m.Field, m.Got, m.Want))
			} else {
				out = append(out, m.Field+" set")
			}
		}
	}
	return strings.Join(out, "; ")
}

func (s *shop) handledCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handled
}

type config struct {
	baseURL, apiKey, ipnSecret string
	fake                       *jovepaytest.Server
}

// The JOVEPAY_* variables: the key is required for a real endpoint, the base URL optional.
var (
	requiredVars = []string{"JOVEPAY_API_KEY"}
	optionalVars = []string{"JOVEPAY_BASE_URL"}
)

// configure reads the environment; with nothing set it starts the fake (close cfg.fake).
func configure() (config, error) {
	vars, err := envVars(requiredVars, optionalVars)
	if err != nil {
		return config{}, err
	}
	if vars == nil {
		c := config{fake: jovepaytest.NewServer()}
		c.baseURL, c.apiKey, c.ipnSecret = c.fake.BaseURL, c.fake.APIKey(), c.fake.IPNSecret()
		return c, nil
	}
	return config{baseURL: cmp.Or(vars["JOVEPAY_BASE_URL"], jovepay.DefaultBaseURL), apiKey: vars["JOVEPAY_API_KEY"]}, nil
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

func run(ctx context.Context, w io.Writer) error {
	out := &printer{w: w}
	cfg, err := configure()
	if err != nil {
		return err
	}
	if cfg.fake != nil {
		defer cfg.fake.Close()
		out.f("JovePay standard flow against the in-process fake (set JOVEPAY_API_KEY to use your JovePay account)")
	} else {
		out.f("JovePay standard flow against %s", cfg.baseURL)
	}
	client, err := jovepay.NewClient(cfg.apiKey, jovepay.WithBaseURL(cfg.baseURL))
	if err != nil {
		return err
	}

	// 1–4: availability, currencies, minimum, estimate.
	if err := client.Status(ctx); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	out.f("1. GET /status: API is up")
	currencies, err := client.Currencies(ctx, jovepay.CurrenciesParams{})
	if err != nil {
		return err
	}
	payCur := "btc"
	if !slices.Contains(currencies, payCur) && len(currencies) > 0 {
		payCur = currencies[0]
	}
	out.f("2. GET /currencies: %d available (%s); the customer picks %s", len(currencies), strings.Join(first(currencies, 6), ", "), payCur)
	min, err := client.MinAmount(ctx, jovepay.MinAmountParams{CurrencyFrom: payCur, FiatEquivalent: "usd"})
	if err != nil {
		return err
	}
	out.f("3. GET /min-amount: at least %s %s (≈ %s usd)", min.MinAmount, payCur, min.FiatEquivalent)
	price := paykit.MustDecimal("49.99")
	est, err := client.Estimate(ctx, jovepay.EstimateParams{Amount: price, CurrencyFrom: "usd", CurrencyTo: payCur})
	if err != nil {
		return err
	}
	if !est.AtLeast(min) {
		return fmt.Errorf("estimate %s %s is below the minimum %s: raise the price or pick another currency", est.EstimatedAmount, payCur, min.MinAmount)
	}
	out.f("4. GET /estimate: %s usd ≈ %s %s, above the minimum ✓", price, est.EstimatedAmount, payCur)

	// The IPN endpoint: a real HTTP server on 127.0.0.1 running jovepay.NewIPNHandler. Only the
	// fake can reach it; a real JovePay needs a public ipn_callback_url.
	sh := &shop{out: out, orders: map[string]jovepay.Expected{}}
	var ipnURL string
	if cfg.fake != nil {
		handler, err := jovepay.NewIPNHandler(cfg.ipnSecret, sh.handleIPN)
		if err != nil {
			return err
		}
		var stop func()
		if ipnURL, stop, err = serve(handler); err != nil {
			return err
		}
		defer stop()
	}

	// 5: the payment and its deposit address.
	params := jovepay.CreatePaymentParams{PriceAmount: price, PriceCurrency: "usd", PayCurrency: payCur,
		OrderID: "A-1001", OrderDescription: "Pro plan, 1 year"}
	params.IPNCallbackURL = ipnURL // empty against a real JovePay, which cannot reach 127.0.0.1
	pay, err := client.CreatePayment(ctx, params)
	if errors.Is(err, paykit.ErrUnknownOutcome) {
		return fmt.Errorf("create: outcome unknown — look order %s up (FindPaymentByOrderID) before retrying: %w", params.OrderID, err)
	}
	if err != nil {
		return err
	}
	sh.expect(params, pay)
	out.f("5. POST /payment: order %s → payment %s, %s", pay.OrderID(), pay.ID, pay.Status)
	out.f("   deposit address: %s — send exactly %s %s", pay.PayAddress, pay.PayAmount, pay.PayCurrency)
	if cfg.fake == nil {
		got, err := client.GetPayment(ctx, pay.ID)
		if err != nil {
			return err
		}
		out.f("6. GET /payment/%s: %s. JovePay cannot post IPNs to this machine (they need a public ipn_callback_url),", got.ID, got.Status)
		out.f("   so the example stops here; the payment's status is in your JovePay dashboard and GET /payment/%s.", got.ID)
		return nil
	}
	srv := cfg.fake

	// 6: the customer pays; JovePay posts an IPN for every status change.
	out.f("6. IPNs posted to http://127.0.0.1:…/jovepay/ipn (signature verified, duplicates dropped)")
	out.f("   the customer sends %s %s", pay.PayAmount, pay.PayCurrency)
	if _, err := srv.Pay(ctx, pay.ID); err != nil {
		return err
	}
	before := sh.handledCount()
	if _, err := srv.Redeliver(ctx, pay.ID); err != nil {
		return err
	}
	last := srv.Deliveries()[len(srv.Deliveries())-1]
	out.f("   JovePay re-sends the last IPN: answered %d, recognised as a duplicate: %v", last.Attempts[len(last.Attempts)-1].Status, sh.handledCount() == before)

	// 7: an underpayment, then the top-up as a repeated deposit.
	params.OrderID, params.OrderDescription = "A-1002", "Starter plan"
	pay2, err := client.CreatePayment(ctx, params)
	if err != nil {
		return err
	}
	sh.expect(params, pay2)
	part := paykit.MustDecimal("0.0004")
	out.f("7. order %s → payment %s; the customer sends only %s of %s %s", pay2.OrderID(), pay2.ID, part, pay2.PayAmount, pay2.PayCurrency)
	if _, err := srv.PayAmount(ctx, pay2.ID, part); err != nil {
		return err
	}
	rest := pay2.PayAmount.Sub(part)
	out.f("   the customer tops up %s %s to the same address", rest, pay2.PayCurrency)
	child, err := srv.Redeposit(ctx, pay2.ID, rest)
	if err != nil {
		return err
	}

	// 8: the status API agrees with the IPNs.
	got, err := client.GetPayment(ctx, pay.ID)
	if err != nil {
		return err
	}
	out.f("8. GET /payment/%s: %s, merchant receives %s %s", got.ID, got.Status, got.OutcomeAmount, got.OutcomeCurrency)
	ch, err := client.GetPayment(ctx, child)
	if err != nil {
		return err
	}
	out.f("   GET /payment/%s: %s, parent %s, origin %s", ch.ID, ch.Status, ch.ParentPaymentID, ch.OriginType)

	sh.mu.Lock()
	defer sh.mu.Unlock()
	out.f("fulfilled: %s; held for review: %s; IPNs delivered: %d", strings.Join(sh.fulfilled, ", "), strings.Join(sh.held, ", "), len(srv.Deliveries()))
	return nil
}

// expect records what an order's payment must look like, for CheckIPN.
func (s *shop) expect(p jovepay.CreatePaymentParams, pay *jovepay.Payment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders[p.OrderID] = jovepay.Expected{OrderID: p.OrderID, PriceAmount: p.PriceAmount, PriceCurrency: p.PriceCurrency,
		PayCurrency: p.PayCurrency, PayAmount: pay.PayAmount}
}

// serve runs h on a fresh 127.0.0.1 port and returns the IPN URL and a stop function.
func serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /jovepay/ipn", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String() + "/jovepay/ipn", stop, nil
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "…")
	}
	return s
}
