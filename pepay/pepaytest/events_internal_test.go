package pepaytest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

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
		assert.Equal(t, tc.want, matchEventType(tc.pattern, tc.typ), "matchEventType(%q, %q)", tc.pattern, tc.typ)
	}
}
