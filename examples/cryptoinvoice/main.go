// Command cryptoinvoice runs JovePay's invoice flow: create a hosted invoice with a success_url,
// send the customer to the invoice page, let them pick a currency and pay, receive the signed
// IPNs (with invoice_id) on a local HTTP endpoint, fulfil the order, and follow the page's
// redirect back to the shop's success_url.
//
// With no configuration it starts the jovepaytest fake in-process. Set JOVEPAY_API_KEY to call
// your JovePay account (JOVEPAY_BASE_URL overrides the default https://api.jovepay.io/v1, e.g.
// with the sandbox host); setting only JOVEPAY_BASE_URL stops with the name of the missing key.
// That mode stops once the invoice and its payment exist, since a real JovePay cannot post IPNs
// to 127.0.0.1, and so needs no IPN secret.
package main

import (
	"cmp"
	"context"
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
		fmt.Fprintln(os.Stderr, "cryptoinvoice:", err)
		os.Exit(1)
	}
}

type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) f(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

const successURL = "https://shop.example/orders/INV-2001/thanks"

// The JOVEPAY_* variables: the key is required for a real endpoint, the base URL optional.
var (
	requiredVars = []string{"JOVEPAY_API_KEY"}
	optionalVars = []string{"JOVEPAY_BASE_URL"}
)

// endpoint reads the environment: real is false with nothing set (run against the fake);
// otherwise the key is set and the base URL is JOVEPAY_BASE_URL or JovePay's default.
func endpoint() (baseURL, apiKey string, real bool, err error) {
	vars, err := envVars(requiredVars, optionalVars)
	if err != nil || vars == nil {
		return "", "", false, err
	}
	return cmp.Or(vars["JOVEPAY_BASE_URL"], jovepay.DefaultBaseURL), vars["JOVEPAY_API_KEY"], true, nil
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
	base, key, real, err := endpoint()
	if err != nil {
		return err
	}
	var (
		fake   *jovepaytest.Server
		secret string
	)
	if real {
		out.f("JovePay invoice flow against %s", base)
	} else {
		fake = jovepaytest.NewServer()
		defer fake.Close()
		base, key, secret = fake.BaseURL, fake.APIKey(), fake.IPNSecret()
		out.f("JovePay invoice flow against the in-process fake (set JOVEPAY_API_KEY to use your JovePay account)")
	}
	client, err := jovepay.NewClient(key, jovepay.WithBaseURL(base))
	if err != nil {
		return err
	}

	// The IPN endpoint: verify, parse, dedupe, then fulfil the order once it is paid. Only the
	// fake can reach it on 127.0.0.1; a real JovePay needs a public ipn_callback_url.
	var mu sync.Mutex
	fulfilled := map[string]bool{}
	var invoiceID jovepay.ID
	var ipnURL string
	if fake != nil {
		handler, err := jovepay.NewIPNHandler(secret, func(_ context.Context, ipn *jovepay.IPN) error {
			p := ipn.Payment
			if p == nil {
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			line := fmt.Sprintf("   IPN %s (invoice %s) %s", p.OrderID(), p.InvoiceID, p.Status)
			err := jovepay.CheckIPN(ipn, jovepay.Expected{OrderID: "INV-2001", PriceAmount: paykit.MustDecimal("49.99"), PriceCurrency: "usd"})
			switch {
			case p.InvoiceID != invoiceID:
				out.f("%s: not our invoice, ignored", line)
			case p.Status.IsPaid() && err == nil && !fulfilled[p.OrderID()]:
				fulfilled[p.OrderID()] = true
				out.f("%s: %s %s received → ORDER %s FULFILLED", line, p.ActuallyPaid, p.PayCurrency, p.OrderID())
			case p.Status.IsPaid() && err != nil:
				out.f("%s: held for review: %v", line, err)
			default:
				out.f("%s", line)
			}
			return nil
		})
		if err != nil {
			return err
		}
		var stop func()
		if ipnURL, stop, err = serve(handler); err != nil {
			return err
		}
		defer stop()
	}

	params := jovepay.CreateInvoiceParams{
		PriceAmount: paykit.MustDecimal("49.99"), PriceCurrency: "usd", OrderID: "INV-2001",
		OrderDescription: "Pro plan, 1 year", SuccessURL: successURL, CancelURL: "https://shop.example/cart",
	}
	params.IPNCallbackURL = ipnURL // empty against a real JovePay, which cannot reach 127.0.0.1
	inv, err := client.CreateInvoice(ctx, params)
	if err != nil {
		return err
	}
	mu.Lock()
	invoiceID = inv.ID
	mu.Unlock()
	page := inv.InvoiceURL
	if fake != nil {
		page = strings.Replace(page, fake.URL, "http://127.0.0.1:…", 1)
	}
	out.f("1. POST /invoice: invoice %s for %s %s, success_url %s", inv.ID, inv.PriceAmount, inv.PriceCurrency, inv.SuccessURL)
	out.f("2. redirect the customer to the hosted page: %s", page)

	noFollow := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if fake != nil {
		body, _, err := get(ctx, noFollow, inv.InvoiceURL)
		if err != nil {
			return err
		}
		out.f("   the page shows: %s", strings.TrimSpace(body))
	}

	// The customer picks a currency on the page; a merchant with its own UI does the same
	// with POST /invoice-payment.
	pay, err := client.CreateInvoicePayment(ctx, jovepay.CreateInvoicePaymentParams{InvoiceID: inv.ID, PayCurrency: "ltc"})
	if err != nil {
		return err
	}
	out.f("3. POST /invoice-payment: the customer picks ltc → payment %s, send %s %s to %s", pay.ID, pay.PayAmount, pay.PayCurrency, pay.PayAddress)
	if fake == nil {
		out.f("4. JovePay cannot post IPNs to this machine (they need a public ipn_callback_url), so the example stops here;")
		out.f("   open the invoice page above to pay, and follow the payment in your JovePay dashboard.")
		return nil
	}

	out.f("4. the customer pays; IPNs arrive at http://127.0.0.1:…/jovepay/ipn")
	if _, err := fake.Pay(ctx, pay.ID); err != nil {
		return err
	}
	_, loc, err := get(ctx, noFollow, inv.InvoiceURL)
	if err != nil {
		return err
	}
	out.f("5. the hosted page sends the customer back: 303 → %s", loc)
	if loc != successURL {
		return fmt.Errorf("page redirected to %q, want the success_url", loc)
	}
	list, err := client.GetPayment(ctx, pay.ID)
	if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	out.f("6. GET /payment/%s: %s (invoice %s); fulfilled: %v", list.ID, list.Status, list.InvoiceID, fulfilled["INV-2001"])
	return nil
}

// get fetches url without following redirects and returns the body and Location.
func get(ctx context.Context, c *http.Client, url string) (string, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return string(b), resp.Header.Get("Location"), err
}

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
