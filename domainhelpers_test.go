package paykit_test

import (
	"encoding/json"
	"testing"

	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/pepay"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, err)
	openInvoice, err := pepay.ParseEvent([]byte(`{"id":"evt_2","object":"event","type":"invoice.created","created":1,
		"data":{"object":{"object":"invoice","id":"inv_2","status":"unpaid"}}}`))
	require.NoError(t, err)
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
		{"jovepay finished IPN", &jovepay.IPN{Kind: jovepay.IPNPayment, Payment: jovepayPayment(t, jovepay.StatusFinished, "V-1")}, true, true, "V-1"},
		{"jovepay failed IPN", &jovepay.IPN{Kind: jovepay.IPNPayment, Payment: &jovepay.Payment{Status: jovepay.StatusFailed}}, false, true, ""},
		{"jovepay waiting IPN", &jovepay.IPN{Kind: jovepay.IPNPayment, Payment: &jovepay.Payment{Status: jovepay.StatusWaiting}}, false, false, ""},
		{"jovepay withdrawal IPN", &jovepay.IPN{Kind: jovepay.IPNWithdrawal}, false, false, ""},
		{"pepay paid invoice", &pepay.Invoice{Status: pepay.StatusPaid, Metadata: pepay.Metadata{pepay.MetadataOrderID: "P-2"}}, true, true, "P-2"},
		{"pepay expired invoice", &pepay.Invoice{Status: pepay.StatusExpired}, false, true, ""},
		{"pepay underpaid invoice", &pepay.Invoice{Status: pepay.StatusUnderpaid}, false, false, ""},
		{"pepay paid event", paidInvoice, true, true, "P-1"},
		{"pepay unpaid event", openInvoice, false, false, ""},
	} {
		assert.Equal(t, tc.paid, tc.v.IsPaid(), "%s: IsPaid()", tc.name)
		assert.Equal(t, tc.terminal, tc.v.IsTerminal(), "%s: IsTerminal()", tc.name)
		assert.Equal(t, tc.wantID, tc.v.OrderID(), "%s: OrderID()", tc.name)
	}
	// jovepay's payment object answers IsPaid, IsTerminal and OrderID.
	p := jovepayPayment(t, jovepay.StatusFinished, "V-2")
	assert.True(t, p.IsPaid(), "jovepay Payment IsPaid")
	assert.True(t, p.IsTerminal(), "jovepay Payment IsTerminal")
	assert.Equal(t, "V-2", p.OrderID())
	assert.Equal(t, "order_id", jovepay.MetadataOrderID)
	// Status types answer the same two questions.
	assert.False(t, jopay.StatusOpened.IsPaid(), "status IsPaid")
	assert.True(t, jopay.ProofStatusVerified.IsPaid(), "status IsPaid")
	assert.True(t, jopaycheckout.StatusCompleted.IsPaid(), "status IsPaid")
	assert.True(t, jovepay.StatusFinished.IsPaid(), "status IsPaid")
	assert.True(t, pepay.StatusPaid.IsPaid(), "status IsPaid")
	assert.False(t, pepay.StatusUnderpaid.IsPaid(), "status IsPaid")
	assert.True(t, jopay.StatusCancelled.IsTerminal(), "status IsTerminal")
	assert.True(t, jopaycheckout.StatusExpired.IsTerminal(), "status IsTerminal")
	assert.True(t, jovepay.StatusRefunded.IsTerminal(), "status IsTerminal")
	assert.True(t, pepay.StatusCanceled.IsTerminal(), "status IsTerminal")
	assert.False(t, jovepay.StatusPartiallyPaid.IsTerminal(), "status IsTerminal")
}

// jovepayPayment decodes a JovePay payment, the only way to set its order id.
func jovepayPayment(t *testing.T, status jovepay.PaymentStatus, orderID string) *jovepay.Payment {
	t.Helper()
	b, err := json.Marshal(map[string]string{"payment_id": "1", "payment_status": string(status), "order_id": orderID})
	require.NoError(t, err)
	p := new(jovepay.Payment)
	require.NoError(t, json.Unmarshal(b, p))
	return p
}
