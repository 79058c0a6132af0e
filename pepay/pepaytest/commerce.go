package pepaytest

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/paykit-go/paykit/idempotency"
	"github.com/paykit-go/paykit/pepay"
)

// order is the fake's commerce order. Pepay does not document the order object; the fake's
// shape (wireOrder) is its own.
type order struct {
	id            string
	status        string
	invoiceID     string
	customerID    string
	wallet        string
	walletNetwork string
	createdAt     time.Time
	updatedAt     time.Time
}

// wireOrder is the data.object of the fake's commerce.order.* events.
type wireOrder struct {
	Object        string  `json:"object"` // "commerce_order"
	ID            string  `json:"id"`
	Status        string  `json:"status"`
	InvoiceID     *string `json:"invoice_id"`
	CustomerID    *string `json:"customer_id"`
	WalletAddress *string `json:"wallet_address"`
	WalletNetwork *string `json:"wallet_network"`
	CreatedAt     string  `json:"created_at"`
	UpdatedAt     string  `json:"updated_at"`
}

// CommerceOrder describes an order for AddCommerceOrder. Every field is optional.
type CommerceOrder struct {
	// InvoiceID is the order's invoice, matched by the commerce stream's invoice_id filter.
	InvoiceID string
	// CustomerID is the order's customer, matched by the customer_id filter.
	CustomerID string
	// WalletAddress is the payor's wallet, matched by the wallet_address filter.
	WalletAddress string
	// WalletNetwork is the wallet's network, matched by the wallet_network filter.
	WalletNetwork string
	// Status is the order's initial status (default "pending").
	Status string
}

func newOrderID(n int) string { return idempotency.UUID("pepaytest-order", strconv.Itoa(n)) }

func (o *order) wire() wireOrder {
	return wireOrder{
		Object: "commerce_order", ID: o.id, Status: o.status, InvoiceID: nullable(o.invoiceID), CustomerID: nullable(o.customerID),
		WalletAddress: nullable(o.wallet), WalletNetwork: nullable(o.walletNetwork),
		CreatedAt: rfc3339(o.createdAt), UpdatedAt: rfc3339(o.updatedAt),
	}
}

// AddCommerceOrder creates a commerce order and logs commerce.order.created, delivered by
// webhook and on the commerce stream (never on the merchant stream). It returns the order id
// (deterministic: the n-th order always has the same UUID) once the webhook was delivered (see
// Deliveries).
func (s *Server) AddCommerceOrder(ctx context.Context, o CommerceOrder) (string, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return "", errClosed
	}
	s.orderSeq++
	now := s.now()
	ord := &order{
		id: newOrderID(s.orderSeq), status: o.Status, invoiceID: o.InvoiceID, customerID: o.CustomerID,
		wallet: o.WalletAddress, walletNetwork: o.WalletNetwork, createdAt: now, updatedAt: now,
	}
	if ord.status == "" {
		ord.status = "pending"
	}
	s.orders[ord.id] = ord
	rec := s.appendOrderLocked(pepay.EventCommerceOrderCreated, ord, nil)
	s.mu.Unlock()
	if _, err := s.awaitDelivery(ctx, rec); err != nil {
		return "", err
	}
	return ord.id, nil
}

// UpdateCommerceOrder sets an order's status and logs commerce.order.updated with the previous
// status in previous_attributes. It returns once the webhook was delivered, with its Delivery
// (nil when no webhook is registered).
func (s *Server) UpdateCommerceOrder(ctx context.Context, id, status string) (*Delivery, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errClosed
	}
	ord, ok := s.orders[id]
	if !ok {
		s.mu.Unlock()
		return nil, fmt.Errorf("pepaytest: no commerce order %q", id)
	}
	if status == "" {
		s.mu.Unlock()
		return nil, fmt.Errorf("pepaytest: empty order status")
	}
	prev := ord.status
	ord.status, ord.updatedAt = status, s.now()
	rec := s.appendOrderLocked(pepay.EventCommerceOrderUpdated, ord, map[string]any{"status": prev})
	s.mu.Unlock()
	return s.awaitDelivery(ctx, rec)
}

func (s *Server) appendOrderLocked(typ pepay.EventType, ord *order, prev map[string]any) *eventRec {
	var inv *invoice
	if i, ok := s.invoices[ord.invoiceID]; ok {
		inv = i
	}
	rec := s.appendLocked(typ, ord.wire(), prev, nil, inv)
	// The stream filters read these under s.mu, which is still held.
	rec.invoiceID, rec.orderID, rec.wallet, rec.walletNetwork = ord.invoiceID, ord.id, ord.wallet, ord.walletNetwork
	if ord.customerID != "" {
		rec.customerID = ord.customerID
	}
	return rec
}
