package transport_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/transport"
)

// A provider package builds one Client from its options and describes each call with a Request.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer jo_test_key" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"ok":false,"error":"unauthorized"}`)
			return
		}
		if r.URL.Path == "/api/v1/requests/req_404" {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"ok":false,"error":"not_found"}`)
			return
		}
		fmt.Fprintf(w, `{"ok":true,"request_id":"req_1","path":%q,"key":%q}`, r.URL.Path, r.Header.Get("Idempotency-Key"))
	}))
	defer srv.Close()

	settings := transport.DefaultSettings("https://acme.jopay.app/api/v1")
	if err := settings.SetBaseURL(srv.URL + "/api/v1/"); err != nil { // a WithBaseURL option
		panic(err)
	}
	c, err := transport.New(transport.Config{Provider: "jopay", Settings: settings, Auth: transport.Bearer("jo_test_key")})
	if err != nil {
		panic(err)
	}

	var created struct {
		RequestID string `json:"request_id"`
		Path      string `json:"path"`
		Key       string `json:"key"`
	}
	err = c.Do(context.Background(), transport.Request{
		Method: http.MethodPost, Path: "requests/create",
		Body:           map[string]any{"fiat_amount_int": 2599, "fiat_currency_code": "USD"},
		IdempotencyKey: "checkout-1234", IdempotencyHeader: "Idempotency-Key",
	}, &created)
	fmt.Println(created.RequestID, created.Path, created.Key, err)

	err = c.Do(context.Background(), transport.Request{Method: http.MethodGet, Path: "requests/req_404"}, nil)
	var apiErr *paykit.Error
	fmt.Println(errors.As(err, &apiErr), apiErr.Status, apiErr.Code)
	fmt.Println(err)
	// Output:
	// req_1 /api/v1/requests/create checkout-1234 <nil>
	// true 404 not_found
	// jopay: 404 not_found
}
