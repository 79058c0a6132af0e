package transport

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
)

// redirectTo answers every request with a redirect to target.
func redirectTo(status int, target string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, status)
	}
}

var redirectStatuses = []int{
	http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
	http.StatusTemporaryRedirect, http.StatusPermanentRedirect,
}

func TestCrossHostRedirectRefused(t *testing.T) {
	const (
		key      = "jp_live_REDIRECTKEY_0001"
		token    = "eyJhbGciOiJIUzI1NiJ9.REDIRECT-TOKEN.c2ln"
		password = "redirect-password-0001"
	)
	requests := []struct {
		name string
		req  Request
		safe bool
	}{
		{"GET", Request{Method: http.MethodGet, Path: "payment/5077", Query: url.Values{"limit": {"1"}}}, true},
		{"POST_login", Request{Method: http.MethodPost, Path: "auth", NoAuth: true, Idempotent: true,
			Body: map[string]string{"email": "ops@example.com", "password": password}}, true},
		{"POST_unkeyed", Request{Method: http.MethodPost, Path: "payment", Body: map[string]string{"price_amount": "25.99"}}, false},
	}
	clients := []struct {
		name string
		hc   func(calls *atomic.Int64) *http.Client
	}{
		{"default_client", func(*atomic.Int64) *http.Client { return nil }},
		{"caller_client_following_everything", func(calls *atomic.Int64) *http.Client {
			return &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
				calls.Add(1)
				return nil
			}}
		}},
	}
	for _, status := range redirectStatuses {
		for _, rq := range requests {
			for _, cl := range clients {
				t.Run(http.StatusText(status)+"/"+rq.name+"/"+cl.name, func(t *testing.T) {
					t.Parallel()
					other := newRecorder(t) // records whatever reaches it
					home := newRecorder(t, redirectTo(status, other.URL+"/stolen?key="+key))
					var logs logCapture
					s := fastSettings(t, home.URL+"/v1")
					s.Logger = logs.Logger()
					var calls atomic.Int64
					hc := cl.hc(&calls)
					if hc != nil {
						s.HTTPClient = hc
					}
					c := newTestClient(t, Config{Provider: "jovepay", Settings: s,
						Auth: Chain(Header("x-api-key", key), Bearer(token)), Secrets: []string{password}})

					err := doBounded(t, context.Background(), c, rq.req, nil)

					if n := other.Count(); n != 0 {
						a := other.Attempts()[0]
						t.Fatalf("the other host received %d requests; the first: %s %s headers %v body %q", n, a.Method, a.Path, a.Header, a.Body)
					}
					assert.Equal(t, 1, home.Count(), "API attempts, want 1 (a refused redirect is not retried)")
					assert.Zero(t, calls.Load(), "the caller's CheckRedirect was consulted for a cross-host redirect")
					var apiErr *paykit.Error
					require.ErrorAs(t, err, &apiErr, "got %v (%T), want a *paykit.Error with status %d", err, err, status)
					require.Equal(t, status, apiErr.Status, "got %v (%T), want a *paykit.Error with status %d", err, err, status)
					require.Equal(t, "jovepay", apiErr.Provider, "got %v (%T), want a *paykit.Error with status %d", err, err, status)
					assert.Contains(t, err.Error(), "redirect to another host refused", "error %q does not say which redirect was refused", err)
					assert.Contains(t, err.Error(), other.URL, "error %q does not say which redirect was refused", err)
					assert.False(t, apiErr.Retryable(), "a refused redirect reads as retryable")
					assert.Equal(t, !rq.safe, errors.Is(err, paykit.ErrUnknownOutcome), "errors.Is(err, ErrUnknownOutcome)")
					for where, text := range map[string]string{"Error()": err.Error(), "log": logs.String()} {
						for _, secret := range []string{key, token, password, "/stolen", "limit=1"} {
							assert.NotContains(t, text, secret, "%s carries", where)
						}
					}
				})
			}
		}
	}
}

