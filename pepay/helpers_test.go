package pepay_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/paykit-go/paykit"

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

func testHeader(t *testing.T, r *http.Request, name, want string) {
	t.Helper()
	if got := r.Header.Get(name); got != want {
		t.Errorf("header %s = %q, want %q", name, got, want)
	}
}

// testMerchantAuth checks the merchant key is sent as x-api-key and nothing else carries it.
func testMerchantAuth(t *testing.T, r *http.Request) {
	t.Helper()
	testHeader(t, r, "x-api-key", testKey)
	if r.Header.Get("Authorization") != "" {
		t.Error("unexpected Authorization header")
	}
}

// testQuery compares the whole query string.
func testQuery(t *testing.T, r *http.Request, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for k, v := range r.URL.Query() {
		got[k] = v[0]
		if len(v) != 1 {
			t.Errorf("query %s sent %d times", k, len(v))
		}
	}
	if want == nil {
		want = map[string]string{}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("query mismatch (-want +got):\n%s", diff)
	}
}

// decodeJSON decodes with numbers kept as text, so 25.00 and 25 differ.
func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("invalid JSON %q: %v", b, err)
	}
	return v
}

func testJSONBody(t *testing.T, r *http.Request, want []byte) {
	t.Helper()
	got, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(decodeJSON(t, want), decodeJSON(t, got)); diff != "" {
		t.Errorf("request body mismatch (-want +got):\n%s", diff)
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

func writeFixture(t *testing.T, w http.ResponseWriter, status int, name string) {
	t.Helper()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(fixture(t, name))
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func ptr[T any](v T) *T { return &v }

// cmpOpts compares decimals by their digits ("25.000" differs from "25") and ignores the
// event's cached typed object.
var cmpOpts = []cmp.Option{
	cmp.Comparer(func(a, b paykit.Decimal) bool { return a.String() == b.String() }),
	cmpopts.IgnoreUnexported(pepay.Event{}),
}
