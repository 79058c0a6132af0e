package jopaycheckout_test

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
	if err != nil {
		t.Fatal(err)
	}
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
	} else if r.Header.Get("Content-Type") != "" {
		t.Errorf("Content-Type = %q on a request without body", r.Header.Get("Content-Type"))
	}
	for k, v := range want {
		if got := r.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if ua := r.Header.Get("User-Agent"); !bytes.HasPrefix([]byte(ua), []byte("paykit-go/")) {
		t.Errorf("User-Agent = %q", ua)
	}
}

func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if r.Method != want {
		t.Errorf("method = %s, want %s", r.Method, want)
	}
}

// testJSONBody compares the request body with the fixture as JSON values.
func testJSONBody(t *testing.T, r *http.Request, fixture string) {
	t.Helper()
	got, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal(readFixture(t, fixture), &w); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("request body mismatch (-want +got):\n%s", diff)
	}
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func serveFixture(t *testing.T, w http.ResponseWriter, status int, name string) {
	t.Helper()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(readFixture(t, name))
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func newLocalServer(h http.Handler) *httptest.Server { return httptest.NewServer(h) }
