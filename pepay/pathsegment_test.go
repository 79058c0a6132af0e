package pepay_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/pepay"
)

// segServer records the escaped path of every request and answers 404.
type segServer struct {
	*httptest.Server
	mu    sync.Mutex
	paths []string
}

func newSegServer(t *testing.T) *segServer {
	t.Helper()
	s := &segServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths = append(s.paths, r.Method+" "+r.URL.EscapedPath())
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"success":false,"error":{"code":"NOT_FOUND","message":"not found"}}`))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *segServer) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.paths
	s.paths = nil
	return p
}

// TestIDPathSegments covers every method that puts an id into the request path: the ids that
// are no single segment ("invoices/../status") are refused before anything is sent, and any
// other id is sent as one escaped segment.
func TestIDPathSegments(t *testing.T) {
	srv := newSegServer(t)
	c, err := pepay.NewClient("pk_test_SEGMENTS_0001", pepay.WithBaseURL(srv.URL), pepay.WithMaxRetries(0))
	require.NoError(t, err)
	payor, err := pepay.NewPayorClient(pepay.PaymentSessionHeaders{SessionToken: "pst_segments", Signature: "sig_segments.1"}, pepay.WithBaseURL(srv.URL), pepay.WithMaxRetries(0))
	require.NoError(t, err)
	session, err := c.PayorSession(pepay.PaymentSessionHeaders{SessionToken: "pst_segments", Signature: "sig_segments.1"})
	require.NoError(t, err)
	ctx := context.Background()
	methods := []struct {
		name, field string
		call        func(id string) error
		path        string // sent for the id "a/b?c"
	}{
		{"GetInvoice", "invoice_id", func(id string) error { _, err := c.GetInvoice(ctx, id); return err }, "GET /api/v1/invoices/a%2Fb%3Fc"},
		{"GetInvoiceStatus", "invoice_id", func(id string) error { _, err := c.GetInvoiceStatus(ctx, id); return err }, "GET /api/v1/invoices/a%2Fb%3Fc/status"},
		{"WaitForInvoice", "invoice_id", func(id string) error { _, err := c.WaitForInvoice(ctx, id); return err }, "GET /api/v1/invoices/a%2Fb%3Fc/status"},
		{"GetEvent", "event_id", func(id string) error { _, err := c.GetEvent(ctx, id); return err }, "GET /api/v1/events/a%2Fb%3Fc"},
		{"ListCustomerInvoicesPage", "customer_id", func(id string) error {
			_, err := c.ListCustomerInvoicesPage(ctx, id, pepay.ListInvoicesParams{})
			return err
		}, "GET /api/v1/invoices/customer/a%2Fb%3Fc"},
		{"ListCustomerInvoices", "customer_id", func(id string) error {
			for _, err := range c.ListCustomerInvoices(ctx, id, pepay.ListInvoicesParams{}) {
				return err
			}
			return nil
		}, "GET /api/v1/invoices/customer/a%2Fb%3Fc"},
		{"PayorClient.VerifyInvoice", "invoice_id", func(id string) error { _, err := payor.VerifyInvoice(ctx, id); return err }, "GET /api/v1/invoice/a%2Fb%3Fc/verify"},
		{"PayorSession.VerifyInvoice", "invoice_id", func(id string) error { _, err := session.VerifyInvoice(ctx, id); return err }, "GET /api/v1/invoice/a%2Fb%3Fc/verify"},
	}
	for _, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			for _, id := range []string{"", ".", ".."} {
				err := m.call(id)
				var verr *paykit.ValidationError
				require.ErrorAs(t, err, &verr, "id %q: got %v, want a *ValidationError for %s", id, err, m.field)
				assert.Equal(t, m.field, verr.Field, "id %q: got %v, want a *ValidationError for %s", id, err, m.field)
			}
			require.Empty(t, srv.take(), "refused ids reached the server")
			err := m.call("a/b?c")
			require.True(t, paykit.IsStatus(err, http.StatusNotFound), "got %v, want the server's 404", err)
			got := srv.take()
			require.Len(t, got, 1, "sent %q, want %q", got, m.path)
			assert.Equal(t, m.path, got[0], "sent %q, want %q", got, m.path)
		})
	}
}
