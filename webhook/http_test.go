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
		if got := webhook.StatusCode(tt.err); got != tt.want {
			t.Errorf("StatusCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
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
		if err != nil || !bytes.Equal(got, exact) {
			t.Fatalf("got (%q, %v), want the whole body", got, err)
		}
	})
	t.Run("unknown length within the limit", func(t *testing.T) {
		got, err := webhook.ReadBody(newRequest(iotest.OneByteReader(bytes.NewReader(exact)), -1), max)
		if err != nil || !bytes.Equal(got, exact) {
			t.Fatalf("got (%q, %v), want the whole body", got, err)
		}
	})
	t.Run("one byte over, unknown length", func(t *testing.T) {
		got, err := webhook.ReadBody(newRequest(bytes.NewReader(over), -1), max)
		if !errors.Is(err, webhook.ErrPayloadTooLarge) || got != nil {
			t.Fatalf("got (%q, %v), want (nil, ErrPayloadTooLarge): never a truncated body", got, err)
		}
	})
	t.Run("Content-Length under-declared", func(t *testing.T) {
		got, err := webhook.ReadBody(newRequest(bytes.NewReader(over), 10), max)
		if !errors.Is(err, webhook.ErrPayloadTooLarge) || got != nil {
			t.Fatalf("got (%q, %v), want (nil, ErrPayloadTooLarge)", got, err)
		}
	})
	t.Run("declared too large is refused before reading", func(t *testing.T) {
		body := iotest.ErrReader(errors.New("must not be read"))
		got, err := webhook.ReadBody(newRequest(body, max+1), max)
		if !errors.Is(err, webhook.ErrPayloadTooLarge) || got != nil {
			t.Fatalf("got (%q, %v), want (nil, ErrPayloadTooLarge)", got, err)
		}
	})
	t.Run("read error", func(t *testing.T) {
		boom := errors.New("connection reset")
		got, err := webhook.ReadBody(newRequest(io.MultiReader(strings.NewReader("{"), iotest.ErrReader(boom)), -1), max)
		if !errors.Is(err, boom) || got != nil || webhook.StatusCode(err) != 500 {
			t.Fatalf("got (%q, %v), want the read error answered 500", got, err)
		}
	})
	t.Run("no body", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		got, err := webhook.ReadBody(r, max)
		if err != nil || len(got) != 0 {
			t.Fatalf("got (%q, %v), want empty", got, err)
		}
	})
	t.Run("the largest max reads the whole body", func(t *testing.T) {
		// max+1 would overflow: the body must still be read, not returned empty.
		for _, cl := range []int64{int64(len(exact)), -1} {
			got, err := webhook.ReadBody(newRequest(bytes.NewReader(exact), cl), math.MaxInt64)
			if err != nil || !bytes.Equal(got, exact) {
				t.Fatalf("Content-Length %d: got (%q, %v), want the whole body", cl, got, err)
			}
		}
	})
	t.Run("a declared length is not allocated before it arrives", func(t *testing.T) {
		// A sender declaring 256 MiB and sending 5 bytes must not cost 256 MiB.
		const declared, limit = 256 << 20, 1 << 30
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		got, err := webhook.ReadBody(newRequest(strings.NewReader("hello"), declared), limit)
		runtime.ReadMemStats(&after)
		if err != nil || string(got) != "hello" {
			t.Fatalf("got (%q, %v), want the 5 bytes sent", got, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
			t.Errorf("allocated %d bytes for a 5-byte body declaring %d", alloc, declared)
		}
	})
	t.Run("non-positive max means the default", func(t *testing.T) {
		big := bytes.Repeat([]byte("c"), 1<<20)
		if got, err := webhook.ReadBody(newRequest(bytes.NewReader(big), -1), 0); err != nil || len(got) != 1<<20 {
			t.Fatalf("1 MiB with default limit: len=%d err=%v", len(got), err)
		}
		big = append(big, 'd')
		if _, err := webhook.ReadBody(newRequest(bytes.NewReader(big), -1), -1); !errors.Is(err, webhook.ErrPayloadTooLarge) {
			t.Fatalf("1 MiB + 1 with default limit: %v", err)
		}
	})
}

func TestVerifyRequest(t *testing.T) {
	now := time.Unix(1767225600, 0)
	v, err := webhook.NewTimestampVerifier("s3cret", webhook.WithClock(func() time.Time { return now }), webhook.WithMaxPayloadBytes(128))
	if err != nil {
		t.Fatal(err)
	}
	if v.MaxPayloadBytes() != 128 {
		t.Fatalf("MaxPayloadBytes = %d", v.MaxPayloadBytes())
	}
	body := []byte(`{"event":"payment.proof_verified"}`)
	r := newRequest(bytes.NewReader(body), int64(len(body)))
	r.Header.Set("X-JoPay-Signature", "v1="+webhook.Sign("s3cret", "1767225600", body)+",t=1767225600")
	got, err := v.VerifyRequest(r, "X-JoPay-Signature")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(body, got); diff != "" {
		t.Fatalf("body (-want +got):\n%s", diff)
	}

	r = newRequest(bytes.NewReader(body), int64(len(body)))
	if _, err := v.VerifyRequest(r, "X-JoPay-Signature"); !errors.Is(err, webhook.ErrMissingSignature) {
		t.Fatalf("no header: %v", err)
	}
	verify := v.VerifyFunc("X-JoPay-Signature")
	h := http.Header{}
	h.Set("x-jopay-signature", "t=1767225600,v1="+webhook.Sign("s3cret", "1767225600", body))
	if err := verify(body, h); err != nil {
		t.Fatalf("VerifyFunc: %v", err)
	}
	if err := verify(body, http.Header{}); !errors.Is(err, webhook.ErrMissingSignature) {
		t.Fatalf("VerifyFunc without header: %v", err)
	}

	big := bytes.Repeat([]byte("x"), 129)
	r = newRequest(bytes.NewReader(big), -1)
	r.Header.Set("X-JoPay-Signature", webhook.SignTimestamp("s3cret", now, big))
	if _, err := v.VerifyRequest(r, "X-JoPay-Signature"); !errors.Is(err, webhook.ErrPayloadTooLarge) {
		t.Fatalf("too large: %v", err)
	}
}
