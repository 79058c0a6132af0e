package paykit_test

import (
	"testing"

	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/pepay"
)

// helpers is what every provider's event and payment object answers, under the same names.
type helpers interface {
	IsPaid() bool
	IsTerminal() bool
	OrderID() string
}

// TestDomainHelpers checks IsPaid, IsTerminal and OrderID on each provider's event and payment
// object, and that each package's MetadataOrderID is the key OrderID reads.
func TestDomainHelpers(t *testing.T) {
	paidInvoice, err := pepay.ParseEvent([]byte(`{"id":"evt_1","object":"event","type":"invoice.paid","created":1,
		"data":{"object":{"object":"invoice","id":"inv_1","status":"paid","metadata":{"order_id":"P-1"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	openInvoice, err := pepay.ParseEvent([]byte(`{"id":"evt_2","object":"event","type":"invoice.created","created":1,
		"data":{"object":{"object":"invoice","id":"inv_2","status":"unpaid"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name           string
		v              helpers
		paid, terminal bool
		wantID         string
	}{
		{"jopay verified request", &jopay.PaymentRequest{Status: jopay.StatusOpened, ProofStatus: jopay.ProofStatusVerified,
			Metadata: map[string]string{jopay.MetadataOrderID: "J-1"}}, true, true, "J-1"},
		{"jopay expired request", &jopay.PaymentRequest{Status: jopay.StatusExpired, ProofStatus: jopay.ProofStatusNone}, false, true, ""},
		{"jopay open request", &jopay.PaymentRequest{Status: jopay.StatusOpened, ProofStatus: jopay.ProofStatusAttached}, false, false, ""},
		{"jopay verified event", &jopay.Event{Type: jopay.EventProofVerified, ProofStatus: jopay.ProofStatusVerified,
			Metadata: map[string]string{"order_id": "J-2"}}, true, true, "J-2"},
		{"jopay attached event", &jopay.Event{Type: jopay.EventProofAttached, ProofStatus: jopay.ProofStatusAttached}, false, false, ""},
		{"checkout completed session", &jopaycheckout.Session{Status: jopaycheckout.StatusCompleted,
			Metadata: map[string]string{jopaycheckout.MetadataOrderID: "C-1"}}, true, true, "C-1"},
		{"checkout expired session", &jopaycheckout.Session{Status: jopaycheckout.StatusExpired}, false, true, ""},
		{"checkout open session", &jopaycheckout.Session{Status: jopaycheckout.StatusOpen}, false, false, ""},
		{"checkout completed event", &jopaycheckout.Event{Type: jopaycheckout.EventSessionCompleted,
			Data: jopaycheckout.Session{Status: jopaycheckout.StatusCompleted, Metadata: map[string]string{"order_id": "C-2"}}}, true, true, "C-2"},
		{"checkout expired event", &jopaycheckout.Event{Type: jopaycheckout.EventSessionExpired}, false, true, ""},
		{"jovepay finished IPN", &jovepay.IPN{Kind: jovepay.IPNPayment, Payment: &jovepay.Payment{Status: jovepay.StatusFinished, OrderID: "V-1"}}, true, true, "V-1"},
		{"jovepay failed IPN", &jovepay.IPN{Kind: jovepay.IPNPayment, Payment: &jovepay.Payment{Status: jovepay.StatusFailed}}, false, true, ""},
		{"jovepay waiting IPN", &jovepay.IPN{Kind: jovepay.IPNPayment, Payment: &jovepay.Payment{Status: jovepay.StatusWaiting}}, false, false, ""},
		{"jovepay withdrawal IPN", &jovepay.IPN{Kind: jovepay.IPNWithdrawal}, false, false, ""},
		{"pepay paid invoice", &pepay.Invoice{Status: pepay.StatusPaid, Metadata: pepay.Metadata{pepay.MetadataOrderID: "P-2"}}, true, true, "P-2"},
		{"pepay expired invoice", &pepay.Invoice{Status: pepay.StatusExpired}, false, true, ""},
		{"pepay underpaid invoice", &pepay.Invoice{Status: pepay.StatusUnderpaid}, false, false, ""},
		{"pepay paid event", paidInvoice, true, true, "P-1"},
		{"pepay unpaid event", openInvoice, false, false, ""},
	} {
		if got := tc.v.IsPaid(); got != tc.paid {
			t.Errorf("%s: IsPaid() = %v, want %v", tc.name, got, tc.paid)
		}
		if got := tc.v.IsTerminal(); got != tc.terminal {
			t.Errorf("%s: IsTerminal() = %v, want %v", tc.name, got, tc.terminal)
		}
		if got := tc.v.OrderID(); got != tc.wantID {
			t.Errorf("%s: OrderID() = %q, want %q", tc.name, got, tc.wantID)
		}
	}
	// jovepay's payment object answers IsPaid and IsTerminal; its order id is the OrderID field.
	p := &jovepay.Payment{Status: jovepay.StatusFinished, OrderID: "V-2"}
	if !p.IsPaid() || !p.IsTerminal() || p.OrderID != "V-2" || jovepay.MetadataOrderID != "order_id" {
		t.Errorf("jovepay Payment helpers: paid %v terminal %v", p.IsPaid(), p.IsTerminal())
	}
	// Status types answer the same two questions.
	if jopay.StatusOpened.IsPaid() || !jopay.ProofStatusVerified.IsPaid() || !jopaycheckout.StatusCompleted.IsPaid() ||
		!jovepay.StatusFinished.IsPaid() || !pepay.StatusPaid.IsPaid() || pepay.StatusUnderpaid.IsPaid() {
		t.Error("status IsPaid")
	}
	if !jopay.StatusCancelled.IsTerminal() || !jopaycheckout.StatusExpired.IsTerminal() || !jovepay.StatusRefunded.IsTerminal() ||
		!pepay.StatusCanceled.IsTerminal() || jovepay.StatusPartiallyPaid.IsTerminal() {
		t.Error("status IsTerminal")
	}
}
