// Package apitest holds the request checks the provider packages' go-github-style tests share:
// each test serves an httptest mux and checks the method, headers, query and JSON body of
// every request the client sends, and answers with recorded fixtures from testdata/.
package apitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Method checks the request method.
func Method(t testing.TB, r *http.Request, want string) {
	t.Helper()
	if r.Method != want {
		t.Errorf("method = %s, want %s", r.Method, want)
	}
}

// Header checks one request header; want "" means the header must be absent.
func Header(t testing.TB, r *http.Request, name, want string) {
	t.Helper()
	if got := r.Header.Get(name); got != want {
		t.Errorf("header %s = %q, want %q", name, got, want)
	}
}

// Query compares the whole query string with want (nil: no query), each key sent once.
func Query(t testing.TB, r *http.Request, want map[string]string) {
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

// JSONBody reads the request body and compares it with want as JSON values, numbers kept as
// their text: for a payments API 25.00 and 25 are different requests.
func JSONBody[T string | []byte](t testing.TB, r *http.Request, want T) {
	t.Helper()
	got, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(DecodeJSON(t, []byte(want)), DecodeJSON(t, got)); diff != "" {
		t.Errorf("request body mismatch (-want +got):\n%s\nraw: %s", diff, got)
	}
}

// DecodeJSON decodes b with numbers kept as json.Number text, failing the test on bad JSON.
func DecodeJSON(t testing.TB, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("invalid JSON %q: %v", b, err)
	}
	return v
}

// Fixture returns testdata/<name> of the package under test.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ServeJSON answers with status and body as application/json.
func ServeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// ServeFixture answers with status and testdata/<name> as application/json.
func ServeFixture(t testing.TB, w http.ResponseWriter, status int, name string) {
	t.Helper()
	ServeJSON(w, status, Fixture(t, name))
}
