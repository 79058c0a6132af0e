package paykit_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
)

func TestResolveCallOptions(t *testing.T) {
	var info paykit.ResponseInfo
	cfg, err := paykit.ResolveCallOptions(
		paykit.WithIdempotencyKey("first"),
		paykit.WithIdempotencyKey("order-42-attempt-1"),
		paykit.WithHeader("X-Trace", "a"),
		paykit.WithHeader("x-trace", "b"),
		paykit.WithTimeout(3*time.Second),
		paykit.WithMaxRetries(0),
		paykit.WithResponseInfo(&info),
		paykit.CallOption{}, // the zero option does nothing
	)
	require.NoError(t, err)
	want := paykit.CallConfig{
		IdempotencyKey: "order-42-attempt-1",
		Header:         http.Header{"X-Trace": {"a", "b"}},
		Timeout:        3 * time.Second,
		MaxRetries:     0,
		ResponseInfo:   &info,
	}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	assert.Same(t, &info, cfg.ResponseInfo)

	none, err := paykit.ResolveCallOptions()
	require.NoError(t, err)
	assert.Equal(t, paykit.CallConfig{MaxRetries: -1}, none, "no options: the client's retry setting")
}

func TestCallOptionValidation(t *testing.T) {
	for _, tc := range []struct {
		opt   paykit.CallOption
		field string
	}{
		{paykit.WithIdempotencyKey(""), "WithIdempotencyKey"},
		{paykit.WithIdempotencyKey("has space"), "WithIdempotencyKey"},
		{paykit.WithIdempotencyKey("é"), "WithIdempotencyKey"},
		{paykit.WithHeader("", "v"), "WithHeader"},
		{paykit.WithHeader("X:Y", "v"), "WithHeader"},
		{paykit.WithHeader("Authorization", "Bearer x"), "WithHeader"},
		{paykit.WithHeader("x-api-key", "x"), "WithHeader"},
		{paykit.WithHeader("X-Pepay-Signature", "x"), "WithHeader"},
		{paykit.WithHeader("Idempotency-Key", "x"), "WithHeader"},
		{paykit.WithHeader("Content-Length", "1"), "WithHeader"},
		{paykit.WithHeader("X-Ok", "a\nb"), "WithHeader"},
		{paykit.WithTimeout(-time.Second), "WithTimeout"},
		{paykit.WithTimeout(0), "WithTimeout"},
		{paykit.WithMaxRetries(-1), "WithMaxRetries"},
		{paykit.WithMaxRetries(11), "WithMaxRetries"},
		{paykit.WithResponseInfo(nil), "WithResponseInfo"},
	} {
		cfg, err := paykit.ResolveCallOptions(paykit.WithHeader("X-Before", "1"), tc.opt)
		var vErr *paykit.ValidationError
		require.True(t, errors.As(err, &vErr), "%s: want a *ValidationError, got %v", tc.field, err)
		assert.Equal(t, tc.field, vErr.Field)
		assert.Equal(t, paykit.CallConfig{MaxRetries: -1}, cfg, "nothing of a refused list is kept")
	}
	// A secret-looking header value never appears in the error.
	_, err := paykit.ResolveCallOptions(paykit.WithHeader("Authorization", "Bearer sk_live_secret"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "sk_live_secret")
}

func TestRateLimitKnown(t *testing.T) {
	assert.False(t, paykit.RateLimit{Remaining: -1}.Known())
	assert.True(t, paykit.RateLimit{Remaining: 0}.Known())
	assert.True(t, paykit.RateLimit{Limit: 60, Remaining: -1}.Known())
	assert.True(t, paykit.RateLimit{Remaining: -1, Reset: time.Unix(1, 0)}.Known())
}
