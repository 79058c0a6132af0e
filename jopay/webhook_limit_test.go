package jopay_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/webhook"
)

// TestWebhookRaisedPayloadLimit: a limit raised with WithMaxPayloadBytes applies end to end —
// a signed 2 MiB delivery under a 4 MiB limit is verified, parsed and handled, not refused by
// a parser limit the caller cannot see.
func TestWebhookRaisedPayloadLimit(t *testing.T) {
	const secret = "whsec_raised_limit_0123456789abcdef"
	var handled int
	h, err := jopay.NewWebhookHandler(secret, func(context.Context, *jopay.Event) error { handled++; return nil },
		webhook.WithMaxPayloadBytes(4<<20))
	require.NoError(t, err)
	body := apitest.Fixture(t, "webhook_proof_verified.json")
	body = append(bytes.TrimSuffix(bytes.TrimSpace(body), []byte("}")), []byte(`,"pad":"`+strings.Repeat("x", 2<<20)+`"}`)...)
	r := httptest.NewRequest(http.MethodPost, "/webhooks/jopay", bytes.NewReader(body))
	r.Header.Set(jopay.SignatureHeader, webhook.SignTimestamp(secret, time.Now(), body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	require.Equal(t, http.StatusOK, w.Code, "2 MiB delivery under a 4 MiB limit: status; body %q", w.Body.String())
	require.Equal(t, 1, handled, "2 MiB delivery under a 4 MiB limit: times handled")
}
