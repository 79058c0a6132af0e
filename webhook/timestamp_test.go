package webhook

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	testSecret     = "whsec_current_0123456789abcdef"
	testPrevSecret = "whsec_previous_fedcba9876543210"
)

var (
	testNow     = time.Unix(1767225600, 0)
	testPayload = []byte(`{"event":"payment.proof_verified","delivery_id":"4f1c2a9e","request_id":"7b2e"}`)
)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func newTestVerifier(t *testing.T, opts ...Option) *TimestampVerifier {
	t.Helper()
	opts = append([]Option{WithClock(fixedClock(testNow))}, opts...)
	v, err := NewTimestampVerifier(testSecret, opts...)
	require.NoError(t, err, "NewTimestampVerifier")
	return v
}

func TestSignKnownVector(t *testing.T) {
	// Computed independently: printf '1767225600.{"a":1}' | openssl dgst -sha256 -hmac secret
	got := Sign("secret", "1767225600", []byte(`{"a":1}`))
	want := "96a067a1c95eb143fc00b9097bcfcbcd5456adda508c443ff219748e764dbed7"
	require.Equal(t, want, got, "Sign")
}

func TestSignTimestampFormat(t *testing.T) {
	h := SignTimestamp(testSecret, testNow, testPayload)
	want := "t=1767225600,v1=" + Sign(testSecret, "1767225600", testPayload)
	require.Equal(t, want, h, "SignTimestamp")
}

func TestNewTimestampVerifierErrors(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		opts   []Option
		want   error
	}{
		{"empty secret", "", nil, ErrEmptySecret},
		{"empty previous secret", "s", []Option{WithPreviousSecrets("old", "")}, ErrEmptySecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewTimestampVerifier(tt.secret, tt.opts...)
			require.ErrorIs(t, err, tt.want)
			require.Nil(t, v)
		})
	}
	for name, opt := range map[string]Option{
		"zero tolerance":     WithTolerance(0),
		"negative tolerance": WithTolerance(-time.Second),
		"nil clock":          WithClock(nil),
		"zero max payload":   WithMaxPayloadBytes(0),
	} {
		t.Run(name, func(t *testing.T) {
			v, err := NewTimestampVerifier("s", opt)
			require.Error(t, err)
			require.Nil(t, v)
		})
	}
}

func TestVerifyHeaders(t *testing.T) {
	ts := "1767225600"
	sig := Sign(testSecret, ts, testPayload)
	prevSig := Sign(testPrevSecret, ts, testPayload)
	otherSig := Sign("some other secret", ts, testPayload)
	v := newTestVerifier(t)

	tests := []struct {
		name   string
		header string
		want   error
	}{
		{"checkout order t first", "t=" + ts + ",v1=" + sig, nil},
		{"partner order v1 first", "v1=" + sig + ",t=" + ts, nil},
		{"spaces tolerated", "  v1 = " + sig + " ,\tt= " + ts + " ", nil},
		{"uppercase hex", "t=" + ts + ",v1=" + strings.ToUpper(sig), nil},
		{"multiple v1 second matches", "t=" + ts + ",v1=" + otherSig + ",v1=" + sig, nil},
		{"multiple v1 first matches", "t=" + ts + ",v1=" + sig + ",v1=" + otherSig, nil},
		{"unknown schemes ignored", "t=" + ts + ",v0=not-hex!,v2=zz,v1=" + sig + ",scheme=x", nil},
		{"empty entries tolerated", ",t=" + ts + ",,v1=" + sig + ",", nil},
		{"short v1 skipped, long one matches", "t=" + ts + ",v1=abcd,v1=" + sig, nil},
		{"many v1, match beyond the inline ones", "t=" + ts + strings.Repeat(",v1="+otherSig, 6) + ",v1=" + sig, nil},

		{"empty header", "", ErrMissingSignature},
		{"blank header", "   ", ErrMissingSignature},

		{"no t", "v1=" + sig, ErrMalformedSignature},
		{"no v1", "t=" + ts, ErrMalformedSignature},
		{"only unknown schemes", "t=" + ts + ",v0=" + sig, ErrMalformedSignature},
		{"non-numeric t", "t=abc,v1=" + sig, ErrMalformedSignature},
		{"negative t", "t=-1,v1=" + sig, ErrMalformedSignature},
		{"fractional t", "t=1767225600.5,v1=" + sig, ErrMalformedSignature},
		{"empty t", "t=,v1=" + sig, ErrMalformedSignature},
		{"two t", "t=" + ts + ",t=" + ts + ",v1=" + sig, ErrMalformedSignature},
		{"entry without =", "t=" + ts + ",v1=" + sig + ",garbage", ErrMalformedSignature},
		{"empty key", "t=" + ts + ",=x,v1=" + sig, ErrMalformedSignature},
		{"non-hex v1", "t=" + ts + ",v1=" + strings.Repeat("g", 64), ErrMalformedSignature},
		{"odd-length v1", "t=" + ts + ",v1=" + sig[:63], ErrMalformedSignature},
		{"empty v1", "t=" + ts + ",v1=", ErrMalformedSignature},
		{"non-hex v1 after a good one", "t=" + ts + ",v1=" + sig + ",v1=xyz", ErrMalformedSignature},
		{"semicolon separated", "t=" + ts + ";v1=" + sig, ErrMalformedSignature},

		{"wrong secret", "t=" + ts + ",v1=" + otherSig, ErrSignatureMismatch},
		{"previous secret not configured", "t=" + ts + ",v1=" + prevSig, ErrSignatureMismatch},
		{"signature for another timestamp", "t=1767225601,v1=" + sig, ErrSignatureMismatch},
		{"leading zero changes signed text", "t=0" + ts + ",v1=" + sig, ErrSignatureMismatch},
		{"truncated then padded", "t=" + ts + ",v1=" + sig[:62] + "00", ErrSignatureMismatch},
		{"too long v1", "t=" + ts + ",v1=" + sig + "00", ErrSignatureMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Verify(testPayload, tt.header)
			require.ErrorIs(t, err, tt.want, "Verify(%q)", tt.header)
		})
	}
}

