package cli

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopay/jopaytest"
	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
	"github.com/paykit-go/paykit/webhook"
)

// Provider names as the command line spells them.
const (
	provJoPay    = "jopay"
	provCheckout = "jopay-checkout"
	provJovePay  = "jovepay"
	provPepay    = "pepay"
)

// providerNames lists the providers in the order help and completion show them.
var providerNames = []string{provJoPay, provCheckout, provJovePay, provPepay}

// provider holds what the commands need to know about one provider's webhooks.
type provider struct {
	name  string
	title string
	// events are the event types the provider documents, as the trigger command names them.
	events []string
	// secretEnv is the environment variable the examples read the webhook secret from.
	secretEnv string
	// envPrefix prefixes the examples' other variables (JOPAY_, JOPAY_CHECKOUT_, ...).
	envPrefix string
	// headers are the signature headers the provider sends.
	headers []string
	// timeout is how long the provider waits for the receiver's answer.
	timeout time.Duration
	// retriesNon2xx is true when every non-2xx answer is retried; false means only 5xx and 429
	// (JoPay abandons other 4xx answers).
	retriesNon2xx bool
	// timestamped is true when the signature covers a timestamp (all but JovePay).
	timestamped bool
}

var providers = map[string]*provider{
	provJoPay: {
		name: provJoPay, title: "JoPay Partner API",
		events:    []string{string(jopay.EventProofAttached), string(jopay.EventProofVerified)},
		secretEnv: "JOPAY_WEBHOOK_SECRET", envPrefix: "JOPAY_",
		headers: []string{jopay.SignatureHeader}, timeout: 8 * time.Second, timestamped: true,
	},
	provCheckout: {
		name: provCheckout, title: "JoPay Checkout",
		events: []string{string(jopaycheckout.EventSessionCompleted), string(jopaycheckout.EventSessionExpired),
			string(jopaycheckout.EventPaymentFailed)},
		secretEnv: "JOPAY_CHECKOUT_WEBHOOK_SECRET", envPrefix: "JOPAY_CHECKOUT_",
		headers: []string{jopaycheckout.SignatureHeader}, timeout: 10 * time.Second, retriesNon2xx: true, timestamped: true,
	},
	provJovePay: {
		name: provJovePay, title: "JovePay",
		events: []string{string(jovepay.StatusWaiting), string(jovepay.StatusConfirming), string(jovepay.StatusConfirmed),
			string(jovepay.StatusSending), string(jovepay.StatusPartiallyPaid), string(jovepay.StatusFinished),
			string(jovepay.StatusFailed), string(jovepay.StatusRefunded), string(jovepay.StatusExpired)},
		secretEnv: "JOVEPAY_IPN_SECRET", envPrefix: "JOVEPAY_",
		headers: []string{jovepay.SignatureHeader, jovepay.NOWPaymentsSignatureHeader}, timeout: 10 * time.Second,
		retriesNon2xx: true,
	},
	provPepay: {
		name: provPepay, title: "Pepay",
		events: []string{string(pepay.EventInvoiceCreated), string(pepay.EventInvoiceUpdated),
			string(pepay.EventInvoicePaymentCreated), string(pepay.EventInvoicePaymentUpdated),
			string(pepay.EventCommerceOrderCreated), string(pepay.EventCommerceOrderUpdated), string(pepay.EventTestPing)},
		secretEnv: "PEPAY_WEBHOOK_SECRET", envPrefix: "PEPAY_",
		headers: []string{pepay.SignatureHeader, pepay.TimestampHeader}, timeout: 10 * time.Second,
		retriesNon2xx: true, timestamped: true,
	},
}

// foreignHeaders are signature headers of other systems, with who sends them: present on a
// delivery for another provider, they mean the secret or endpoint is mixed up.
var foreignHeaders = []struct{ name, who string }{
	{"Stripe-Signature", "Stripe"},
	{jopay.SignatureHeader, "JoPay / JoPay Checkout"},
	{jovepay.SignatureHeader, "JovePay"},
	{jovepay.NOWPaymentsSignatureHeader, "NOWPayments / JovePay"},
	{pepay.SignatureHeader, "Pepay"},
	{pepay.TimestampHeader, "Pepay"},
	{"X-Hub-Signature-256", "GitHub"},
	{"X-Shopify-Hmac-Sha256", "Shopify"},
	{"Paypal-Transmission-Sig", "PayPal"},
}

// lookupProvider returns the provider named name, or an error listing the valid names.
func lookupProvider(name string) (*provider, error) {
	if p, ok := providers[name]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("unknown provider %q: use one of %s", name, strings.Join(providerNames, ", "))
}

// checkEvent returns an error naming the provider's documented events when event is not one.
func (p *provider) checkEvent(event string) error {
	if slices.Contains(p.events, event) {
		return nil
	}
	return fmt.Errorf("%s has no event %q: use one of %s", p.name, event, strings.Join(p.events, ", "))
}

// ownsHeader reports whether name is one of the provider's own webhook headers.
func (p *provider) ownsHeader(name string) bool {
	for _, h := range p.headers {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	if p.name == provPepay {
		return strings.EqualFold(name, pepay.PreviousSignatureHeader)
	}
	return false
}

// sign returns the headers the provider sends with body signed with secret at t. form picks
// the JovePay reference form; the others ignore it.
func (p *provider) sign(secret string, t time.Time, body []byte, form webhook.SortedJSONForm) (http.Header, error) {
	h := http.Header{}
	switch p.name {
	case provJoPay:
		h.Set(jopay.SignatureHeader, jopaytest.SignatureHeader(secret, t, body))
	case provCheckout:
		h.Set(jopaycheckout.SignatureHeader, webhook.SignTimestamp(secret, t, body))
	case provJovePay:
		sig, err := webhook.SignSortedJSONForm(secret, body, form)
		if err != nil {
			return nil, fmt.Errorf("sign the IPN: %w", err)
		}
		h.Set(jovepay.SignatureHeader, sig)
	case provPepay:
		for k, v := range pepaytest.SignatureHeaders(secret, "", t, body) {
			h[k] = v
		}
	}
	return h, nil
}

// formNames maps --form values to JovePay's reference forms.
var formNames = map[string]webhook.SortedJSONForm{
	"node": webhook.FormNode, "php": webhook.FormPHP, "python": webhook.FormPython,
}

// formOrder lists the forms in the order verify tries and reports them.
var formOrder = []string{"node", "php", "python"}
