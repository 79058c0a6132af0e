package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/paykit-go/paykit/internal/transport"
	"github.com/paykit-go/paykit/pepay"
	"github.com/spf13/cobra"
)

// staleBy is how far in the past --stale signs: twice the providers' 5-minute tolerance.
const staleBy = 10 * time.Minute

// maxAnswerBytes caps how much of a handler's answer is read and printed.
const maxAnswerBytes = 64 << 10

type triggerFlags struct {
	to, secret, form, fake, id string
	sets                       []string
	repeat                     int
	stale                      bool
}

func newTriggerCommand(o IO) *cobra.Command {
	var f triggerFlags
	cmd := &cobra.Command{
		Use:   "trigger <provider> <event> --to URL [--secret S] [--set key=value]...",
		Short: "Send a realistic, correctly signed webhook delivery of an event to a URL",
		Long: `trigger builds a realistic delivery of the event, signs it as the provider does and POSTs it
to --to. It prints the request, the answer's status and body, and what the answer means by the
provider's rules: "processed", "duplicate", "rejected" or "retry later".

Events (as on the wire):
  jopay:          payment.proof_attached, payment.proof_verified
  jopay-checkout: checkout.session.completed, checkout.session.expired, checkout.payment.failed
  jovepay:        the payment_status of the IPN: waiting, confirming, confirmed, sending,
                  partially_paid, finished, failed, refunded, expired
  pepay:          invoice.created, invoice.updated, invoice_payment.created,
                  invoice_payment.updated, commerce.order.created, commerce.order.updated, test.ping

The secret comes from --secret, else the provider's variable (JOPAY_WEBHOOK_SECRET,
JOPAY_CHECKOUT_WEBHOOK_SECRET, JOVEPAY_IPN_SECRET, PEPAY_WEBHOOK_SECRET), else
PAYKIT_WEBHOOK_SECRET. It is never printed.

With --fake URL --id ID the event is made to happen to an object of a running "paykit fake"
instead, which then delivers it to its --webhook-url.`,
		Example: `  JOPAY_WEBHOOK_SECRET=… paykit trigger jopay payment.proof_verified --to http://127.0.0.1:8080/webhooks/jopay
  paykit trigger pepay invoice.updated --to http://127.0.0.1:8080/hooks --secret "$S" --set data.object.amount=10 --repeat 2
  paykit trigger jovepay finished --to http://127.0.0.1:8080/ipn --form php --secret "$S"
  paykit trigger jopay-checkout checkout.session.completed --to http://127.0.0.1:8080/hooks --stale
  paykit trigger jopay payment.proof_verified --fake http://127.0.0.1:12111 --id <request id>`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return fmt.Errorf("want <provider> <event>, got %d argument(s)", len(args))
			}
			p, err := lookupProvider(args[0])
			if err != nil {
				return err
			}
			return p.checkEvent(args[1])
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) == 1 {
				if p, err := lookupProvider(args[0]); err == nil {
					return p.events, cobra.ShellCompDirectiveNoFileComp
				}
			}
			return providerArg(cmd, args, toComplete)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			p, _ := lookupProvider(args[0])
			if f.fake != "" {
				return triggerFake(cmd.Context(), o, p, args[1], f)
			}
			return runTrigger(cmd.Context(), o, p, args[1], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.to, "to", "", "URL of the webhook handler to POST the delivery to")
	fl.StringVar(&f.secret, "secret", "", "webhook signing secret (default: from the environment)")
	fl.StringArrayVar(&f.sets, "set", nil, "set a payload field, key=value; dotted keys reach nested fields (data.amount=10)")
	fl.IntVar(&f.repeat, "repeat", 1, "send the same delivery N times (dedupe testing)")
	fl.BoolVar(&f.stale, "stale", false, "sign with a timestamp 10 minutes old, outside the 5-minute tolerance")
	fl.StringVar(&f.form, "form", "node", "JovePay signing form: node, php or python")
	fl.StringVar(&f.fake, "fake", "", "base URL of a running 'paykit fake' to make the event happen on")
	fl.StringVar(&f.id, "id", "", "with --fake: the id of the request, session, payment or invoice")
	_ = cmd.RegisterFlagCompletionFunc("form", cobra.FixedCompletions(formOrder, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runTrigger(ctx context.Context, o IO, p *provider, event string, f triggerFlags) error {
	if f.to == "" {
		return errors.New("--to URL is required (or --fake URL --id ID)")
	}
	if err := checkHTTPURL("--to", f.to); err != nil {
		return err
	}
	if f.repeat < 1 {
		return fmt.Errorf("--repeat %d: want 1 or more", f.repeat)
	}
	form, ok := formNames[f.form]
	if !ok {
		return fmt.Errorf("--form %q: want node, php or python", f.form)
	}
	if p.name != provJovePay && f.form != "node" {
		return fmt.Errorf("--form applies to jovepay only; %s signs one way", p.name)
	}
	if f.stale && !p.timestamped {
		return errors.New("--stale does not apply to jovepay: IPN signatures carry no timestamp")
	}
	secret, source := o.secretFrom(f.secret, "secret", p.secretEnv, "PAYKIT_WEBHOOK_SECRET")
	if secret == "" {
		return fmt.Errorf("no webhook secret: pass --secret or set %s (or PAYKIT_WEBHOOK_SECRET)", p.secretEnv)
	}
	now := time.Now()
	body, err := buildPayload(p, event, now, f.sets)
	if err != nil {
		return err
	}
	signedAt := now
	if f.stale {
		signedAt = now.Add(-staleBy)
	}
	h, err := p.sign(secret, signedAt, body, form)
	if err != nil {
		return err
	}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "paykit-trigger ("+p.name+")")
	if p.name == provPepay {
		var env struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		}
		if err := json.Unmarshal(body, &env); err == nil {
			h.Set(pepay.EventTypeHeader, env.Type)
			h.Set(pepay.EventIDHeader, env.ID)
		}
		h.Set(pepay.NetworkEnvironmentHeader, "devnet")
	}
	redact := func(s string) string { return transport.RedactSecrets(s, []string{secret}) }

	w := o.Out
	fmt.Fprintf(w, "secret: (%s)\n", source)
	if f.stale {
		fmt.Fprintf(w, "signed: %s ago (--stale)\n", staleBy)
	}
	if p.name == provJovePay {
		fmt.Fprintf(w, "form: %s\n", f.form)
	}
	fmt.Fprintf(w, "> POST %s\n", redact(f.to))
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range h {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(w, "> %s: %s\n", k, redact(h.Get(k)))
	}
	fmt.Fprintf(w, ">\n> %s\n", redact(string(body)))

	hc := &http.Client{
		Timeout:       p.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	failed := 0
	for i := 1; i <= f.repeat; i++ {
		start := time.Now()
		status, answer, err := post(ctx, hc, f.to, h, body)
		elapsed := time.Since(start).Round(time.Millisecond)
		verdict, why := classify(p, status, answer, err)
		if f.repeat > 1 {
			fmt.Fprintf(w, "\ndelivery %d/%d\n", i, f.repeat)
		} else {
			fmt.Fprintln(w)
		}
		if err != nil {
			fmt.Fprintf(w, "< no answer after %s: %s\n", elapsed, redact(err.Error()))
		} else {
			fmt.Fprintf(w, "< %d %s (%s)\n", status, http.StatusText(status), elapsed)
			if len(answer) > 0 {
				fmt.Fprintf(w, "< %s\n", redact(strings.TrimRight(string(answer), "\n")))
			}
		}
		fmt.Fprintf(w, "result: %s — %s\n", verdict, why)
		if verdict != "processed" && verdict != "duplicate" {
			failed++
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if failed > 0 {
		fmt.Fprintf(o.Err, "paykit: %d of %d deliveries were not acknowledged\n", failed, f.repeat)
		return &exitError{code: 1}
	}
	return nil
}

func post(ctx context.Context, hc *http.Client, to string, h http.Header, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, to, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header = h.Clone()
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	// A body cut short still carries the status, which is what the provider acts on.
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	return resp.StatusCode, answer, nil
}

// classify says what a provider does with the handler's answer: "processed", "duplicate",
// "rejected" (the provider gives up on the delivery) or "retry later".
func classify(p *provider, status int, answer []byte, err error) (verdict, why string) {
	switch {
	case err != nil:
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			return "retry later", fmt.Sprintf("no answer within %s, %s's timeout: it redelivers", p.timeout, p.title)
		}
		return "retry later", fmt.Sprintf("the request failed; %s redelivers after transport errors", p.title)
	case status >= 200 && status < 300:
		if bytes.Contains(bytes.ToLower(answer), []byte("duplicate")) {
			return "duplicate", "2xx acknowledges it; the handler says it had already processed this event"
		}
		return "processed", fmt.Sprintf("2xx: %s marks the delivery done", p.title)
	case p.retriesNon2xx:
		return "retry later", fmt.Sprintf("%d: %s redelivers on every non-2xx answer%s", status, p.title, refusal(answer))
	case status == http.StatusTooManyRequests || status >= 500:
		return "retry later", fmt.Sprintf("%d: %s redelivers on 5xx and 429", status, p.title)
	default:
		return "rejected", fmt.Sprintf("%d: %s abandons a delivery answered with a 4xx other than 429%s", status, p.title, refusal(answer))
	}
}

func refusal(answer []byte) string {
	a := strings.TrimSpace(string(answer))
	if a == "" || len(a) > 40 || strings.ContainsAny(a, "{<\n") {
		return ""
	}
	return " (handler said " + a + ")"
}

func checkHTTPURL(flag, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s %q: want an http:// or https:// URL", flag, raw)
	}
	return nil
}

// triggerFake asks a running "paykit fake" to make event happen to object id.
func triggerFake(ctx context.Context, o IO, p *provider, event string, f triggerFlags) error {
	if err := checkHTTPURL("--fake", f.fake); err != nil {
		return err
	}
	if f.id == "" && event != "test.ping" {
		return errors.New("--fake needs --id: the request, session, payment or invoice the event is about")
	}
	if f.to != "" || len(f.sets) > 0 || f.stale || f.repeat != 1 {
		return errors.New("--fake cannot be combined with --to, --set, --stale or --repeat: the fake builds, signs and delivers the event itself")
	}
	out, err := adminCall(ctx, f.fake, "trigger", adminRequest{Provider: p.name, Event: event, ID: f.id})
	if err != nil {
		return err
	}
	fmt.Fprintln(o.Out, out)
	return nil
}
