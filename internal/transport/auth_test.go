package transport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
)

// logins is a TokenFunc that hands out "jwt-1", "jwt-2", … and counts the logins.
type logins struct{ n atomic.Int64 }

func (l *logins) fetch(context.Context) (string, time.Time, error) {
	return fmt.Sprintf("jwt-%d", l.n.Add(1)), time.Time{}, nil
}

// acceptToken answers 401 unless the request carries "Bearer <token>".
func acceptToken(token string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			respond(401, `{"statusCode":401,"code":"AUTH_REQUIRED","message":"jwt expired"}`)(w, r)
			return
		}
		respond(200, `{"data":[]}`)(w, r)
	}
}

func authHeaders(rec *recorder, name string) []string {
	var out []string
	for _, a := range rec.Attempts() {
		out = append(out, a.Header.Get(name))
	}
	return out
}

func TestReauthOn401(t *testing.T) {
	for _, kind := range callKinds() { // a 401 means the request was refused: even unkeyed writes re-send
		t.Run(kind.name, func(t *testing.T) {
			rec := newRecorder(t, acceptToken("jwt-2"))
			var l logins
			auth := Chain(Header("x-api-key", "jp_key_0001"), BearerToken(NewTokenCache(l.fetch, 0, nil)))
			c := newTestClient(t, Config{Provider: "jovepay", Settings: fastSettings(t, rec.URL), Auth: auth})
			require.NoError(t, doBounded(t, context.Background(), c, kind.req, nil))
			assert.Empty(t, cmp.Diff([]string{"Bearer jwt-1", "Bearer jwt-2"}, authHeaders(rec, "Authorization")), "Authorization per attempt (-want +got)")
			assert.Empty(t, cmp.Diff([]string{"jp_key_0001", "jp_key_0001"}, authHeaders(rec, "X-Api-Key")), "x-api-key per attempt (-want +got)")
			assert.Equal(t, int64(2), l.n.Load(), "logins, want 2 (the first and one re-auth)")
			a := rec.Attempts()
			assert.Equal(t, string(a[1].Body), string(a[0].Body), "re-auth attempt sent a different body: %s vs %s", a[0].Body, a[1].Body)
		})
	}
}

func TestReauthOnlyOnce(t *testing.T) {
	rec := newRecorder(t, acceptToken("never"))
	var l logins
	c := newTestClient(t, Config{Provider: "jovepay", Settings: fastSettings(t, rec.URL), Auth: BearerToken(NewTokenCache(l.fetch, 0, nil))})
	err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "payment/"}, nil)
	var apiErr *paykit.Error
	require.ErrorAs(t, err, &apiErr, "got %v", err)
	require.Equal(t, 401, apiErr.Status, "got %v", err)
	require.Equal(t, "AUTH_REQUIRED", apiErr.Code, "got %v", err)
	require.Equal(t, 2, rec.Count(), "%d attempts and %d logins, want 2 and 2", rec.Count(), l.n.Load())
	require.Equal(t, int64(2), l.n.Load(), "%d attempts and %d logins, want 2 and 2", rec.Count(), l.n.Load())
	// The cache still holds the second token: the next call does not log in again first.
	_ = doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "payment/"}, nil)
	assert.Equal(t, "Bearer jwt-2", authHeaders(rec, "Authorization")[2], "third call")
}

func TestNoReauthForStaticKeys(t *testing.T) {
	for name, auth := range map[string]Auth{
		"bearer": Bearer("jo_live_static"),
		"header": Header("x-api-key", "jp_static_key"),
		"chain":  Chain(Header("x-api-key", "jp_static_key"), Bearer("jwt-static")),
	} {
		t.Run(name, func(t *testing.T) {
			rec := newRecorder(t, respond(401, `{"ok":false,"error":"unauthorized"}`))
			c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL), Auth: auth})
			err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "x"}, nil)
			require.True(t, paykit.IsCode(err, "unauthorized"), "got %v after %d attempts", err, rec.Count())
			require.Equal(t, 1, rec.Count(), "got %v after %d attempts", err, rec.Count())
		})
	}
}

func TestNoAuthAndPerRequestAuth(t *testing.T) {
	rec := newRecorder(t, respond(200, `{}`))
	c := newTestClient(t, Config{Provider: "pepay", Settings: fastSettings(t, rec.URL), Auth: Header("x-api-key", "pk_merchant")})
	ctx := context.Background()
	require.NoError(t, doBounded(t, ctx, c, Request{Method: http.MethodGet, Path: "status", NoAuth: true}, nil))
	session := Chain(Header("x-session-token", "pst_abc"), Header("x-signature", "sig_def.1700000000000"))
	require.NoError(t, doBounded(t, ctx, c, Request{Method: http.MethodGet, Path: "payor", Auth: session}, nil))
	a := rec.Attempts()
	assert.Empty(t, a[0].Header.Get("X-Api-Key"), "NoAuth request carried x-api-key")
	assert.Empty(t, a[1].Header.Get("X-Api-Key"), "per-request auth headers: %v", a[1].Header)
	assert.Equal(t, "pst_abc", a[1].Header.Get("X-Session-Token"), "per-request auth headers: %v", a[1].Header)
	assert.Equal(t, "sig_def.1700000000000", a[1].Header.Get("X-Signature"), "per-request auth headers: %v", a[1].Header)
}

func TestAuthErrorIsScrubbed(t *testing.T) {
	rec := newRecorder(t)
	cache := NewTokenCache(func(context.Context) (string, time.Time, error) {
		return "", time.Time{}, errors.New("login refused for password hunter2-secret")
	}, 0, nil)
	c := newTestClient(t, Config{Provider: "jovepay", Settings: fastSettings(t, rec.URL), Auth: BearerToken(cache), Secrets: []string{"hunter2-secret"}})
	err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "payment/"}, nil)
	require.Error(t, err, "got %v", err)
	require.NotContains(t, err.Error(), "hunter2-secret", "got %v", err)
	require.Contains(t, err.Error(), "jovepay: authenticate: login refused for password [REDACTED]", "got %v", err)
	assert.Zero(t, rec.Count(), "requests without credentials")
}

func TestStandardHeaders(t *testing.T) {
	rec := newRecorder(t, respond(200, `{}`))
	c := newTestClient(t, Config{Provider: "jopaycheckout", Settings: fastSettings(t, rec.URL)})
	err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "x", Header: http.Header{"X-Extra": {"1"}, "User-Agent": {"ignored"}}}, nil)
	require.NoError(t, err)
	h := rec.Attempts()[0].Header
	got, want := h.Get("User-Agent"), "paykit-go/"+paykit.Version+" (jopaycheckout)"
	assert.Equal(t, want, got, "User-Agent")
	assert.Equal(t, "application/json", h.Get("Accept"), "headers %v", h)
	assert.Equal(t, "1", h.Get("X-Extra"), "headers %v", h)

	s := fastSettings(t, rec.URL)
	require.NoError(t, s.SetUserAgent("acme-shop/2.0"))
	c = newTestClient(t, Config{Settings: s})
	require.NoError(t, doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "x"}, nil))
	assert.Equal(t, "acme-shop/2.0", rec.Attempts()[1].Header.Get("User-Agent"), "overridden User-Agent")
}
