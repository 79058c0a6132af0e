package jopay_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jopay"
)

// pathServer records the escaped path of every request and answers 404.
type pathServer struct {
	*httptest.Server
	mu    sync.Mutex
	paths []string
}

func newPathServer(t *testing.T) *pathServer {
	t.Helper()
	s := &pathServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths = append(s.paths, r.Method+" "+r.URL.EscapedPath())
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"ok":false,"error":"not_found"}`))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *pathServer) Paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...)
}

// idMethods are every Client method that puts an id into the request path.
var idMethods = []struct {
	name, field string
	call        func(c *jopay.Client, id string) error
	path        string // method and path sent for the id "a/b?c"
}{
	{"GetRequest", "request_id", func(c *jopay.Client, id string) error { _, err := c.GetRequest(context.Background(), id); return err },
		"GET /api/v1/requests/a%2Fb%3Fc"},
	{"CancelRequest", "request_id", func(c *jopay.Client, id string) error {
		_, err := c.CancelRequest(context.Background(), id)
		return err
	},
		"POST /api/v1/requests/a%2Fb%3Fc/cancel"},
	{"GetMerchant", "merchant_id", func(c *jopay.Client, id string) error { _, err := c.GetMerchant(context.Background(), id); return err },
		"GET /api/v1/merchants/a%2Fb%3Fc"},
}

func TestIDPathSegments(t *testing.T) {
	for _, m := range idMethods {
		t.Run(m.name, func(t *testing.T) {
			srv := newPathServer(t)
			c, err := jopay.NewClient("jo_test_pathsegments", jopay.WithBaseURL(srv.URL+"/api/v1"), jopay.WithMaxRetries(0), jopay.WithRateLimiter(nil))
			require.NoError(t, err)
			for _, id := range []string{"", ".", ".."} {
				err := m.call(c, id)
				var verr *paykit.ValidationError
				if assert.ErrorAs(t, err, &verr, "id %q: want a *ValidationError for %s", id, m.field) {
					assert.Equal(t, m.field, verr.Field, "id %q: ValidationError field", id)
				}
			}
			require.Empty(t, srv.Paths(), "refused ids still reached the server")
			// Anything else is one escaped segment.
			err = m.call(c, "a/b?c")
			require.True(t, paykit.IsStatus(err, http.StatusNotFound), "id a/b?c: got %v, want the server's 404", err)
			err = m.call(c, "...")
			require.True(t, paykit.IsStatus(err, http.StatusNotFound), "id ...: got %v, want the server's 404", err)
			if got := srv.Paths(); assert.Len(t, got, 2, "sent %q, want %q first", got, m.path) {
				assert.Equal(t, m.path, got[0], "sent %q, want %q first", got, m.path)
			}
		})
	}
}
