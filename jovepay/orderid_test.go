package jovepay_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/jovepay"
)

// TestPaymentOrderIDMethod: the order id is read with OrderID(), as in every provider package;
// order_id decodes (as a string or a number) and encodes as before.
func TestPaymentOrderIDMethod(t *testing.T) {
	for body, want := range map[string]string{
		`{"payment_id":5745459419,"payment_status":"waiting","order_id":"A-7"}`: "A-7",
		`{"payment_id":5745459419,"payment_status":"waiting","order_id":42}`:    "42",
		`{"payment_id":5745459419,"payment_status":"waiting","order_id":null}`:  "",
		`{"payment_id":5745459419,"payment_status":"waiting"}`:                  "",
	} {
		var p jovepay.Payment
		require.NoError(t, json.Unmarshal([]byte(body), &p), body)
		assert.Equal(t, want, p.OrderID(), body)

		for _, v := range []any{p, &p} {
			out, err := json.Marshal(v)
			require.NoError(t, err, body)
			var fields map[string]any
			require.NoError(t, json.Unmarshal(out, &fields), body)
			if want == "" {
				assert.NotContains(t, fields, "order_id", "%s: encoded %s", body, out)
			} else {
				assert.Equal(t, want, fields["order_id"], "%s: encoded %s", body, out)
			}
			assert.Equal(t, "5745459419", fields["payment_id"], "%s: encoded %s", body, out)
			var again jovepay.Payment
			require.NoError(t, json.Unmarshal(out, &again), body)
			assert.Equal(t, want, again.OrderID(), "%s: round trip", body)
		}
	}
	assert.Empty(t, (*jovepay.Payment)(nil).OrderID(), "nil payment")

	ipn, err := jovepay.ParseIPN([]byte(`{"payment_id":1,"payment_status":"finished","order_id":"A-9","pay_amount":1,"actually_paid":1}`))
	require.NoError(t, err)
	assert.Equal(t, "A-9", ipn.OrderID(), "IPN.OrderID")
	assert.Equal(t, "A-9", ipn.Payment.OrderID(), "IPN.Payment.OrderID")
}
