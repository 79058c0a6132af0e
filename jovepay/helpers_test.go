package jovepay

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/apitest"
)

const (
	testKey      = "test-api-key-0123456789"
	testEmail    = "ops@example.com"
	testPassword = "hunter2-correct-horse"
)

// setup starts a go-github style test server: the test registers handlers on mux for the
// paths it expects, under the /v1 prefix of the base URL.
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		http.Error(w, "unexpected", http.StatusNotFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	base := []Option{WithBaseURL(srv.URL + "/v1"), WithRetryWait(time.Millisecond, 2*time.Millisecond)}
	c, err := NewClient(testKey, append(base, opts...)...)
	require.NoError(t, err)
	return c, mux
}

// testAPIKeyOnly checks the headers of an x-api-key endpoint.
func testAPIKeyOnly(t *testing.T, r *http.Request) {
	t.Helper()
	apitest.Header(t, r, "x-api-key", testKey)
	apitest.Header(t, r, "Authorization", "")
}

// decimalExact compares Decimals digit for digit: 15 and 15.0 differ, which is the point of
// keeping the digits JovePay sent.
var decimalExact = cmp.Comparer(func(a, b paykit.Decimal) bool { return a.String() == b.String() })

func dec(s string) paykit.Decimal { return paykit.MustDecimal(s) }

// makeJWT builds an unsigned-looking HS256 token with the given claims.
func makeJWT(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	p, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(p) + ".c2lnbmF0dXJl"
}

// authHandler answers POST /v1/auth with tokens from mint and counts logins.
func authHandler(t *testing.T, logins *atomic.Int64, mint func(n int64) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, "POST")
		apitest.Header(t, r, "x-api-key", "")
		apitest.Header(t, r, "Authorization", "")
		apitest.JSONBody(t, r, `{"email":"`+testEmail+`","password":"`+testPassword+`"}`)
		n := logins.Add(1)
		b, _ := json.Marshal(map[string]string{"token": mint(n)})
		apitest.ServeJSON(w, 200, b)
	}
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func decodeSeg(s string) string {
	b, _ := base64.RawURLEncoding.DecodeString(s)
	return string(b)
}
