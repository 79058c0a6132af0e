package pepaytest

import "testing"

func TestMatchEventType(t *testing.T) {
	for _, tc := range []struct {
		pattern, typ string
		want         bool
	}{
		{"invoice.*", "invoice.updated", true},
		{"invoice.*", "invoice_payment.updated", false},
		{"invoice_payment.*", "invoice_payment.created", true},
		{"commerce.order.*", "commerce.order.updated", true},
		{"commerce.*", "commerce.order.updated", true},
		{"*", "test.ping", true},
		{"invoice.updated", "invoice.updated", true},
		{"invoice.updated", "invoice.created", false},
	} {
		if got := matchEventType(tc.pattern, tc.typ); got != tc.want {
			t.Errorf("matchEventType(%q, %q) = %v", tc.pattern, tc.typ, got)
		}
	}
}
