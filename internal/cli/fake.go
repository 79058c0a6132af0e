package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopay/jopaytest"
	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/jopaycheckout/jopaycheckouttest"
	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/jovepay/jovepaytest"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
	"github.com/spf13/cobra"
)

// adminPrefix is where a fake's admin surface lives. No provider path starts with it.
const adminPrefix = "/_paykit/"

// Default webhook secrets of the fakes that have none of their own. They are test values,
// printed by "paykit fake"; a secret given with --webhook-secret never is.
const (
	fakeCheckoutSecret = "whsec_paykit_fake_jopay_checkout"
	fakePepaySecret    = "whsec_paykit_fake_pepay"
)

type fakeFlags struct {
	addr, webhookURL, webhookSecret, apiKey string
}

func newFakeCommand(o IO) *cobra.Command {
	var f fakeFlags
	cmd := &cobra.Command{
		Use:   "fake <provider> [--addr 127.0.0.1:12111] [--webhook-url URL] [--webhook-secret S]",
		Short: "Run a provider's stateful fake as a standalone server",
		Long: `fake runs the provider's stateful fake (the one the Go tests use) as a standalone HTTP server,
so services in any language, or a docker-compose file, can integrate against it. It prints the
base URL, the API key, the webhook secret and the environment variables the examples read,
then serves until interrupted. Lifecycle changes are delivered as signed webhooks to
--webhook-url (for JovePay: to each payment's ipn_callback_url, which defaults to --webhook-url).

The admin surface, under ` + adminPrefix + ` (no provider path uses it), drives the lifecycle with
POST requests whose JSON body names the object: {"id": "…"}:
  ` + adminPrefix + `pay          the customer pays
  ` + adminPrefix + `expire       the object expires
  ` + adminPrefix + `fail         the payment fails (checkout, jovepay; pepay: cancel)
  ` + adminPrefix + `redeliver    send the last webhook again ({"id","event"}; pepay: {"id": event id, the
               event_id that deliveries lists})
  ` + adminPrefix + `trigger      make an event happen ({"event","id"}), as 'paykit trigger --fake' does
  ` + adminPrefix + `faults       inject API faults: {"kind":"fail|drop|lose_response|reset","n":1,"http_status":503,"retry_after":"2s"}
and GET ` + adminPrefix + `deliveries lists the webhooks sent.

A --webhook-secret given on the command line or in PAYKIT_WEBHOOK_SECRET is not printed.`,
		Example: `  paykit fake jopay --addr 127.0.0.1:12111 --webhook-url http://127.0.0.1:8080/webhooks/jopay
  curl -X POST http://127.0.0.1:12111/_paykit/pay -d '{"id":"<request id>"}'
  paykit trigger jopay payment.proof_verified --fake http://127.0.0.1:12111 --id <request id>`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("want <provider>, got %d argument(s)", len(args))
			}
			_, err := lookupProvider(args[0])
			return err
		},
		ValidArgsFunction: providerArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, _ := lookupProvider(args[0])
			return runFake(cmd.Context(), o, p, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:12111", "address to listen on (port 0 picks a free one)")
	fl.StringVar(&f.webhookURL, "webhook-url", "", "URL the fake delivers signed webhooks to")
	fl.StringVar(&f.webhookSecret, "webhook-secret", "", "secret the webhooks are signed with (default: PAYKIT_WEBHOOK_SECRET, else the fake's test secret)")
	fl.StringVar(&f.apiKey, "api-key", "", "API key the fake accepts (default: the fake's test key)")
	return cmd
}

// fakeServer is one running provider fake behind the command's listener.
type fakeServer struct {
	p        *provider
	inner    string // the fake's own root URL
	basePath string // the API path below the root ("/api/v1", "" for Pepay)
	apiKey   string
	env      [][2]string
	close    func()
	faults   interface {
		FailNext(n, status int, retryAfter time.Duration)
		DropNext(n int)
		LoseResponseNext(n int)
		ResetFaults()
	}
	// action runs an admin action; it returns what to print.
	action     func(ctx context.Context, name string, req adminRequest) (any, error)
	deliveries func() []deliverySummary
	webhookURL string
}

