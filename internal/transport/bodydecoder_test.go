package transport

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	require.NoError(t, c.Do(ctx, Request{Method: http.MethodGet, Path: "ok"}, &out))
	assert.Equal(t, 1, out.calls, "DecodeBody called %d times with %q", out.calls, out.got)
	assert.Equal(t, " {\"a\": 1}\n", out.got, "DecodeBody called %d times with %q", out.calls, out.got)
	for _, path := range []string{"empty", "no-content"} {
		var none rawBody
		err := c.Do(ctx, Request{Method: http.MethodGet, Path: path}, &none)
		require.NoError(t, err, "%s: err %v, DecodeBody called %d times", path, err, none.calls)
		assert.Zero(t, none.calls, "%s: err %v, DecodeBody called %d times", path, err, none.calls)
	}

	refused := errors.New("not the documented shape")
	bad := rawBody{refuse: refused}
	err := c.Do(ctx, Request{Method: http.MethodGet, Path: "ok"}, &bad)
	assert.ErrorIs(t, err, paykit.ErrInvalidResponse, "GET: got %v, want ErrInvalidResponse wrapping the decoder's error", err)
	assert.ErrorIs(t, err, refused, "GET: got %v, want ErrInvalidResponse wrapping the decoder's error", err)
	assert.NotErrorIs(t, err, paykit.ErrUnknownOutcome, "GET: got %v, want ErrInvalidResponse wrapping the decoder's error", err)
	err = c.Do(ctx, Request{Method: http.MethodPost, Path: "ok", Body: []byte(`{}`)}, &bad)
	assert.ErrorIs(t, err, paykit.ErrInvalidResponse, "POST: got %v, want ErrUnknownOutcome and ErrInvalidResponse", err)
	assert.ErrorIs(t, err, paykit.ErrUnknownOutcome, "POST: got %v, want ErrUnknownOutcome and ErrInvalidResponse", err)
}