func TestVerifyTamperedPayload(t *testing.T) {
	v := newTestVerifier(t)
	h := SignTimestamp(testSecret, testNow, testPayload)
	tampered := []byte(strings.Replace(string(testPayload), "7b2e", "7b2f", 1))
	require.ErrorIs(t, v.Verify(tampered, h), ErrSignatureMismatch, "Verify(tampered)")
	require.ErrorIs(t, v.Verify(nil, h), ErrSignatureMismatch, "Verify(nil)")
}

func TestVerifyRotation(t *testing.T) {
	v := newTestVerifier(t, WithPreviousSecrets(testPrevSecret))
	for name, secret := range map[string]string{"current": testSecret, "previous": testPrevSecret} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, v.Verify(testPayload, SignTimestamp(secret, testNow, testPayload)), "Verify with %s secret", name)
		})
	}
	require.ErrorIs(t, v.Verify(testPayload, SignTimestamp("unrelated", testNow, testPayload)), ErrSignatureMismatch, "Verify with unrelated secret")
}

func TestVerifyTolerance(t *testing.T) {
	const tol = 2 * time.Minute
	tests := []struct {
		name   string
		signed time.Time
		want   error
	}{
		{"now", testNow, nil},
		{"stale at the boundary", testNow.Add(-tol), nil},
		{"future at the boundary", testNow.Add(tol), nil},
		{"stale by one second", testNow.Add(-tol - time.Second), ErrTimestampOutOfTolerance},
		{"future by one second", testNow.Add(tol + time.Second), ErrTimestampOutOfTolerance},
		{"epoch", time.Unix(0, 0), ErrTimestampOutOfTolerance},
		{"far future", time.Unix(1<<40, 0), ErrTimestampOutOfTolerance},
	}
	v := newTestVerifier(t, WithTolerance(tol))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Verify(testPayload, SignTimestamp(testSecret, tt.signed, testPayload))
			require.ErrorIs(t, err, tt.want, "Verify")
		})
	}
}

func TestVerifyDefaultTolerance(t *testing.T) {
	v := newTestVerifier(t)
	require.Equal(t, 5*time.Minute, v.Tolerance(), "default tolerance")
	require.NoError(t, v.Verify(testPayload, SignTimestamp(testSecret, testNow.Add(-5*time.Minute), testPayload)), "5m old")
	require.ErrorIs(t, v.Verify(testPayload, SignTimestamp(testSecret, testNow.Add(5*time.Minute+time.Second), testPayload)), ErrTimestampOutOfTolerance, "5m1s ahead")
}

func TestVerifyHugeTimestamp(t *testing.T) {
	v := newTestVerifier(t)
	ts := strings.Repeat("9", 40) // would overflow int64
	h := "t=" + ts + ",v1=" + Sign(testSecret, ts, testPayload)
	require.ErrorIs(t, v.Verify(testPayload, h), ErrTimestampOutOfTolerance, "Verify(huge t)")
}

