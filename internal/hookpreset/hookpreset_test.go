package hookpreset

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paykit-go/paykit/webhook"
)

type option func(*Config)

// handlerFor builds a handler with c's options whose fn counts its runs in *runs.
func handlerFor(c Config, maxBytes int64, runs *int) http.Handler {
	ep := webhook.Endpoint[string]{
		Verify:  func(http.Header, []byte) error { return nil },
		Parse:   func(b []byte) (string, error) { return string(b), nil },
		EventID: func(_ http.Header, _ []byte, e string) string { return e },
	}
	return webhook.NewHandler(ep, func(context.Context, string) error { *runs++; return nil }, c.HandlerOptions(maxBytes)...)
}

func post(h http.Handler, body string) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body)))
	return rec.Code
}

func TestApplySkipsNilAndKeepsOrder(t *testing.T) {
	d := webhook.NewDeduper(webhook.NewMemoryStore())
	c := Apply([]option{
		nil,
		func(c *Config) { c.Verify = append(c.Verify, webhook.WithMaxPayloadBytes(1)) },
		func(c *Config) { c.Deduper, c.DedupeSet = d, true },
	})
	if len(c.Verify) != 1 || c.Deduper != d || !c.DedupeSet {
		t.Fatalf("Apply = %+v", c)
	}
}

func TestHandlerOptionsDefaultDedupes(t *testing.T) {
	var runs int
	h := handlerFor(Config{}, 1<<10, &runs)
	for i := 0; i < 3; i++ {
		if code := post(h, "evt_1"); code != http.StatusOK {
			t.Fatalf("delivery %d: status %d", i, code)
		}
	}
	if runs != 1 {
		t.Fatalf("fn ran %d times for one event delivered 3 times, want 1", runs)
	}
}

func TestHandlerOptionsNilDeduperTurnsDedupeOff(t *testing.T) {
	var runs int
	h := handlerFor(Config{DedupeSet: true}, 1<<10, &runs)
	post(h, "evt_1")
	post(h, "evt_1")
	if runs != 2 {
		t.Fatalf("fn ran %d times with dedupe off, want 2", runs)
	}
}

func TestHandlerOptionsPayloadLimit(t *testing.T) {
	var runs int
	h := handlerFor(Config{}, 8, &runs)
	if code := post(h, strings.Repeat("x", 9)); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("9-byte body with an 8-byte limit: status %d, want 413", code)
	}
	if runs != 0 {
		t.Fatalf("fn ran for an oversized body")
	}
}
