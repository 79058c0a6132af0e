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

	"github.com/stretchr/testify/require"

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
	require.NoError(t, err)
	body, err := os.ReadFile("testdata/webhook_session_completed.json")
	require.NoError(t, err)
	body = append(bytes.TrimSuffix(bytes.TrimSpace(body), []byte("}")), []byte(`,"pad":"`+strings.Repeat("x", 2<<20)+`"}`)...)
	r := httptest.NewRequest(http.MethodPost, "/webhooks/checkout", bytes.NewReader(body))
	r.Header.Set(jopaycheckout.SignatureHeader, webhook.SignTimestamp(whSecret, time.Now(), body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	require.Equal(t, http.StatusOK, w.Code, "2 MiB delivery under a 4 MiB limit: status; body %q", w.Body.String())
	require.Equal(t, 1, handled, "2 MiB delivery under a 4 MiB limit: times handled")
}