func TestSameHostRedirectFollowed(t *testing.T) {
	const key = "jp_live_SAMEHOST_0001"
	for _, status := range redirectStatuses {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			var home *recorder
			home = newRecorder(t,
				func(w http.ResponseWriter, r *http.Request) { redirectTo(status, home.URL+"/v1/moved")(w, r) },
				respond(200, `{"id":"5077"}`),
			)
			var calls atomic.Int64
			s := fastSettings(t, home.URL+"/v1")
			s.HTTPClient = &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
				calls.Add(1)
				return nil
			}}
			c := newTestClient(t, Config{Provider: "jovepay", Settings: s, Auth: Header("x-api-key", key)})
			var out struct{ ID string }
			err := doBounded(t, context.Background(), c, Request{Method: http.MethodPost, Path: "payment", Idempotent: true, Body: []byte(`{"a":1}`)}, &out)
			require.NoError(t, err, "got %+v, %v", out, err)
			require.Equal(t, "5077", out.ID, "got %+v, %v", out, err)
			a := home.Attempts()
			require.Len(t, a, 2, "attempts %+v", a)
			require.Equal(t, "/v1/moved", a[1].Path, "attempts %+v", a)
			require.Equal(t, key, a[1].Header.Get("X-Api-Key"), "attempts %+v", a)
			assert.Equal(t, int64(1), calls.Load(), "the caller's CheckRedirect ran %d times for a same-host redirect, want 1", calls.Load())
			require.NotNil(t, s.HTTPClient.CheckRedirect, "the caller's client was modified")
			assert.Zero(t, s.HTTPClient.Timeout, "the caller's client was modified")
		})
	}
}

func TestSameHostRedirectLimits(t *testing.T) {
	t.Run("caller_refuses", func(t *testing.T) {
		var home *recorder
		home = newRecorder(t, func(w http.ResponseWriter, r *http.Request) { redirectTo(302, home.URL+"/elsewhere")(w, r) })
		stop := errors.New("caller says no redirects")
		s := fastSettings(t, home.URL)
		s.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return stop }}
		c := newTestClient(t, Config{Settings: s})
		err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "x"}, nil)
		require.ErrorIs(t, err, stop, "got %v after %d attempts; want the caller's error after 1", err, home.Count())
		require.Equal(t, 1, home.Count(), "got %v after %d attempts; want the caller's error after 1", err, home.Count())
	})
	t.Run("loop", func(t *testing.T) {
		var home *recorder
		home = newRecorder(t, func(w http.ResponseWriter, r *http.Request) { redirectTo(302, home.URL+"/again")(w, r) })
		c := newTestClient(t, Config{Settings: fastSettings(t, home.URL)})
		err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "x"}, nil)
		require.Error(t, err, "got %v after %d requests; want net/http's limit after 10 (no retries)", err, home.Count())
		require.Contains(t, err.Error(), "stopped after 10 redirects", "got %v after %d requests; want net/http's limit after 10 (no retries)", err, home.Count())
		require.Equal(t, 10, home.Count(), "got %v after %d requests; want net/http's limit after 10 (no retries)", err, home.Count())
	})
}

func TestConfineRedirectsOrigins(t *testing.T) {
	check := func(target, to string) error {
		hc := ConfineRedirects("pepay", nil, target)
		u, err := url.Parse(to)
		require.NoError(t, err)
		req := &http.Request{URL: u, Response: &http.Response{StatusCode: 307}}
		return hc.CheckRedirect(req, []*http.Request{{}})
	}
	for _, tt := range []struct {
		target, to string
		ok         bool
	}{
		{"https://api.example.com/v1", "https://api.example.com/v2/x?y=1", true},
		{"https://api.example.com", "https://API.example.com.:443/x", true},
		{"http://api.example.com", "http://api.example.com:80/x", true},
		{"wss://api.example.com/ws", "https://api.example.com/ws2", true},
		{"ws://127.0.0.1:8080/ws", "http://127.0.0.1:8080/ws", true},
		{"https://api.example.com", "http://api.example.com/x", false},
		{"https://api.example.com", "https://api.example.com:8443/x", false},
		{"https://api.example.com", "https://evil.example.com/x", false},
		{"https://api.example.com", "https://api.example.com.evil.com/x", false},
		{"https://api.example.com", "ftp://api.example.com/x", false},
		{"not a url", "https://api.example.com/x", false},
	} {
		err := check(tt.target, tt.to)
		assert.Equal(t, tt.ok, err == nil, "%s → %s: got %v, want allowed", tt.target, tt.to, err)
		var apiErr *paykit.Error
		if err != nil && (!errors.As(err, &apiErr) || apiErr.Status != 307 || apiErr.Provider != "pepay" || strings.Contains(err.Error(), "/x")) {
			t.Errorf("%s → %s: error %v", tt.target, tt.to, err)
		}
	}
	// The caller's client is copied, not changed.
	orig := &http.Client{Timeout: time.Second}
	got := ConfineRedirects("pepay", orig, "https://api.example.com")
	assert.NotEqual(t, orig, got, "ConfineRedirects changed or did not copy the caller's client")
	assert.Nil(t, orig.CheckRedirect, "ConfineRedirects changed or did not copy the caller's client")
	assert.Equal(t, time.Second, got.Timeout, "ConfineRedirects changed or did not copy the caller's client")
}
