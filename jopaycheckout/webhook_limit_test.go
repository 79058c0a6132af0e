package jopaycheckout_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/webhook"
)

// TestWebhookRaisedPayloadLimit: a limit raised with WithMaxPayloadBytes applies end to end —
// a signed 2 MiB delivery under a 4 MiB limit is verified, parsed and handled, not refused by
// a parser limit the caller cannot see.
func TestWebhookRaisedPayloadLimit(t *testing.T) {
	var handled int
	h, err := jopaycheckout.NewWebhookHandler(whSecret, func(context.Context, *jopaycheckout.Event) error { handled++; return nil },
		webhook.WithMaxPayloadBytes(4<<20))
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("testdata/webhook_session_completed.json")
	if err != nil {
		t.Fatal(err)
	}
	body = append(bytes.TrimSuffix(bytes.TrimSpace(body), []byte("}")), []byte(`,"pad":"`+strings.Repeat("x", 2<<20)+`"}`)...)
	r := httptest.NewRequest(http.MethodPost, "/webhooks/checkout", bytes.NewReader(body))
	r.Header.Set(jopaycheckout.SignatureHeader, webhook.SignTimestamp(whSecret, time.Now(), body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || handled != 1 {
		t.Fatalf("2 MiB delivery under a 4 MiB limit: status %d, handled %d times; body %q", w.Code, handled, w.Body.String())
	}
}
