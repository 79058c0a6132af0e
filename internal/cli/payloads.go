package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/paykit-go/paykit/idempotency"
	"github.com/paykit-go/paykit/jopay/jopaytest"
	"github.com/paykit-go/paykit/pepay/pepaytest"
)

// jopayPayload is a JoPay Partner API webhook body, with the documented fields.
type jopayPayload struct {
	Event        string            `json:"event"`
	DeliveryID   string            `json:"delivery_id"`
	PartnerID    string            `json:"partner_id"`
	RequestID    string            `json:"request_id"`
	MerchantID   string            `json:"merchant_id"`
	ProofStatus  string            `json:"proof_status"`
	ProofSource  *string           `json:"proof_source"`
	TxHash       *string           `json:"tx_hash"`
	PayerAddress *string           `json:"payer_address"`
	Timestamp    string            `json:"timestamp"`
	Metadata     map[string]string `json:"metadata"`
}

// checkoutPayload is a JoPay Checkout webhook body: the event and the session.
type checkoutPayload struct {
	Event     string          `json:"event"`
	Data      checkoutSession `json:"data"`
	CreatedAt string          `json:"created_at"`
}

type checkoutSession struct {
	ID            string            `json:"id"`
	Status        string            `json:"status"`
	AmountCents   int64             `json:"amount_cents"`
	Currency      string            `json:"currency"`
	CustomerEmail string            `json:"customer_email"`
	Metadata      map[string]string `json:"metadata"`
	CreatedAt     string            `json:"created_at"`
	ExpiresAt     string            `json:"expires_at"`
	CompletedAt   *string           `json:"completed_at"`
}

// jovepayPayload is a JovePay (NOWPayments) payment IPN, shaped like the payment-status
// response. Amounts are json.Number so they serialize as the provider writes them.
type jovepayPayload struct {
	PaymentID        int64       `json:"payment_id"`
	ParentPaymentID  *int64      `json:"parent_payment_id"`
	InvoiceID        *int64      `json:"invoice_id"`
	PaymentStatus    string      `json:"payment_status"`
	PayAddress       string      `json:"pay_address"`
	PayinExtraID     *string     `json:"payin_extra_id"`
	PriceAmount      json.Number `json:"price_amount"`
	PriceCurrency    string      `json:"price_currency"`
	PayAmount        json.Number `json:"pay_amount"`
	ActuallyPaid     json.Number `json:"actually_paid"`
	PayCurrency      string      `json:"pay_currency"`
	OrderID          string      `json:"order_id"`
	OrderDescription string      `json:"order_description"`
	PurchaseID       string      `json:"purchase_id"`
	OutcomeAmount    json.Number `json:"outcome_amount"`
	OutcomeCurrency  string      `json:"outcome_currency"`
	CreatedAt        string      `json:"created_at"`
	UpdatedAt        string      `json:"updated_at"`
	Fee              jovepayFee  `json:"fee"`
}

type jovepayFee struct {
	Currency      string      `json:"currency"`
	DepositFee    json.Number `json:"depositFee"`
	WithdrawalFee json.Number `json:"withdrawalFee"`
	ServiceFee    json.Number `json:"serviceFee"`
}

// pepayPayload is Pepay's event envelope.
type pepayPayload struct {
	ID              string           `json:"id"`
	Object          string           `json:"object"`
	APIVersion      string           `json:"api_version"`
	Created         int64            `json:"created"`
	Type            string           `json:"type"`
	Livemode        bool             `json:"livemode"`
	PendingWebhooks int              `json:"pending_webhooks"`
	Request         pepayRequest     `json:"request"`
	Data            pepayPayloadData `json:"data"`
}

type pepayRequest struct {
	ID             *string `json:"id"`
	IdempotencyKey *string `json:"idempotency_key"`
}

type pepayPayloadData struct {
	Object             any            `json:"object"`
	PreviousAttributes map[string]any `json:"previous_attributes,omitempty"`
}