func TestVerifyClockInjection(t *testing.T) {
	now := testNow
	v, err := NewTimestampVerifier(testSecret, WithClock(func() time.Time { return now }))
	require.NoError(t, err)
	h := SignTimestamp(testSecret, testNow, testPayload)
	require.NoError(t, v.Verify(testPayload, h), "at signing time")
	now = testNow.Add(10 * time.Minute)
	require.ErrorIs(t, v.Verify(testPayload, h), ErrTimestampOutOfTolerance, "10 minutes later")
}

func TestVerifyAt(t *testing.T) {
	const tsMillis = "1767225600123"
	signedAt := time.UnixMilli(1767225600123)
	sig := Sign(testSecret, tsMillis, testPayload)
	prevSig := Sign(testPrevSecret, tsMillis, testPayload)
	v := newTestVerifier(t, WithPreviousSecrets(testPrevSecret))
	vNoPrev := newTestVerifier(t)

	tests := []struct {
		name string
		v    *TimestampVerifier
		ts   string
		at   time.Time
		sigs []string
		want error
	}{
		{"current signature", v, tsMillis, signedAt, []string{sig}, nil},
		{"current plus previous header", v, tsMillis, signedAt, []string{sig, prevSig}, nil},
		{"only previous matches", v, tsMillis, signedAt, []string{"00" + sig[2:], prevSig}, nil},
		{"previous in the first position", v, tsMillis, signedAt, []string{prevSig, ""}, nil},
		{"spaces trimmed", v, " " + tsMillis + " ", signedAt, []string{" " + sig + " "}, nil},
		{"previous not configured", vNoPrev, tsMillis, signedAt, []string{"", prevSig}, ErrSignatureMismatch},
		{"no signatures", v, tsMillis, signedAt, nil, ErrMissingSignature},
		{"empty signatures", v, tsMillis, signedAt, []string{"", " "}, ErrMissingSignature},
		{"empty timestamp", v, "", signedAt, []string{sig}, ErrMalformedSignature},
		{"non-hex signature", v, tsMillis, signedAt, []string{"zz"}, ErrMalformedSignature},
		{"seconds text not what was signed", v, "1767225600", signedAt, []string{sig}, ErrSignatureMismatch},
		{"stale", v, tsMillis, testNow.Add(-5*time.Minute - time.Millisecond), []string{sig}, ErrTimestampOutOfTolerance},
		{"future", v, tsMillis, testNow.Add(5*time.Minute + time.Millisecond), []string{sig}, ErrTimestampOutOfTolerance},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.v.VerifyAt(testPayload, tt.ts, tt.at, tt.sigs...)
			require.ErrorIs(t, err, tt.want, "VerifyAt")
		})
	}
}

func TestVerifyErrorsNeverContainSecrets(t *testing.T) {
	v := newTestVerifier(t, WithPreviousSecrets(testPrevSecret))
	headers := []string{"", "t=x,v1=00", "t=1,v1=zz", "t=1767225600,v1=" + strings.Repeat("0", 64),
		SignTimestamp(testSecret, testNow.Add(time.Hour), testPayload)}
	for _, h := range headers {
		err := v.Verify(testPayload, h)
		require.Error(t, err, "Verify(%q) succeeded", h)
		for _, s := range []string{testSecret, testPrevSecret} {
			require.NotContains(t, err.Error(), s, "error %q leaks a secret", err)
		}
	}
}

func TestVerifyAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates; counted in the non-race run")
	}
	v := newTestVerifier(t, WithPreviousSecrets(testPrevSecret))
	h := "v1=" + Sign(testPrevSecret, "1767225600", benchBody) + ",t=1767225600"
	_ = v.Verify(benchBody, h) // warm the pools
	allocs := testing.AllocsPerRun(200, func() {
		if err := v.Verify(benchBody, h); err != nil { // plain check: the closure is measured
			t.Fatal(err)
		}
	})
	require.LessOrEqual(t, allocs, 1.0, "Verify allocations per call")
}

func TestVerifyConcurrent(t *testing.T) {
	v := newTestVerifier(t, WithPreviousSecrets(testPrevSecret))
	done := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func(g int) {
			for i := 0; i < 200; i++ {
				body := []byte(strconv.Itoa(g*1000 + i))
				secret := testSecret
				if i%2 == 1 {
					secret = testPrevSecret
				}
				if err := v.Verify(body, SignTimestamp(secret, testNow, body)); err != nil {
					done <- err
					return
				}
				if err := v.Verify(body, SignTimestamp("wrong", testNow, body)); !errors.Is(err, ErrSignatureMismatch) {
					done <- err
					return
				}
			}
			done <- nil
		}(g)
	}
	for g := 0; g < 8; g++ {
		require.NoError(t, <-done)
	}
}
