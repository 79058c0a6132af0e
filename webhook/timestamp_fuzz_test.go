package webhook

import (
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const fuzzSecret = "whsec_fuzz"

// fuzzNow is the verifier clock in the fuzz targets; seeds sign at this time.
func fuzzNow() time.Time { return time.Unix(1767225600, 0) }

// FuzzTimestampHeader feeds arbitrary headers and payloads to Verify: it must never panic, must
// return nil or one of the documented sentinels, and must agree with refVerify, an independent,
// deliberately simple reading of the header rules.
func FuzzTimestampHeader(f *testing.F) {
	payload := []byte(`{"event":"payment.proof_verified"}`)
	good := Sign(fuzzSecret, "1767225600", payload)
	for _, h := range []string{
		"t=1767225600,v1=" + good,
		"v1=" + good + ",t=1767225600",
		" t = 1767225600 , v1 = " + good + " ",
		"t=1767225600,v0=zz,v1=" + good + ",v1=" + good,
		"t=1767225600,v1=" + strings.ToUpper(good),
		"t=1767225000,v1=" + Sign(fuzzSecret, "1767225000", payload),
		"t=abc,v1=00", "t=,v1=", "v1=" + good, "t=1767225600", "t=1,t=2,v1=00", "garbage",
		"=,=", ",,,", "", "t=99999999999999999999999,v1=" + good, "t=1767225600,v1=0",
	} {
		f.Add(h, payload)
	}
	v, err := NewTimestampVerifier(fuzzSecret, WithClock(fuzzNow))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header string, payload []byte) {
		got := v.Verify(payload, header)
		want := refVerify(header, payload)
		require.True(t, sameClass(got, want), "Verify(%q) = %v, reference says %v", header, got, want)
	})
}

// FuzzTimestampRoundTrip signs arbitrary payloads with arbitrary secrets and times: the
// signature must verify in both header orders and stop verifying when a byte changes.
func FuzzTimestampRoundTrip(f *testing.F) {
	f.Add("whsec_current", int64(1767225600), []byte(`{"a":1}`))
	f.Add("s", int64(0), []byte{})
	f.Add("ключ 🔑", int64(1<<39), []byte("\x00\xff binary"))
	f.Fuzz(func(t *testing.T, secret string, unix int64, payload []byte) {
		if secret == "" {
			return
		}
		if unix < 0 {
			unix = -(unix + 1)
		}
		unix %= maxUnix
		at := time.Unix(unix, 0)
		v, err := NewTimestampVerifier(secret, WithClock(func() time.Time { return at }))
		require.NoError(t, err)
		h := SignTimestamp(secret, at, payload)
		require.NoError(t, v.Verify(payload, h), "Verify(SignTimestamp)")
		parts := strings.SplitN(h, ",", 2)
		require.NoError(t, v.Verify(payload, parts[1]+","+parts[0]), "Verify(v1 first)")
		ts := strconv.FormatInt(unix, 10)
		require.NoError(t, v.VerifyAt(payload, ts, at, Sign(secret, ts, payload)), "VerifyAt")
		if len(payload) > 0 {
			tampered := append([]byte(nil), payload...)
			tampered[len(tampered)/2] ^= 0x01
			require.ErrorIs(t, v.Verify(tampered, h), ErrSignatureMismatch, "Verify(tampered)")
		}
	})
}

// refVerify is an independent implementation of the header rules with strings.Split.
func refVerify(header string, payload []byte) error {
	if strings.Trim(header, " \t") == "" {
		return ErrMissingSignature
	}
	var ts []string
	var sigs []string
	for _, e := range strings.Split(header, ",") {
		e = strings.Trim(e, " \t")
		if e == "" {
			continue
		}
		k, val, ok := strings.Cut(e, "=")
		k, val = strings.Trim(k, " \t"), strings.Trim(val, " \t")
		if !ok || k == "" {
			return ErrMalformedSignature
		}
		switch k {
		case "t":
			ts = append(ts, val)
		case "v1":
			if _, err := hex.DecodeString(val); err != nil || val == "" {
				return ErrMalformedSignature
			}
			sigs = append(sigs, val)
		}
	}
	if len(ts) != 1 || len(sigs) == 0 || ts[0] == "" || strings.Trim(ts[0], "0123456789") != "" {
		return ErrMalformedSignature
	}
	want, _ := hex.DecodeString(Sign(fuzzSecret, ts[0], payload))
	matched := false
	for _, s := range sigs {
		b, _ := hex.DecodeString(s)
		matched = matched || hmac.Equal(b, want)
	}
	if !matched {
		return ErrSignatureMismatch
	}
	n, err := strconv.ParseInt(ts[0], 10, 64)
	if err != nil { // out of int64 range: certainly outside the tolerance
		return ErrTimestampOutOfTolerance
	}
	if d := fuzzNow().Unix() - n; d > 300 || d < -300 {
		return ErrTimestampOutOfTolerance
	}
	return nil
}

func sameClass(got, want error) bool {
	if want == nil || got == nil {
		return got == want
	}
	return errors.Is(got, want)
}