type pepayInvoice struct {
	Object          string  `json:"object"`
	ID              string  `json:"id"`
	Status          string  `json:"status"`
	InvoiceType     string  `json:"invoice_type"`
	Currency        string  `json:"currency"`
	Amount          int64   `json:"amount"`
	AmountPaid      int64   `json:"amount_paid"`
	AmountRemaining int64   `json:"amount_remaining"`
	AmountUnit      string  `json:"amount_unit"`
	Environment     string  `json:"environment"`
	CreatedAt       string  `json:"created_at"`
	PaidAt          *string `json:"paid_at"`
}

type pepayInvoicePayment struct {
	Object           string `json:"object"`
	ID               string `json:"id"`
	InvoiceID        string `json:"invoice_id"`
	Status           string `json:"status"`
	SettlementStatus string `json:"settlement_status"`
	Amount           int64  `json:"amount"`
	CreatedAt        int64  `json:"created_at"`
}

type pepayOrder struct {
	Object    string  `json:"object"`
	ID        string  `json:"id"`
	Status    string  `json:"status"`
	InvoiceID *string `json:"invoice_id"`
	CreatedAt string  `json:"created_at"`
	UpdatedAt string  `json:"updated_at"`
}

type pepayPing struct {
	Object  string `json:"object"`
	Message string `json:"message"`
}

func ptr[T any](v T) *T { return &v }

// buildPayload returns a realistic body of event for p at now, with the --set assignments
// applied. The event must be one p documents.
func buildPayload(p *provider, event string, now time.Time, sets []string) ([]byte, error) {
	now = now.UTC()
	rfc := now.Format("2006-01-02T15:04:05.000Z")
	var v any
	switch p.name {
	case provJoPay:
		pl := jopayPayload{
			Event: event, DeliveryID: idempotency.NewUUID(), PartnerID: jopaytest.PartnerID,
			RequestID: idempotency.NewUUID(), MerchantID: jopaytest.DefaultMerchantID,
			ProofStatus: "attached", ProofSource: ptr("customer"),
			TxHash:       ptr("0x" + strings.Repeat("5e", 32)),
			PayerAddress: ptr("0x8a3f1c2b9d4e5f60718293a4b5c6d7e8f9012345"),
			Timestamp:    rfc, Metadata: map[string]string{"order_id": "A-1001"},
		}
		if event == "payment.proof_verified" {
			pl.ProofStatus, pl.ProofSource = "verified", ptr("trails_on_chain")
		}
		v = pl
	case provCheckout:
		s := checkoutSession{
			ID: "cs_" + strings.ReplaceAll(idempotency.NewUUID(), "-", "")[:24], Status: "open", AmountCents: 4200,
			Currency: "eur", CustomerEmail: "ana@example.org", Metadata: map[string]string{"order_id": "C-77"},
			CreatedAt: now.Add(-10 * time.Minute).Format(time.RFC3339), ExpiresAt: now.Add(50 * time.Minute).Format(time.RFC3339),
		}
		switch event {
		case "checkout.session.completed":
			s.Status, s.CompletedAt = "completed", ptr(now.Format(time.RFC3339))
		case "checkout.session.expired":
			s.Status, s.ExpiresAt = "expired", now.Format(time.RFC3339)
		}
		v = checkoutPayload{Event: event, Data: s, CreatedAt: now.Format(time.RFC3339)}
	case provJovePay:
		paid := map[string]string{"waiting": "0", "confirming": "0", "confirmed": "25.31", "sending": "25.31",
			"partially_paid": "12.5", "finished": "25.31", "failed": "0", "refunded": "25.31", "expired": "0"}[event]
		outcome := "0"
		if paid != "0" {
			outcome = "24.9"
		}
		v = jovepayPayload{
			PaymentID: 4100000000 + now.UnixMilli()%100000000, PaymentStatus: event, PayAddress: "TQ7xPaykitFakeAddr9a8b7c6d5e4f3g2h1",
			PriceAmount: "25", PriceCurrency: "usd", PayAmount: "25.31", ActuallyPaid: json.Number(paid),
			PayCurrency: "usdttrc20", OrderID: "A-1001", OrderDescription: "Plan", PurchaseID: strconv.FormatInt(5120000000+now.Unix()%1000000, 10),
			OutcomeAmount: json.Number(outcome), OutcomeCurrency: "usdttrc20",
			CreatedAt: now.Add(-5 * time.Minute).Format("2006-01-02T15:04:05.000Z"), UpdatedAt: rfc,
			Fee: jovepayFee{Currency: "usdttrc20", DepositFee: "0.2", WithdrawalFee: "0", ServiceFee: "0.21"},
		}
	case provPepay:
		v = pepayEvent(event, now)
	}
	body, err := marshal(v)
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return body, nil
	}
	return applySets(body, sets)
}