// adminRequest is the JSON body of an admin call.
type adminRequest struct {
	Provider   string `json:"provider,omitempty"`
	Event      string `json:"event,omitempty"`
	ID         string `json:"id,omitempty"`
	Status     string `json:"status,omitempty"`
	Kind       string `json:"kind,omitempty"`
	N          int    `json:"n,omitempty"`
	HTTPStatus int    `json:"http_status,omitempty"`
	RetryAfter string `json:"retry_after,omitempty"`
}

// deliverySummary is a webhook delivery as the admin surface reports it.
type deliverySummary struct {
	Event string `json:"event"`
	// EventID is the event's id where the provider has one (Pepay): what redeliver takes.
	EventID   string `json:"event_id,omitempty"`
	Object    string `json:"object,omitempty"`
	URL       string `json:"url"`
	Attempts  []int  `json:"attempts"`
	Delivered bool   `json:"delivered"`
	Abandoned bool   `json:"abandoned,omitempty"`
	// Error says why the last attempt got no answer, when it got none.
	Error string `json:"error,omitempty"`
}

func runFake(ctx context.Context, o IO, p *provider, f fakeFlags) error {
	if f.webhookURL != "" {
		if err := checkHTTPURL("--webhook-url", f.webhookURL); err != nil {
			return err
		}
	}
	secret, source := o.secretFrom(f.webhookSecret, "webhook-secret", "PAYKIT_WEBHOOK_SECRET")
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", f.addr, err)
	}
	fs := startFake(p, f.apiKey, secret, f.webhookURL)
	defer fs.close()
	outer := "http://" + ln.Addr().String()
	srv := &http.Server{Handler: fs.handler(outer), ReadHeaderTimeout: 10 * time.Second}

	// The settings are written in one piece, so a program reading the output (a test, a
	// script waiting for "environment:") never sees them half printed.
	w := &bytes.Buffer{}
	fmt.Fprintf(w, "paykit fake %s listening on %s\n", p.name, outer)
	fmt.Fprintf(w, "base URL:       %s\n", outer+fs.basePath)
	fmt.Fprintf(w, "API key:        %s\n", fs.apiKey)
	if source != "" {
		fmt.Fprintf(w, "webhook secret: (%s)\n", source)
	} else {
		fmt.Fprintf(w, "webhook secret: %s (the fake's test secret)\n", fs.defaultSecret())
	}
	if f.webhookURL != "" {
		fmt.Fprintf(w, "webhook URL:    %s\n", f.webhookURL)
	} else {
		fmt.Fprintln(w, "webhook URL:    (none: pass --webhook-url to receive webhooks)")
	}
	fmt.Fprintf(w, "admin:          %s%s{pay,expire,fail,redeliver,trigger,faults,deliveries}\n", outer, adminPrefix)
	fmt.Fprintln(w, "environment:")
	fmt.Fprintf(w, "  export %sBASE_URL=%s\n", p.envPrefix, outer+fs.basePath)
	fmt.Fprintf(w, "  export %sAPI_KEY=%s\n", p.envPrefix, fs.apiKey)
	for _, kv := range fs.env {
		fmt.Fprintf(w, "  export %s=%s\n", kv[0], kv[1])
	}
	if source != "" {
		// A secret the user chose is never printed. A comment, not an export line with a
		// placeholder: pasted into a shell, "export X=<secret>" is a redirection.
		fmt.Fprintf(w, "  # export %s=… (the secret %s, not printed)\n", p.secretEnv, source)
	} else {
		fmt.Fprintf(w, "  export %s=%s\n", p.secretEnv, fs.defaultSecret())
	}
	if _, err := o.Out.Write(w.Bytes()); err != nil {
		_ = ln.Close()
		return fmt.Errorf("print the settings: %w", err)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	fmt.Fprintln(o.Out, "stopped")
	return nil
}

