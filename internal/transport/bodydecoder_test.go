package transport

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/paykit-go/paykit"
)

// rawBody is a BodyDecoder that keeps the body it was handed, or refuses it.
type rawBody struct {
	got    string
	calls  int
	refuse error
}

func (r *rawBody) DecodeBody(b []byte) error {
	r.calls++
	r.got = string(b)
	return r.refuse
}

// TestBodyDecoder: a BodyDecoder gets the 2xx body exactly as it arrived, once; its error is an
// invalid response (an unknown outcome after a write without idempotency); an empty body or a
// 204 is not handed to it.
func TestBodyDecoder(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			respond(200, " {\"a\": 1}\n")(w, r)
		case "/empty":
			w.WriteHeader(200)
		case "/no-content":
			w.WriteHeader(204)
		}
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, Config{Settings: fastSettings(t, srv.URL)})
	ctx := context.Background()

	var out rawBody
	if err := c.Do(ctx, Request{Method: http.MethodGet, Path: "ok"}, &out); err != nil {
		t.Fatal(err)
	}
	if out.calls != 1 || out.got != " {\"a\": 1}\n" {
		t.Errorf("DecodeBody called %d times with %q", out.calls, out.got)
	}
	for _, path := range []string{"empty", "no-content"} {
		var none rawBody
		if err := c.Do(ctx, Request{Method: http.MethodGet, Path: path}, &none); err != nil || none.calls != 0 {
			t.Errorf("%s: err %v, DecodeBody called %d times", path, err, none.calls)
		}
	}

	refused := errors.New("not the documented shape")
	bad := rawBody{refuse: refused}
	err := c.Do(ctx, Request{Method: http.MethodGet, Path: "ok"}, &bad)
	if !errors.Is(err, paykit.ErrInvalidResponse) || !errors.Is(err, refused) || errors.Is(err, paykit.ErrUnknownOutcome) {
		t.Errorf("GET: got %v, want ErrInvalidResponse wrapping the decoder's error", err)
	}
	err = c.Do(ctx, Request{Method: http.MethodPost, Path: "ok", Body: []byte(`{}`)}, &bad)
	if !errors.Is(err, paykit.ErrInvalidResponse) || !errors.Is(err, paykit.ErrUnknownOutcome) {
		t.Errorf("POST: got %v, want ErrUnknownOutcome and ErrInvalidResponse", err)
	}
}