func pepayEvent(event string, now time.Time) pepayPayload {
	invoiceID := idempotency.NewUUID()
	inv := pepayInvoice{
		Object: "invoice", ID: invoiceID, Status: "unpaid", InvoiceType: "standard", Currency: "usd",
		Amount: 25000, AmountRemaining: 25000, AmountUnit: "usd_millis", Environment: "devnet",
		CreatedAt: now.Add(-time.Minute).Format(time.RFC3339),
	}
	pay := pepayInvoicePayment{
		Object: "invoice_payment", ID: idempotency.NewUUID(), InvoiceID: invoiceID, Status: "pending",
		SettlementStatus: "pending", Amount: 25000, CreatedAt: now.Unix(),
	}
	order := pepayOrder{Object: "commerce_order", ID: "ord_" + strings.ReplaceAll(idempotency.NewUUID(), "-", "")[:16],
		Status: "pending", InvoiceID: &invoiceID, CreatedAt: now.Format(time.RFC3339), UpdatedAt: now.Format(time.RFC3339)}
	data := pepayPayloadData{}
	switch event {
	case "invoice.created":
		data.Object = inv
	case "invoice.updated":
		inv.Status, inv.AmountPaid, inv.AmountRemaining, inv.PaidAt = "paid", 25000, 0, ptr(now.Format(time.RFC3339))
		data.Object, data.PreviousAttributes = inv, map[string]any{"status": "unpaid", "amount_paid": 0}
	case "invoice_payment.created":
		data.Object = pay
	case "invoice_payment.updated":
		pay.Status = "confirmed"
		data.Object, data.PreviousAttributes = pay, map[string]any{"status": "pending"}
	case "commerce.order.created":
		data.Object = order
	case "commerce.order.updated":
		order.Status = "paid"
		data.Object, data.PreviousAttributes = order, map[string]any{"status": "pending"}
	default: // test.ping
		data.Object = pepayPing{Object: "ping", Message: "test"}
	}
	return pepayPayload{
		ID: fmt.Sprintf("evt_%d-%d", now.UnixMilli(), now.Nanosecond()%97+1), Object: "event", APIVersion: pepaytest.APIVersion,
		Created: now.Unix(), Type: event, PendingWebhooks: 1, Data: data,
	}
}

// marshal encodes v compactly without HTML escaping, as the providers send JSON.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode payload: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// applySets applies "key=value" assignments to a JSON object body. A key may be dotted
// ("data.amount") to reach into nested objects, which are created when missing. A value that
// is valid JSON (10, true, null, {"a":1}, "quoted") is used as such; anything else is a string.
func applySets(body []byte, sets []string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("--set needs a JSON object payload: %w", err)
	}
	for _, s := range sets {
		key, raw, ok := strings.Cut(s, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("--set %q: want key=value (for example data.amount=10)", s)
		}
		var val any = raw
		vd := json.NewDecoder(strings.NewReader(raw))
		vd.UseNumber()
		var parsed any
		if err := vd.Decode(&parsed); err == nil && !vd.More() {
			val = parsed
		}
		obj := root
		parts := strings.Split(key, ".")
		for i, part := range parts[:len(parts)-1] {
			if part == "" {
				return nil, fmt.Errorf("--set %q: empty path segment", s)
			}
			next, ok := obj[part].(map[string]any)
			if !ok {
				if _, exists := obj[part]; exists && obj[part] != nil {
					return nil, fmt.Errorf("--set %q: %s is not an object", s, strings.Join(parts[:i+1], "."))
				}
				next = map[string]any{}
				obj[part] = next
			}
			obj = next
		}
		last := parts[len(parts)-1]
		if last == "" {
			return nil, fmt.Errorf("--set %q: empty path segment", s)
		}
		obj[last] = val
	}
	return marshal(root)
}