func (fs *fakeServer) defaultSecret() string {
	switch fs.p.name {
	case provJoPay:
		return jopaytest.WebhookSecret
	case provCheckout:
		return fakeCheckoutSecret
	case provJovePay:
		return jovepaytest.DefaultIPNSecret
	default:
		return fakePepaySecret
	}
}

// startFake starts the provider's fake with the given key, secret and webhook URL.
func startFake(p *provider, apiKey, secret, webhookURL string) *fakeServer {
	fs := &fakeServer{p: p, webhookURL: webhookURL}
	if secret == "" {
		secret = fs.defaultSecret()
	}
	switch p.name {
	case provJoPay:
		var opts []jopaytest.Option
		if apiKey != "" {
			opts = append(opts, jopaytest.WithAPIKey(apiKey))
		} else {
			apiKey = jopaytest.DefaultAPIKey
		}
		s := jopaytest.NewServer(opts...)
		if webhookURL != "" {
			s.SetWebhook(webhookURL, secret)
		}
		fs.inner, fs.basePath, fs.close, fs.faults = s.URL, strings.TrimPrefix(s.BaseURL, s.URL), s.Close, s
		fs.env = [][2]string{{"JOPAY_MERCHANT_ID", jopaytest.DefaultMerchantID}}
		fs.action = func(ctx context.Context, name string, r adminRequest) (any, error) {
			return jopayAction(ctx, s, name, r)
		}
		fs.deliveries = func() []deliverySummary {
			var out []deliverySummary
			for _, d := range s.Deliveries() {
				out = append(out, jopaySummary(d))
			}
			return out
		}
	case provCheckout:
		var opts []jopaycheckouttest.Option
		if apiKey != "" {
			opts = append(opts, jopaycheckouttest.WithAPIKey(apiKey))
		} else {
			apiKey = jopaycheckouttest.DefaultAPIKey
		}
		s := jopaycheckouttest.NewServer(opts...)
		if webhookURL != "" {
			s.SetWebhook(webhookURL, secret)
		}
		fs.inner, fs.basePath, fs.close, fs.faults = s.URL, strings.TrimPrefix(s.BaseURL, s.URL), s.Close, s
		fs.action = func(ctx context.Context, name string, r adminRequest) (any, error) {
			return checkoutAction(ctx, s, name, r)
		}
		fs.deliveries = func() []deliverySummary {
			var out []deliverySummary
			for _, d := range s.Deliveries() {
				out = append(out, checkoutSummary(d))
			}
			return out
		}
	case provJovePay:
		opts := []jovepaytest.Option{jovepaytest.WithIPNSecret(secret)}
		if apiKey != "" {
			opts = append(opts, jovepaytest.WithAPIKey(apiKey))
		}
		s := jovepaytest.NewServer(opts...)
		apiKey = s.APIKey()
		email, password := s.Credentials()
		fs.inner, fs.basePath, fs.close, fs.faults = s.URL, strings.TrimPrefix(s.BaseURL, s.URL), s.Close, s
		fs.env = [][2]string{{"JOVEPAY_EMAIL", email}, {"JOVEPAY_PASSWORD", password}}
		fs.action = func(ctx context.Context, name string, r adminRequest) (any, error) {
			return jovepayAction(ctx, s, name, r)
		}
		fs.deliveries = func() []deliverySummary {
			var out []deliverySummary
			for _, d := range s.Deliveries() {
				out = append(out, jovepaySummary(d))
			}
			return out
		}
	default:
		var opts []pepaytest.Option
		if apiKey != "" {
			opts = append(opts, pepaytest.WithAPIKey(apiKey))
		}
		s := pepaytest.NewServer(opts...)
		apiKey = s.APIKey
		if webhookURL != "" {
			s.SetWebhook(webhookURL, secret)
		}
		fs.inner, fs.basePath, fs.close, fs.faults = s.URL, strings.TrimPrefix(s.BaseURL, s.URL), s.Close, s
		fs.action = func(ctx context.Context, name string, r adminRequest) (any, error) {
			return pepayAction(ctx, s, name, r, webhookURL, secret)
		}
		fs.deliveries = func() []deliverySummary {
			var out []deliverySummary
			for _, d := range s.Deliveries() {
				out = append(out, pepaySummary(d))
			}
			return out
		}
	}
	fs.apiKey = apiKey
	return fs
}

