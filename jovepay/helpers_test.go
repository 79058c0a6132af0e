package jovepay

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paykit-go/paykit"
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
	if err != nil {
		t.Fatal(err)
	}
	return c, mux
}

func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if r.Method != want {
		t.Errorf("method = %s, want %s", r.Method, want)
	}
}

// testHeader checks a request header; want "" means the header must be absent.
func testHeader(t *testing.T, r *http.Request, name, want string) {
	t.Helper()
	if got := r.Header.Get(name); got != want {
		t.Errorf("header %s = %q, want %q", name, got, want)
	}
}

// testAPIKeyOnly checks the headers of an x-api-key endpoint.
func testAPIKeyOnly(t *testing.T, r *http.Request) {
	t.Helper()
	testHeader(t, r, "x-api-key", testKey)
	testHeader(t, r, "Authorization", "")
}

// testQuery checks the whole query string.
func testQuery(t *testing.T, r *http.Request, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for k, v := range r.URL.Query() {
		got[k] = v[0]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
}

// testBody compares the request body with want as JSON values.
func testBody(t *testing.T, r *http.Request, want string) {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	var got, exp any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("body %q is not JSON: %v", b, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(exp, got); diff != "" {
		t.Errorf("body (-want +got):\n%s\nraw: %s", diff, b)
	}
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func serveJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// decimalExact compares Decimals digit for digit: 15 and 15.0 differ, which is the point of
// keeping the digits JovePay sent.
var decimalExact = cmp.Comparer(func(a, b Decimal) bool { return a.String() == b.String() })

func dec(s string) Decimal { return paykit.MustDecimal(s) }

// makeJWT builds an unsigned-looking HS256 token with the given claims.
func makeJWT(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	p, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(p) + ".c2lnbmF0dXJl"
}

// authHandler answers POST /v1/auth with tokens from mint and counts logins.
func authHandler(t *testing.T, logins *atomic.Int64, mint func(n int64) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "POST")
		testHeader(t, r, "x-api-key", "")
		testHeader(t, r, "Authorization", "")
		testBody(t, r, `{"email":"`+testEmail+`","password":"`+testPassword+`"}`)
		n := logins.Add(1)
		b, _ := json.Marshal(map[string]string{"token": mint(n)})
		serveJSON(w, 200, b)
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
