package jopay

import "strings"

// Metadata keys used by the integration patterns. JoPay echoes create-time metadata in
// responses and webhooks; recurring plans created in the merchant dashboard put their plan
// metadata on every charge they spawn.
const (
	// MetadataOrderID correlates a one-off checkout payment with your order.
	MetadataOrderID = "order_id"
	// MetadataSubscriptionID marks a recurring-plan charge and names the subscription.
	MetadataSubscriptionID = "subscription_id"
	// MetadataPlanID marks a recurring-plan charge and names the plan.
	MetadataPlanID = "plan_id"
	// MetadataSubscription = "true" marks a recurring-plan charge without naming it.
	MetadataSubscription = "subscription"
	// MetadataBillingCycle is the plan's cadence ("weekly", "biweekly", "monthly").
	MetadataBillingCycle = "billing_cycle"
)

// Charge says what a payment is for, read from its metadata.
type Charge struct {
	// Recurring is true for a recurring-plan charge: metadata carries subscription_id, plan_id,
	// or subscription=true.
	Recurring bool
	// SubscriptionID and PlanID are the plan tags, when present.
	SubscriptionID, PlanID string
	// BillingCycle is metadata.billing_cycle, when present.
	BillingCycle string
	// OrderID is metadata.order_id, the one-off correlation key, when present.
	OrderID string
}

// ChargeOf classifies a payment by its metadata, as the integration guide recommends: the
// merchant tags the plan with subscription_id (or plan_id, or subscription=true) and every
// charge echoes it; anything else is a one-off payment.
func ChargeOf(metadata map[string]string) Charge {
	c := Charge{
		SubscriptionID: strings.TrimSpace(metadata[MetadataSubscriptionID]),
		PlanID:         strings.TrimSpace(metadata[MetadataPlanID]),
		BillingCycle:   metadata[MetadataBillingCycle],
		OrderID:        metadata[MetadataOrderID],
	}
	c.Recurring = c.SubscriptionID != "" || c.PlanID != "" || isTrue(metadata[MetadataSubscription])
	return c
}

// Key returns the subscription id, else the plan id, else "" — the id to book a recurring
// charge against.
func (c Charge) Key() string {
	if c.SubscriptionID != "" {
		return c.SubscriptionID
	}
	return c.PlanID
}

// Charge classifies the event's payment by its metadata (see ChargeOf). An event without
// metadata is a one-off payment.
func (e *Event) Charge() Charge { return ChargeOf(e.Metadata) }

// SubscriptionID returns the subscription (or plan) id of a recurring-plan charge and true, or
// "", false for a one-off payment. A charge marked only with subscription=true returns "", true.
func (e *Event) SubscriptionID() (string, bool) {
	c := e.Charge()
	return c.Key(), c.Recurring
}

// Charge classifies the request by its metadata (see ChargeOf).
func (r *PaymentRequest) Charge() Charge { return ChargeOf(r.Metadata) }

// SubscriptionID is Event.SubscriptionID for a listed or fetched request, for instance one
// found by polling ListRequests with StatusExpired to detect failed plan charges.
func (r *PaymentRequest) SubscriptionID() (string, bool) {
	c := r.Charge()
	return c.Key(), c.Recurring
}

func isTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes":
		return true
	}
	return false
}