// handler serves the admin surface and proxies everything else to the fake, rewriting the
// fake's own address in answers (hosted page URLs) to the address it is reached at.
func (fs *fakeServer) handler(outer string) http.Handler {
	target, _ := url.Parse(fs.inner)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = target.Host
			if fs.p.name == provJovePay && fs.webhookURL != "" {
				defaultIPNURL(pr.Out, fs.basePath, fs.webhookURL)
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			if resp.StatusCode == http.StatusSwitchingProtocols {
				return nil
			}
			ct := resp.Header.Get("Content-Type")
			if !strings.Contains(ct, "json") && !strings.Contains(ct, "html") && !strings.Contains(ct, "text") {
				if loc := resp.Header.Get("Location"); loc != "" {
					resp.Header.Set("Location", strings.ReplaceAll(loc, fs.inner, outer))
				}
				return nil
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			b = bytes.ReplaceAll(b, []byte(fs.inner), []byte(outer))
			resp.Body = io.NopCloser(bytes.NewReader(b))
			resp.ContentLength = int64(len(b))
			resp.Header.Del("Content-Length")
			if loc := resp.Header.Get("Location"); loc != "" {
				resp.Header.Set("Location", strings.ReplaceAll(loc, fs.inner, outer))
			}
			return nil
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc(adminPrefix, fs.admin)
	mux.Handle("/", rp)
	return mux
}

// defaultIPNURL sets ipn_callback_url on a JovePay create request that has none.
func defaultIPNURL(r *http.Request, basePath, ipnURL string) {
	if r.Method != http.MethodPost || r.Body == nil ||
		(r.URL.Path != basePath+"/payment" && r.URL.Path != basePath+"/invoice") {
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body.Close()
	restore := func(b []byte) {
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
		r.Header.Del("Content-Length")
	}
	if err != nil {
		restore(b)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		restore(b)
		return
	}
	if v, _ := m["ipn_callback_url"].(string); v != "" {
		restore(b)
		return
	}
	m["ipn_callback_url"] = ipnURL
	nb, err := marshal(m)
	if err != nil {
		restore(b)
		return
	}
	restore(nb)
}

func (fs *fakeServer) admin(w http.ResponseWriter, r *http.Request) {
	name := strings.Trim(strings.TrimPrefix(r.URL.Path, adminPrefix), "/")
	if name == "deliveries" && r.Method == http.MethodGet {
		d := fs.deliveries()
		if d == nil {
			d = []deliverySummary{}
		}
		writeAdmin(w, http.StatusOK, d)
		return
	}
	if r.Method != http.MethodPost {
		writeAdmin(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST " + adminPrefix + "{pay,expire,fail,redeliver,trigger,faults} or GET " + adminPrefix + "deliveries"})
		return
	}
	var req adminRequest
	if r.ContentLength != 0 {
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil && !errors.Is(err, io.EOF) {
			writeAdmin(w, http.StatusBadRequest, map[string]string{"error": "body: " + err.Error()})
			return
		}
	}
	if req.Provider != "" && req.Provider != fs.p.name {
		writeAdmin(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("this fake is %s, not %s", fs.p.name, req.Provider)})
		return
	}
	var out any
	var err error
	if name == "faults" {
		out, err = fs.fault(req)
	} else {
		out, err = fs.action(r.Context(), name, req)
	}
	if err != nil {
		writeAdmin(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeAdmin(w, http.StatusOK, out)
}

func (fs *fakeServer) fault(req adminRequest) (any, error) {
	n := req.N
	if n <= 0 {
		n = 1
	}
	switch req.Kind {
	case "fail":
		status := req.HTTPStatus
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		var ra time.Duration
		if req.RetryAfter != "" {
			d, err := time.ParseDuration(req.RetryAfter)
			if err != nil {
				return nil, fmt.Errorf("retry_after %q: %w", req.RetryAfter, err)
			}
			ra = d
		}
		fs.faults.FailNext(n, status, ra)
	case "drop":
		fs.faults.DropNext(n)
	case "lose_response":
		fs.faults.LoseResponseNext(n)
	case "reset":
		fs.faults.ResetFaults()
	default:
		return nil, fmt.Errorf("kind %q: want fail, drop, lose_response or reset", req.Kind)
	}
	return map[string]any{"fault": req.Kind, "n": n}, nil
}

func writeAdmin(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func needID(r adminRequest) error {
	if r.ID == "" {
		return errors.New(`"id" is required`)
	}
	return nil
}

func unsupported(p, name string, have string) error {
	return fmt.Errorf("the %s fake has no %q action (it has %s)", p, name, have)
}

func jopayAction(ctx context.Context, s *jopaytest.Server, name string, r adminRequest) (any, error) {
	if err := needID(r); err != nil {
		return nil, err
	}
	var d *jopaytest.Delivery
	var err error
	switch name {
	case "pay":
		d, err = s.Pay(ctx, r.ID)
	case "expire":
		d, err = s.Expire(ctx, r.ID)
	case "redeliver":
		ev := jopay.EventType(r.Event)
		if ev == "" {
			ev = jopay.EventProofVerified
		}
		d, err = s.Redeliver(ctx, r.ID, ev)
	case "trigger":
		switch jopay.EventType(r.Event) {
		case jopay.EventProofAttached:
			d, err = s.AttachProof(ctx, r.ID, "0x"+strings.Repeat("ab", 32))
		case jopay.EventProofVerified:
			if pr, ok := s.PaymentRequest(r.ID); ok && pr.ProofStatus == jopay.ProofStatusAttached {
				d, err = s.VerifyProof(ctx, r.ID)
			} else {
				d, err = s.Pay(ctx, r.ID)
			}
		default:
			return nil, providers[provJoPay].checkEvent(r.Event)
		}
	default:
		return nil, unsupported(provJoPay, name, "pay, expire, redeliver, trigger, faults")
	}
	if err != nil {
		return nil, err
	}
	return optional(d, jopaySummary), nil
}

func checkoutAction(ctx context.Context, s *jopaycheckouttest.Server, name string, r adminRequest) (any, error) {
	if err := needID(r); err != nil {
		return nil, err
	}
	var d *jopaycheckouttest.Delivery
	var err error
	switch name {
	case "pay":
		d, err = s.Pay(ctx, r.ID)
	case "expire":
		d, err = s.Expire(ctx, r.ID)
	case "fail":
		d, err = s.Fail(ctx, r.ID)
	case "redeliver":
		ev := jopaycheckout.EventType(r.Event)
		if ev == "" {
			ev = jopaycheckout.EventSessionCompleted
		}
		d, err = s.Redeliver(ctx, r.ID, ev)
	case "trigger":
		switch jopaycheckout.EventType(r.Event) {
		case jopaycheckout.EventSessionCompleted:
			d, err = s.Pay(ctx, r.ID)
		case jopaycheckout.EventSessionExpired:
			d, err = s.Expire(ctx, r.ID)
		case jopaycheckout.EventPaymentFailed:
			d, err = s.Fail(ctx, r.ID)
		default:
			return nil, providers[provCheckout].checkEvent(r.Event)
		}
	default:
		return nil, unsupported(provCheckout, name, "pay, expire, fail, redeliver, trigger, faults")
	}
	if err != nil {
		return nil, err
	}
	return optional(d, checkoutSummary), nil
}

func jovepayAction(ctx context.Context, s *jovepaytest.Server, name string, r adminRequest) (any, error) {
	if err := needID(r); err != nil {
		return nil, err
	}
	id := jovepay.ID(r.ID)
	var d *jovepaytest.Delivery
	var err error
	switch name {
	case "pay":
		d, err = s.Pay(ctx, id)
	case "expire":
		d, err = s.Expire(ctx, id)
	case "fail":
		d, err = s.Fail(ctx, id)
	case "redeliver":
		d, err = s.Redeliver(ctx, id)
	case "trigger":
		if err := providers[provJovePay].checkEvent(r.Event); err != nil {
			return nil, err
		}
		switch jovepay.PaymentStatus(r.Event) {
		case jovepay.StatusFinished:
			d, err = s.Pay(ctx, id)
		case jovepay.StatusExpired:
			d, err = s.Expire(ctx, id)
		case jovepay.StatusFailed:
			d, err = s.Fail(ctx, id)
		case jovepay.StatusRefunded:
			d, err = s.Refund(ctx, id)
		default:
			d, err = s.SetStatus(ctx, id, jovepay.PaymentStatus(r.Event))
		}
	default:
		return nil, unsupported(provJovePay, name, "pay, expire, fail, redeliver, trigger, faults")
	}
	if err != nil {
		return nil, err
	}
	return optional(d, jovepaySummary), nil
}

func pepayAction(ctx context.Context, s *pepaytest.Server, name string, r adminRequest, hookURL, secret string) (any, error) {
	if name == "trigger" && r.Event == string(pepay.EventTestPing) {
		id, err := s.Ping(ctx)
		if err != nil {
			return nil, err
		}
		// Report the delivery like every other action, so the caller sees whether it arrived.
		ds := s.Deliveries()
		for i := len(ds) - 1; i >= 0; i-- {
			if ds[i].EventID == id {
				return pepaySummary(ds[i]), nil
			}
		}
		return map[string]string{"event": r.Event, "event_id": id, "delivery": "none (no webhook URL registered)"}, nil
	}
	if err := needID(r); err != nil {
		return nil, err
	}
	var d *pepaytest.Delivery
	var err error
	switch name {
	case "pay":
		d, err = s.Pay(ctx, r.ID)
	case "expire":
		d, err = s.Expire(ctx, r.ID)
	case "fail":
		d, err = s.Cancel(ctx, r.ID)
	case "redeliver":
		return pepayRedeliver(ctx, s, r.ID, hookURL, secret)
	case "trigger":
		switch pepay.EventType(r.Event) {
		case pepay.EventInvoiceUpdated, pepay.EventInvoicePaymentCreated, pepay.EventInvoicePaymentUpdated:
			d, err = s.Pay(ctx, r.ID)
		case pepay.EventCommerceOrderUpdated:
			status := r.Status
			if status == "" {
				status = "paid"
			}
			d, err = s.UpdateCommerceOrder(ctx, r.ID, status)
		case pepay.EventInvoiceCreated, pepay.EventCommerceOrderCreated:
			return nil, fmt.Errorf("%s happens when the object is created: create it through the API", r.Event)
		default:
			return nil, providers[provPepay].checkEvent(r.Event)
		}
	default:
		return nil, unsupported(provPepay, name, "pay, expire, fail, redeliver, trigger, faults")
	}
	if err != nil {
		return nil, err
	}
	return optional(d, pepaySummary), nil
}

// pepayRedeliver sends a logged event again, exactly as first sent, freshly signed.
func pepayRedeliver(ctx context.Context, s *pepaytest.Server, eventID, hookURL, secret string) (any, error) {
	if hookURL == "" {
		return nil, errors.New("no --webhook-url to redeliver to")
	}
	body, ok := s.EventPayload(eventID)
	if !ok {
		return nil, fmt.Errorf("no event %q (redeliver takes an event id, evt_…)", eventID)
	}
	var env struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(body, &env)
	h := pepaytest.SignatureHeaders(secret, "", time.Now(), body)
	h.Set("Content-Type", "application/json")
	h.Set(pepay.EventTypeHeader, env.Type)
	h.Set(pepay.EventIDHeader, eventID)
	status, _, err := post(ctx, &http.Client{Timeout: 10 * time.Second}, hookURL, h, body)
	sum := deliverySummary{Event: env.Type, EventID: eventID, Object: pepayInvoiceID(body), URL: hookURL,
		Attempts: []int{status}, Delivered: err == nil && status/100 == 2}
	if err != nil {
		sum.Error = err.Error()
	}
	return sum, nil
}

// pepayInvoiceID returns the id of the invoice a logged event is about, or "".
func pepayInvoiceID(body []byte) string {
	e, err := pepay.ParseEvent(body)
	if err != nil {
		return ""
	}
	return e.InvoiceID()
}

func optional[D any](d *D, f func(*D) deliverySummary) any {
	if d == nil {
		return map[string]string{"delivery": "none (no webhook URL registered)"}
	}
	return f(d)
}

func statuses[A any](as []A, status func(A) int) []int {
	out := make([]int, 0, len(as))
	for _, a := range as {
		out = append(out, status(a))
	}
	return out
}

func jopaySummary(d *jopaytest.Delivery) deliverySummary {
	return deliverySummary{Event: string(d.Event), Object: d.RequestID, URL: d.URL, Delivered: d.Delivered, Abandoned: d.Abandoned,
		Attempts: statuses(d.Attempts, func(a jopaytest.Attempt) int { return a.Status })}
}

func checkoutSummary(d *jopaycheckouttest.Delivery) deliverySummary {
	return deliverySummary{Event: string(d.Event), Object: d.SessionID, URL: d.URL, Delivered: d.Delivered, Abandoned: d.Abandoned,
		Attempts: statuses(d.Attempts, func(a jopaycheckouttest.Attempt) int { return a.Status })}
}

func jovepaySummary(d *jovepaytest.Delivery) deliverySummary {
	return deliverySummary{Event: string(d.Status), Object: string(d.PaymentID), URL: d.URL, Delivered: d.Delivered, Abandoned: d.Abandoned,
		Attempts: statuses(d.Attempts, func(a jovepaytest.Attempt) int { return a.Status })}
}

func pepaySummary(d *pepaytest.Delivery) deliverySummary {
	return deliverySummary{Event: string(d.Event), EventID: d.EventID, Object: d.InvoiceID, URL: d.URL, Delivered: d.Delivered, Abandoned: d.Abandoned,
		Attempts: statuses(d.Attempts, func(a pepaytest.Attempt) int { return a.Status })}
}

// adminCall POSTs req to a running fake's admin action and returns the answer's text.
func adminCall(ctx context.Context, fakeURL, action string, req adminRequest) (string, error) {
	body, err := marshal(req)
	if err != nil {
		return "", err
	}
	h := http.Header{"Content-Type": {"application/json"}}
	status, answer, err := post(ctx, &http.Client{Timeout: 2 * time.Minute}, strings.TrimRight(fakeURL, "/")+adminPrefix+action, h, body)
	if err != nil {
		return "", fmt.Errorf("reach the fake at %s: %w", fakeURL, err)
	}
	text := strings.TrimSpace(string(answer))
	if status != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(answer, &e) == nil && e.Error != "" {
			text = e.Error
		}
		return "", fmt.Errorf("the fake refused %s: %s", action, text)
	}
	return text, nil
}
