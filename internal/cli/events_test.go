package cli

import (
	"strings"
	"testing"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
)

func TestEventsPepayReplaysSigned(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	ctx := t.Context()
	id, err := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("10")})
	if err != nil {
		t.Fatal(err)
	}
	since := srv.LastEventID() // invoice.created: the handler saw it
	if _, err := srv.Pay(ctx, id); err != nil {
		t.Fatal(err)
	}
	missed := srv.Events()
	hook, rec := receiver(t, provPepay)
	code, out, errOut := run(t, "", map[string]string{"PEPAY_API_KEY": srv.APIKey, "PEPAY_WEBHOOK_SECRET": testSecret},
		"events", "pepay", "--base-url", srv.BaseURL, "--since", since, "--deliver-to", hook.URL, "--types", "invoice.*")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out, srv.APIKey) || !strings.Contains(out, "API key: (from PEPAY_API_KEY)") {
		t.Errorf("API key printed or source missing:\n%s", out)
	}
	var want []string
	for _, e := range missed {
		if strings.HasPrefix(string(e.Type), "invoice.") && e.ID != since && e.InvoiceID() == id && e.Type != pepay.EventInvoiceCreated {
			want = append(want, e.ID)
		}
	}
	if len(want) == 0 || len(rec.bodys) != len(want) {
		t.Fatalf("re-delivered %d events, want %d (%v)\n%s", len(rec.bodys), len(want), want, out)
	}
	for i, b := range rec.bodys {
		if rec.errs[i] != nil {
			t.Errorf("delivery %d does not verify: %v", i, rec.errs[i])
		}
		e, err := pepay.ParseEvent(b)
		if err != nil || e.ID != want[i] {
			t.Errorf("delivery %d: %v, id %v want %s", i, err, e, want[i])
		}
	}
	if !strings.Contains(out, "processed") {
		t.Errorf("no verdict:\n%s", out)
	}
}
