package pepay_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"

	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/pepay"
)

// testKey is the merchant key used against httptest muxes; tests check it never leaks.
const testKey = "pk_test_k3y_that_must_never_leak"

// setup returns a client aimed at a fresh httptest server and the mux behind it, go-github style.
func setup(t *testing.T, opts ...pepay.Option) (*pepay.Client, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	base := []pepay.Option{pepay.WithBaseURL(srv.URL), pepay.WithRetryWait(time.Millisecond, 5*time.Millisecond)}
	c, err := pepay.NewClient(testKey, append(base, opts...)...)
	require.NoError(t, err)
	return c, mux
}

// testMerchantAuth checks the merchant key is sent as x-api-key and nothing else carries it.
func testMerchantAuth(t *testing.T, r *http.Request) {
	t.Helper()
	apitest.Header(t, r, "x-api-key", testKey)
	assert.Empty(t, r.Header.Get("Authorization"), "unexpected Authorization header")
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return tm
}

func ptr[T any](v T) *T { return &v }

// cmpOpts compares decimals by their digits ("25.000" differs from "25") and ignores the
// event's cached typed object.
var cmpOpts = []cmp.Option{
	cmp.Comparer(func(a, b paykit.Decimal) bool { return a.String() == b.String() }),
	cmpopts.IgnoreUnexported(pepay.Event{}),
}
