package webhook_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/paykit-go/paykit/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStatusCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 200},
		{webhook.ErrDuplicate, 200},
		{webhook.ErrInFlight, 503},
		{webhook.ErrPayloadTooLarge, 413},
		{webhook.ErrMissingSignature, 400},
		{webhook.ErrMalformedSignature, 400},
		{webhook.ErrSignatureMismatch, 400},
		{webhook.ErrTimestampOutOfTolerance, 400},
		{webhook.ErrInvalidPayload, 400},
		{fmt.Errorf("wrapped: %w", webhook.ErrSignatureMismatch), 400},
		{fmt.Errorf("wrapped: %w", webhook.ErrInFlight), 503},
		{webhook.ErrEmptySecret, 500},
		{webhook.ErrEmptyEventID, 500},
		{webhook.ErrClaimLost, 500},
		{errors.New("handler failed"), 500},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, webhook.StatusCode(tt.err), "StatusCode(%v)", tt.err)
	}
}

func newRequest(body io.Reader, contentLength int64) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/webhook", body)
	r.ContentLength = contentLength
	return r
}

func TestReadBody(t *testing.T) {
	const max = 64
	exact := bytes.Repeat([]byte("a"), max)
	over := bytes.Repeat([]byte("b"), max+1)

	t.Run("exactly the limit", func(t *testing.T) {
		got, err := webhook.ReadBody(newRequest(bytes.NewReader(exact), max), max)
		require.NoError(t, err)
		require.Equal(t, exact, got, "want the whole body")
	})
	t.Run("unknown length within the limit", func(t *testing.T) {
		got, err := webhook.ReadBody(newRequest(iotest.OneByteReader(bytes.NewReader(exact)), -1), max)
		require.NoError(t, err)
		require.Equal(t, exact, got, "want the whole body")
	})
	t.Run("one byte over, unknown length", func(t *testing.T) {
		got, err := webhook.ReadBody(newRequest(bytes.NewReader(over), -1), max)
		require.ErrorIs(t, err, webhook.ErrPayloadTooLarge)
		require.Nil(t, got, "never a truncated body")
	})
	t.Run("Content-Length under-declared", func(t *testing.T) {
		got, err := webhook.ReadBody(newRequest(bytes.NewReader(over), 10), max)
		require.ErrorIs(t, err, webhook.ErrPayloadTooLarge)
		require.Nil(t, got, "never a truncated body")
	})
	t.Run("declared too large is refused before reading", func(t *testing.T) {
		body := iotest.ErrReader(errors.New("must not be read"))
		got, err := webhook.ReadBody(newRequest(body, max+1), max)
		require.ErrorIs(t, err, webhook.ErrPayloadTooLarge)
		require.Nil(t, got, "never a truncated body")
	})
	t.Run("read error", func(t *testing.T) {
		boom := errors.New("connection reset")
		got, err := webhook.ReadBody(newRequest(io.MultiReader(strings.NewReader("{"), iotest.ErrReader(boom)), -1), max)
		require.ErrorIs(t, err, boom)
		require.Nil(t, got)
		require.Equal(t, 500, webhook.StatusCode(err), "want the read error answered 500")
	})
	t.Run("no body", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		got, err := webhook.ReadBody(r, max)
		require.NoError(t, err)
		require.Empty(t, got)
	})
	t.Run("the largest max reads the whole body", func(t *testing.T) {
		// max+1 would overflow: the body must still be read, not returned empty.
		for _, cl := range []int64{int64(len(exact)), -1} {
			got, err := webhook.ReadBody(newRequest(bytes.NewReader(exact), cl), math.MaxInt64)
			require.NoError(t, err, "Content-Length %d", cl)
			require.Equal(t, exact, got, "Content-Length %d: want the whole body", cl)
		}
	})
	t.Run("a declared length is not allocated before it arrives", func(t *testing.T) {
		// A sender declaring 256 MiB and sending 5 bytes must not cost 256 MiB.
		const declared, limit = 256 << 20, 1 << 30
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		got, err := webhook.ReadBody(newRequest(strings.NewReader("hello"), declared), limit)
		runtime.ReadMemStats(&after)
		require.NoError(t, err)
		require.Equal(t, "hello", string(got), "want the 5 bytes sent")
		alloc := after.TotalAlloc - before.TotalAlloc
		assert.LessOrEqual(t, alloc, uint64(8<<20), "allocated bytes for a 5-byte body declaring %d", declared)
	})
	t.Run("non-positive max means the default", func(t *testing.T) {
		big := bytes.Repeat([]byte("c"), 1<<20)
		got, err := webhook.ReadBody(newRequest(bytes.NewReader(big), -1), 0)
		require.NoError(t, err, "1 MiB with default limit")
		require.Len(t, got, 1<<20, "1 MiB with default limit")
		big = append(big, 'd')
		_, err = webhook.ReadBody(newRequest(bytes.NewReader(big), -1), -1)
		require.ErrorIs(t, err, webhook.ErrPayloadTooLarge, "1 MiB + 1 with default limit")
	})
}

func TestVerifyRequest(t *testing.T) {
	now := time.Unix(1767225600, 0)
	v, err := webhook.NewTimestampVerifier("s3cret", webhook.WithClock(func() time.Time { return now }), webhook.WithMaxPayloadBytes(128))
	require.NoError(t, err)
	require.Equal(t, int64(128), v.MaxPayloadBytes(), "MaxPayloadBytes")
	body := []byte(`{"event":"payment.proof_verified"}`)
	r := newRequest(bytes.NewReader(body), int64(len(body)))
	r.Header.Set("X-JoPay-Signature", "v1="+webhook.Sign("s3cret", "1767225600", body)+",t=1767225600")
	got, err := v.VerifyRequest(r, "X-JoPay-Signature")
	require.NoError(t, err)
	if diff := cmp.Diff(body, got); diff != "" {
		t.Fatalf("body (-want +got):\n%s", diff)
	}

	r = newRequest(bytes.NewReader(body), int64(len(body)))
	_, err = v.VerifyRequest(r, "X-JoPay-Signature")
	require.ErrorIs(t, err, webhook.ErrMissingSignature, "no header")
	verify := v.VerifyFunc("X-JoPay-Signature")
	h := http.Header{}
	h.Set("x-jopay-signature", "t=1767225600,v1="+webhook.Sign("s3cret", "1767225600", body))
	require.NoError(t, verify(body, h), "VerifyFunc")
	require.ErrorIs(t, verify(body, http.Header{}), webhook.ErrMissingSignature, "VerifyFunc without header")

	big := bytes.Repeat([]byte("x"), 129)
	r = newRequest(bytes.NewReader(big), -1)
	r.Header.Set("X-JoPay-Signature", webhook.SignTimestamp("s3cret", now, big))
	_, err = v.VerifyRequest(r, "X-JoPay-Signature")
	require.ErrorIs(t, err, webhook.ErrPayloadTooLarge, "too large")
}
