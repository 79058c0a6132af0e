package transport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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
			if err := doBounded(t, context.Background(), c, kind.req, nil); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"Bearer jwt-1", "Bearer jwt-2"}, authHeaders(rec, "Authorization")); diff != "" {
				t.Errorf("Authorization per attempt (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"jp_key_0001", "jp_key_0001"}, authHeaders(rec, "X-Api-Key")); diff != "" {
				t.Errorf("x-api-key per attempt (-want +got):\n%s", diff)
			}
			if l.n.Load() != 2 {
				t.Errorf("%d logins, want 2 (the first and one re-auth)", l.n.Load())
			}
			a := rec.Attempts()
			if string(a[0].Body) != string(a[1].Body) {
				t.Errorf("re-auth attempt sent a different body: %s vs %s", a[0].Body, a[1].Body)
			}
		})
	}
}

func TestReauthOnlyOnce(t *testing.T) {
	rec := newRecorder(t, acceptToken("never"))
	var l logins
	c := newTestClient(t, Config{Provider: "jovepay", Settings: fastSettings(t, rec.URL), Auth: BearerToken(NewTokenCache(l.fetch, 0, nil))})
	err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "payment/"}, nil)
	var apiErr *paykit.Error
	if !errors.As(err, &apiErr) || apiErr.Status != 401 || apiErr.Code != "AUTH_REQUIRED" {
		t.Fatalf("got %v", err)
	}
	if rec.Count() != 2 || l.n.Load() != 2 {
		t.Fatalf("%d attempts and %d logins, want 2 and 2", rec.Count(), l.n.Load())
	}
	// The cache still holds the second token: the next call does not log in again first.
	_ = doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "payment/"}, nil)
	if got := authHeaders(rec, "Authorization")[2]; got != "Bearer jwt-2" {
		t.Errorf("third call sent %q", got)
	}
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
			if !paykit.IsCode(err, "unauthorized") || rec.Count() != 1 {
				t.Fatalf("got %v after %d attempts", err, rec.Count())
			}
		})
	}
}

func TestNoAuthAndPerRequestAuth(t *testing.T) {
	rec := newRecorder(t, respond(200, `{}`))
	c := newTestClient(t, Config{Provider: "pepay", Settings: fastSettings(t, rec.URL), Auth: Header("x-api-key", "pk_merchant")})
	ctx := context.Background()
	if err := doBounded(t, ctx, c, Request{Method: http.MethodGet, Path: "status", NoAuth: true}, nil); err != nil {
		t.Fatal(err)
	}
	session := Chain(Header("x-session-token", "pst_abc"), Header("x-signature", "sig_def.1700000000000"))
	if err := doBounded(t, ctx, c, Request{Method: http.MethodGet, Path: "payor", Auth: session}, nil); err != nil {
		t.Fatal(err)
	}
	a := rec.Attempts()
	if a[0].Header.Get("X-Api-Key") != "" {
		t.Errorf("NoAuth request carried x-api-key")
	}
	if a[1].Header.Get("X-Api-Key") != "" || a[1].Header.Get("X-Session-Token") != "pst_abc" || a[1].Header.Get("X-Signature") != "sig_def.1700000000000" {
		t.Errorf("per-request auth headers: %v", a[1].Header)
	}
}

func TestAuthErrorIsScrubbed(t *testing.T) {
	rec := newRecorder(t)
	cache := NewTokenCache(func(context.Context) (string, time.Time, error) {
		return "", time.Time{}, errors.New("login refused for password hunter2-secret")
	}, 0, nil)
	c := newTestClient(t, Config{Provider: "jovepay", Settings: fastSettings(t, rec.URL), Auth: BearerToken(cache), Secrets: []string{"hunter2-secret"}})
	err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "payment/"}, nil)
	if err == nil || strings.Contains(err.Error(), "hunter2-secret") || !strings.Contains(err.Error(), "jovepay: authenticate: login refused for password [REDACTED]") {
		t.Fatalf("got %v", err)
	}
	if rec.Count() != 0 {
		t.Errorf("sent %d requests without credentials", rec.Count())
	}
}

func TestStandardHeaders(t *testing.T) {
	rec := newRecorder(t, respond(200, `{}`))
	c := newTestClient(t, Config{Provider: "jopaycheckout", Settings: fastSettings(t, rec.URL)})
	err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "x", Header: http.Header{"X-Extra": {"1"}, "User-Agent": {"ignored"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := rec.Attempts()[0].Header
	if got, want := h.Get("User-Agent"), "paykit-go/"+paykit.Version+" (jopaycheckout)"; got != want {
		t.Errorf("User-Agent %q, want %q", got, want)
	}
	if h.Get("Accept") != "application/json" || h.Get("X-Extra") != "1" {
		t.Errorf("headers %v", h)
	}

	s := fastSettings(t, rec.URL)
	if err := s.SetUserAgent("acme-shop/2.0"); err != nil {
		t.Fatal(err)
	}
	c = newTestClient(t, Config{Settings: s})
	if err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "x"}, nil); err != nil {
		t.Fatal(err)
	}
	if got := rec.Attempts()[1].Header.Get("User-Agent"); got != "acme-shop/2.0" {
		t.Errorf("overridden User-Agent %q", got)
	}
}
