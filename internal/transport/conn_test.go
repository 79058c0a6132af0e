package transport

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
)

// TestConnectionReuse checks that 1,000 sequential calls, including error responses and calls
// whose retries run out, share one keep-alive TCP connection: every body is drained and closed,
// and no code path closes the pool's idle connections.
func TestConnectionReuse(t *testing.T) {
	var conns atomic.Int64
	var n atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/get":
			respond(200, `{"id":"req_1","status":"pending"}`)(w, r)
		case "/create":
			respond(201, `{"id":"req_2"}`)(w, r)
		case "/missing":
			respond(404, `{"ok":false,"error":"not_found"}`)(w, r)
		case "/flaky": // every other attempt fails
			if n.Add(1)%2 == 1 {
				respond(503, `{"error":"busy"}`)(w, r)
				return
			}
			respond(200, `{}`)(w, r)
		case "/down":
			respond(503, `<html><body>maintenance</body></html>`, "Content-Type", "text/html")(w, r)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	c := newTestClient(t, Config{Settings: fastSettings(t, srv.URL), Auth: Bearer("jo_test_reuse")})
	ctx := context.Background()
	for i := range 1000 {
		var err error
		var out struct{ ID string }
		switch i % 5 {
		case 0:
			err = doBounded(t, ctx, c, Request{Method: http.MethodGet, Path: "get"}, &out)
		case 1:
			err = doBounded(t, ctx, c, Request{Method: http.MethodPost, Path: "create", Body: map[string]int{"amount": i}, IdempotencyKey: "key-00000001", IdempotencyHeader: "Idempotency-Key"}, &out)
		case 2:
			err = doBounded(t, ctx, c, Request{Method: http.MethodGet, Path: "missing"}, &out)
			require.True(t, paykit.IsCode(err, "not_found"), "call %d: %v", i, err)
			err = nil
		case 3:
			err = doBounded(t, ctx, c, Request{Method: http.MethodGet, Path: "flaky"}, nil)
		case 4:
			if i%100 != 4 {
				err = doBounded(t, ctx, c, Request{Method: http.MethodGet, Path: "get"}, &out)
				break
			}
			err = doBounded(t, ctx, c, Request{Method: http.MethodGet, Path: "down"}, nil) // retries run out
			require.True(t, paykit.IsStatus(err, 503), "call %d: %v", i, err)
			err = nil
		}
		require.NoError(t, err, "call %d", i)
	}
	require.Equal(t, int64(1), conns.Load(), "1,000 sequential calls opened TCP connections, want 1")
}

// TestConcurrentCalls runs many calls with retries and bodies through one Client at once: each
// attempt must carry its own call's key and body (no state shared between calls), under -race.
func TestConcurrentCalls(t *testing.T) {
	var attempts atomic.Int64
	var first sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		key := r.Header.Get("Idempotency-Key")
		assert.Equal(t, `{"key":"`+key+`"}`, string(body), "key %q arrived with body %s", key, body)
		attempts.Add(1)
		if _, seen := first.LoadOrStore(key, true); !seen { // each call's first attempt fails
			respond(503, `{"error":"busy"}`)(w, r)
			return
		}
		respond(200, `{"key":"`+key+`"}`)(w, r)
	}))
	defer srv.Close()
	c := newTestClient(t, Config{Settings: fastSettings(t, srv.URL), Auth: Bearer("jo_test_concurrent")})

	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				key := fmt.Sprintf("key-%02d-%02d-0000000000000000", g, i)
				var out struct{ Key string }
				err := doBounded(t, context.Background(), c, Request{
					Method: http.MethodPost, Path: "create", Body: map[string]string{"key": key},
					IdempotencyKey: key, IdempotencyHeader: "Idempotency-Key",
				}, &out)
				if err != nil || out.Key != key {
					t.Errorf("%s: got %q, %v", key, out.Key, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(2*16*25), attempts.Load(), "attempts")
}
