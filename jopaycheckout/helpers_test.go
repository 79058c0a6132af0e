package jopaycheckout_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/jopaycheckout"
)

const testKey = "sk_test_4f9b2c7e1d"

// setup starts a server whose mux the test fills in, go-github style, and a client for it.
func setup(t *testing.T, opts ...jopaycheckout.Option) (*http.ServeMux, *jopaycheckout.Client) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	base := []jopaycheckout.Option{
		jopaycheckout.WithBaseURL(srv.URL + "/api/checkout/v1"),
		jopaycheckout.WithRetryWait(time.Millisecond, 2*time.Millisecond),
	}
	c, err := jopaycheckout.NewClient(testKey, append(base, opts...)...)
	require.NoError(t, err)
	return mux, c
}

// testHeaders checks the headers every call carries.
func testHeaders(t *testing.T, r *http.Request, withBody bool) {
	t.Helper()
	want := map[string]string{
		"Authorization": "Bearer " + testKey,
		"Accept":        "application/json",
	}
	if withBody {
		want["Content-Type"] = "application/json"
	} else {
		assert.Empty(t, r.Header.Get("Content-Type"), "Content-Type on a request without body")
	}
	for k, v := range want {
		assert.Equal(t, v, r.Header.Get(k), "header %s", k)
	}
	ua := r.Header.Get("User-Agent")
	assert.True(t, bytes.HasPrefix([]byte(ua), []byte("paykit-go/")), "User-Agent = %q", ua)
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return tm
}

func newLocalServer(h http.Handler) *httptest.Server { return httptest.NewServer(h) }
