package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/paykit-go/paykit/internal/transport"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
	"github.com/spf13/cobra"
)

type eventsFlags struct {
	apiKey, baseURL, since, deliverTo, secret string
	types                                     []string
	limit                                     int
}

func newEventsCommand(o IO) *cobra.Command {
	var f eventsFlags
	cmd := &cobra.Command{
		Use:   "events pepay --since evt_… [--deliver-to URL --secret S] [--types invoice.*]",
		Short: "List Pepay events since a cursor and re-deliver them, signed, to a local URL",
		Long: `events lists the events Pepay logged after --since (the last event your handler processed),
oldest first, from the events API, and with --deliver-to re-delivers each one to that URL
exactly as Pepay sends webhooks, signed with your secret: replay what a handler missed.
Without --deliver-to it only lists them.

The API key comes from --api-key or PEPAY_API_KEY, the base URL from --base-url or
PEPAY_BASE_URL (default: Pepay's), the secret from --secret, PEPAY_WEBHOOK_SECRET or
PAYKIT_WEBHOOK_SECRET. Secrets and keys are never printed. Only Pepay has an events API the
command replays from.`,
		Example: `  PEPAY_API_KEY=… paykit events pepay --since evt_1767225600120-7
  paykit events pepay --since evt_1767225600120-7 --types 'invoice.*' \
      --deliver-to http://127.0.0.1:8080/webhooks/pepay --secret "$PEPAY_WEBHOOK_SECRET"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("want <provider>, got %d argument(s)", len(args))
			}
			p, err := lookupProvider(args[0])
			if err != nil {
				return err
			}
			if p.name != provPepay {
				return fmt.Errorf("events supports pepay only; %s has no events API to replay from", p.name)
			}
			return nil
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return []cobra.Completion{provPepay}, cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEvents(cmd.Context(), o, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.apiKey, "api-key", "", "Pepay API key (default: PEPAY_API_KEY)")
	fl.StringVar(&f.baseURL, "base-url", "", "Pepay API base URL (default: PEPAY_BASE_URL, else Pepay's)")
	fl.StringVar(&f.since, "since", "", "the last event id the handler processed (evt_…); later events are listed")
	fl.StringVar(&f.deliverTo, "deliver-to", "", "URL to re-deliver each event to, signed")
	fl.StringVar(&f.secret, "secret", "", "webhook secret to sign re-deliveries with (default: from the environment)")
	fl.StringSliceVar(&f.types, "types", nil, "event types to keep: exact names or prefix wildcards (invoice.*)")
	fl.IntVar(&f.limit, "limit", 0, "stop after this many events (0: all)")
	return cmd
}

func runEvents(ctx context.Context, o IO, f eventsFlags) error {
	p := providers[provPepay]
	if f.since == "" {
		return errors.New("--since evt_… is required: the last event the handler processed")
	}
	if f.limit < 0 {
		return fmt.Errorf("--limit %d: want 0 or more", f.limit)
	}
	apiKey, keySrc := o.secretFrom(f.apiKey, "api-key", "PEPAY_API_KEY")
	if apiKey == "" {
		return errors.New("no API key: pass --api-key or set PEPAY_API_KEY")
	}
	var secret, secretSrc string
	if f.deliverTo != "" {
		if err := checkHTTPURL("--deliver-to", f.deliverTo); err != nil {
			return err
		}
		secret, secretSrc = o.secretFrom(f.secret, "secret", p.secretEnv, "PAYKIT_WEBHOOK_SECRET")
		if secret == "" {
			return fmt.Errorf("no webhook secret to sign re-deliveries: pass --secret or set %s", p.secretEnv)
		}
	}
	var opts []pepay.Option
	baseURL := f.baseURL
	if baseURL == "" {
		baseURL, _ = o.lookup("PEPAY_BASE_URL")
	}
	if baseURL != "" {
		opts = append(opts, pepay.WithBaseURL(baseURL))
	}
	client, err := pepay.NewClient(apiKey, opts...)
	if err != nil {
		return err
	}
	secrets := []string{apiKey}
	if secret != "" {
		secrets = append(secrets, secret)
	}
	redact := func(s string) string { return transport.RedactSecrets(s, secrets) }

	w := o.Out
	fmt.Fprintf(w, "API key: (%s)\n", keySrc)
	if secret != "" {
		fmt.Fprintf(w, "secret: (%s)\nre-delivering to %s\n", secretSrc, f.deliverTo)
	}
	hc := &http.Client{
		Timeout:       p.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	n, failed := 0, 0
	for e, err := range client.EventsAfter(ctx, f.since, pepay.ListEventsParams{Types: f.types}) {
		if err != nil {
			return fmt.Errorf("list events after %s: %s", f.since, redact(err.Error()))
		}
		n++
		fmt.Fprintf(w, "%s  %-24s  %s", e.ID, e.Type, e.Created.UTC().Format(time.RFC3339))
		if f.deliverTo == "" {
			fmt.Fprintln(w)
		} else {
			body, err := marshal(wireEvent(e))
			if err != nil {
				return err
			}
			h := pepaytest.SignatureHeaders(secret, "", time.Now(), body)
			h.Set("Content-Type", "application/json")
			h.Set(pepay.EventTypeHeader, string(e.Type))
			h.Set(pepay.EventIDHeader, e.ID)
			status, answer, err := post(ctx, hc, f.deliverTo, h, body)
			verdict, _ := classify(p, status, answer, err)
			if err != nil {
				fmt.Fprintf(w, "  → no answer: %s\n", redact(err.Error()))
			} else {
				fmt.Fprintf(w, "  → %d %s\n", status, verdict)
			}
			if verdict != "processed" && verdict != "duplicate" {
				failed++
			}
		}
		if f.limit > 0 && n >= f.limit {
			break
		}
	}
	fmt.Fprintf(w, "%d event(s) after %s\n", n, f.since)
	if failed > 0 {
		fmt.Fprintf(o.Err, "paykit: %d re-deliveries were not acknowledged\n", failed)
		return &exitError{code: 1}
	}
	return nil
}

// wireEvent is the event as Pepay's webhooks carry it.
func wireEvent(e *pepay.Event) any {
	type request struct {
		ID             *string `json:"id"`
		IdempotencyKey *string `json:"idempotency_key"`
	}
	type data struct {
		Object             json.RawMessage `json:"object"`
		PreviousAttributes json.RawMessage `json:"previous_attributes,omitempty"`
	}
	type event struct {
		ID              string  `json:"id"`
		Object          string  `json:"object"`
		APIVersion      string  `json:"api_version,omitempty"`
		Created         int64   `json:"created"`
		Type            string  `json:"type"`
		Livemode        bool    `json:"livemode"`
		PendingWebhooks int     `json:"pending_webhooks"`
		Request         request `json:"request"`
		Data            data    `json:"data"`
	}
	nullable := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	obj := e.Object
	if obj == "" {
		obj = "event"
	}
	return event{
		ID: e.ID, Object: obj, APIVersion: e.APIVersion, Created: e.Created.Unix(), Type: string(e.Type),
		Livemode: e.Livemode, PendingWebhooks: e.PendingWebhooks,
		Request: request{ID: nullable(e.Request.ID), IdempotencyKey: nullable(e.Request.IdempotencyKey)},
		Data:    data{Object: e.Data.Object, PreviousAttributes: e.Data.PreviousAttributes},
	}
}
