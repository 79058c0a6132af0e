package cli

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
)

func TestEventsPepayReplaysSigned(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	ctx := t.Context()
	id, err := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("10")})
	require.NoError(t, err)
	since := srv.LastEventID() // invoice.created: the handler saw it
	_, err = srv.Pay(ctx, id)
	require.NoError(t, err)
	missed := srv.Events()
	hook, rec := receiver(t, provPepay)
	code, out, errOut := run(t, "", map[string]string{"PEPAY_API_KEY": srv.APIKey, "PEPAY_WEBHOOK_SECRET": testSecret},
		"events", "pepay", "--base-url", srv.BaseURL, "--since", since, "--deliver-to", hook.URL, "--types", "invoice.*")
	require.Zero(t, code, "exit %s%s", out, errOut)
	assert.NotContains(t, out, srv.APIKey, "API key printed or source missing:\n%s", out)
	assert.Contains(t, out, "API key: (from PEPAY_API_KEY)", "API key printed or source missing:\n%s", out)
	var want []string
	for _, e := range missed {
		if strings.HasPrefix(string(e.Type), "invoice.") && e.ID != since && e.InvoiceID() == id && e.Type != pepay.EventInvoiceCreated {
			want = append(want, e.ID)
		}
	}
	require.NotEmpty(t, want, "re-delivered %d events, want %d (%v)\n%s", len(rec.bodys), len(want), want, out)
	require.Len(t, rec.bodys, len(want), "re-delivered %d events, want %d (%v)\n%s", len(rec.bodys), len(want), want, out)
	for i, b := range rec.bodys {
		assert.NoError(t, rec.errs[i], "delivery %d does not verify", i)
		e, err := pepay.ParseEvent(b)
		require.NoError(t, err, "delivery %d: %v, id %v want %s", i, err, e, want[i])
		assert.Equal(t, want[i], e.ID, "delivery %d: %v, id %v want %s", i, err, e, want[i])
	}
	assert.Contains(t, out, "processed", "no verdict")
}
