package transport

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestSmoke(t *testing.T) {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		if n < 3 {
			w.WriteHeader(503)
			return
		}
		if r.URL.Path != "/api/v1/requests/create" || r.Header.Get("Authorization") != "Bearer jo_test_x" {
			t.Errorf("path %s auth %s", r.URL.Path, r.Header.Get("Authorization"))
		}
		w.Write([]byte(`{"ok":true,"request_id":"r1"}`))
	}))
	defer srv.Close()
	s := DefaultSettings(srv.URL + "/api/v1/")
	s.RetryWaitMin, s.RetryWaitMax = 1e6, 2e6
	c, err := New(Config{Provider: "jopay", Settings: s, Auth: Bearer("jo_test_x")})
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		RequestID string `json:"request_id"`
	}
	err = c.Do(context.Background(), Request{Method: "POST", Path: "/requests/create", Body: map[string]any{"a": 1}, IdempotencyKey: "k"}, &out)
	if err != nil || out.RequestID != "r1" || n != 3 {
		t.Fatal(err, out, n)
	}
	n = 0
	err = c.Do(context.Background(), Request{Method: "POST", Path: "/requests/create", Body: map[string]any{"a": 1}}, &out)
	t.Log(err, n)
}
