package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readPaymentIPN(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/sortedjson/payment_ipn.json")
	require.NoError(t, err)
	return b
}

// hmacHex is an independent HMAC-SHA512 for checking signatures.
func hmacHex(key string, msg []byte) string {
	h := hmac.New(sha512.New, []byte(key))
	h.Write(msg)
	return hex.EncodeToString(h.Sum(nil))
}

func mustVerifier(t testing.TB, secret string, opts ...Option) *SortedJSONVerifier {
	t.Helper()
	v, err := NewSortedJSONVerifier(secret, opts...)
	require.NoError(t, err)
	return v
}

func TestNewSortedJSONVerifierRefusesEmptySecrets(t *testing.T) {
	for name, tc := range map[string]struct {
		secret string
		opts   []Option
	}{
		"empty":                        {"", nil},
		"only whitespace":              {" \t\r\n", nil},
		"only PHP trim chars":          {"\x00\x0b ", nil},
		"empty previous":               {"s", []Option{WithPreviousSecrets("")}},
		"whitespace-only previous":     {"s", []Option{WithPreviousSecrets("old", "  ")}},
		"whitespace-only, previous ok": {"\n", []Option{WithPreviousSecrets("old")}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewSortedJSONVerifier(tc.secret, tc.opts...)
			require.ErrorIs(t, err, ErrEmptySecret)
		})
	}
	_, err := NewSortedJSONVerifier("s", WithMaxPayloadBytes(0))
	require.Error(t, err, "WithMaxPayloadBytes(0) accepted")
	v := mustVerifier(t, "s", WithMaxPayloadBytes(2048))
	require.Equal(t, int64(2048), v.MaxPayloadBytes(), "MaxPayloadBytes()")
	require.Equal(t, DefaultMaxPayloadBytes, mustVerifier(t, "s").MaxPayloadBytes(), "default MaxPayloadBytes()")
}

// TestSortedJSONVerifyEachForm signs the seed's payment IPN the way each reference program
// does (secret handling included) and checks that Verify accepts all three, and that the
// three texts really differ for a body with arrays and floats.
func TestSortedJSONVerifyEachForm(t *testing.T) {
	const secret = "ipn-secret"
	bodies := map[string][]byte{
		"payment IPN":       readPaymentIPN(t),
		"arrays and floats": []byte(`{"ids":[3,1],"amount":1.50,"memo":"café </b>","big":12345678901234567890,"empty":{}}`),
	}
	v := mustVerifier(t, secret)
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			texts := map[string]bool{}
			for _, f := range []SortedJSONForm{FormNode, FormPHP, FormPython} {
				canonical, err := CanonicalSortedJSON(body, f)
				require.NoError(t, err)
				texts[string(canonical)] = true
				sig, err := SignSortedJSONForm(secret, body, f)
				require.NoError(t, err)
				want := hmacHex(secret, canonical)
				require.Equal(t, want, sig, "%s: SignSortedJSONForm = %s, HMAC of the canonical text = %s", f, sig, want)
				for _, s := range []string{sig, strings.ToUpper(sig), " " + sig + "\t"} {
					assert.NoError(t, v.Verify(body, s), "%s: Verify(%q)", f, s)
				}
			}
			if name == "arrays and floats" {
				assert.Len(t, texts, 3, "expected three different canonical texts")
			}
		})
	}
}

func TestSignSortedJSONIsNodeForm(t *testing.T) {
	body := readPaymentIPN(t)
	sig, err := SignSortedJSON("k", body)
	require.NoError(t, err)
	node, err := SignSortedJSONForm("k", body, FormNode)
	require.NoError(t, err)
	canonical, err := CanonicalSortedJSON(body, FormNode)
	require.NoError(t, err)
	require.Equal(t, node, sig, "SignSortedJSON differs from the Node form")
	require.Equal(t, hmacHex("k", canonical), sig, "SignSortedJSON differs from HMAC(canonical)")
	// The documented Node program's output for the seed body, as `node sign.js` prints it.
	want := `{"actually_paid":15,"actually_paid_at_fiat":0,"fee":{"currency":"btc","depositFee":0.09853637216235617,"serviceFee":0,"withdrawalFee":0},"invoice_id":null,"order_description":null,"order_id":null,"outcome_amount":14.8106,"outcome_currency":"trx","parent_payment_id":987654321,"pay_address":"address","pay_amount":15,"pay_currency":"trx","payin_extra_id":null,"payment_extra_ids":null,"payment_id":123456789,"payment_status":"finished","price_amount":1,"price_currency":"usd","purchase_id":"123456789"}`
	if diff := cmp.Diff(want, string(canonical)); diff != "" {
		t.Fatalf("Node canonical form (-want +got):\n%s", diff)
	}
}

func TestSortedJSONSignErrors(t *testing.T) {
	_, err := SignSortedJSON("", []byte(`{}`))
	assert.ErrorIs(t, err, ErrEmptySecret, "empty secret")
	_, err = SignSortedJSONForm(" \n", []byte(`{}`), FormPHP)
	assert.ErrorIs(t, err, ErrEmptySecret, "PHP form with a secret that trims to nothing")
	_, err = SignSortedJSONForm(" \n", []byte(`{}`), FormNode)
	assert.NoError(t, err, "Node form uses the secret as is")
	_, err = SignSortedJSON("k", []byte(`{"a":1,"a":2}`))
	assert.ErrorIs(t, err, ErrInvalidPayload, "duplicate keys")
	_, err = SignSortedJSON("k", []byte(`null`))
	assert.ErrorIs(t, err, ErrNoCanonicalForm, "null has no Node form")
	_, err = SignSortedJSONForm("k", []byte(`{}`), SortedJSONForm(7))
	assert.Error(t, err, "unknown form accepted")
	_, err = CanonicalSortedJSON([]byte(`{}`), SortedJSONForm(-1))
	assert.Error(t, err, "unknown form accepted")
	assert.Equal(t, "SortedJSONForm(7)", SortedJSONForm(7).String(), "String()")
}

func TestSortedJSONVerifyErrors(t *testing.T) {
	const secret = "ipn-secret"
	v := mustVerifier(t, secret)
	body := []byte(`{"payment_id":1,"payment_status":"finished"}`)
	good, err := SignSortedJSON(secret, body)
	require.NoError(t, err)
	zeros := strings.Repeat("0", 128)
	for _, tc := range []struct {
		name    string
		body    string
		sig     string
		want    error
		errText string // substring of the error, for ErrInvalidPayload reasons
	}{
		{"empty signature", string(body), "", ErrMissingSignature, ""},
		{"blank signature", string(body), "  \t", ErrMissingSignature, ""},
		{"SHA-256 length", string(body), good[:64], ErrMalformedSignature, "got 64 characters"},
		{"not hex", string(body), "g" + good[1:], ErrMalformedSignature, "not hex"},
		{"wrong signature", string(body), zeros, ErrSignatureMismatch, ""},
		{"other body", `{"payment_id":2,"payment_status":"finished"}`, good, ErrSignatureMismatch, ""},
		{"empty body", ``, good, ErrInvalidPayload, "empty body"},
		{"whitespace body", " \n", good, ErrInvalidPayload, "empty body"},
		{"not JSON", `payment_id=1`, good, ErrInvalidPayload, "unexpected character"},
		{"single quotes", `{'a':1}`, good, ErrInvalidPayload, "expected a string key"},
		{"trailing data", `{"a":1}{"a":2}`, good, ErrInvalidPayload, "trailing data"},
		{"trailing garbage", `{"a":1}x`, good, ErrInvalidPayload, "trailing data"},
		{"truncated", `{"a":[1,2`, good, ErrInvalidPayload, "unterminated array"},
		{"unterminated string", `{"a":"x`, good, ErrInvalidPayload, "unterminated string"},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", good, ErrInvalidPayload, "invalid UTF-8"},
		{"UTF-8 encoded surrogate", "{\"a\":\"\xed\xa0\x80\"}", good, ErrInvalidPayload, "invalid UTF-8"},
		{"overlong UTF-8", "{\"a\":\"\xc0\xaf\"}", good, ErrInvalidPayload, "invalid UTF-8"},
		{"byte order mark", "\ufeff{}", good, ErrInvalidPayload, "unexpected character"},
		{"raw control char", "{\"a\":\"\x01\"}", good, ErrInvalidPayload, "control character"},
		{"bad escape", `{"a":"\x"}`, good, ErrInvalidPayload, "invalid escape"},
		{"short unicode escape", `{"a":"\u12"}`, good, ErrInvalidPayload, "invalid \\u escape"},
		{"duplicate key", `{"a":1,"b":2,"a":3}`, good, ErrInvalidPayload, "duplicate object key"},
		{"duplicate key via escape", `{"a":1,"\u0061":2}`, good, ErrInvalidPayload, "duplicate object key"},
		{"nested duplicate key", `{"x":[{"k":1,"k":1}]}`, good, ErrInvalidPayload, "duplicate object key"},
		{"too deep", strings.Repeat(`{"a":`, 65) + "1" + strings.Repeat("}", 65), good, ErrInvalidPayload, "nesting deeper than 64"},
		{"number overflow", `{"a":-1.8e308}`, good, ErrInvalidPayload, "float64 range"},
		{"NaN", `{"a":NaN}`, good, ErrInvalidPayload, "unexpected character"},
		{"Infinity", `{"a":Infinity}`, good, ErrInvalidPayload, "unexpected character"},
		{"leading zero", `[01]`, good, ErrInvalidPayload, "expected ',' or ']'"},
		{"bare minus", `[-]`, good, ErrInvalidPayload, "invalid number"},
		{"dot without digits", `[1.]`, good, ErrInvalidPayload, "invalid number"},
		{"exponent without digits", `[1e+]`, good, ErrInvalidPayload, "invalid number"},
		{"plus sign", `[+1]`, good, ErrInvalidPayload, "unexpected character"},
		{"bad literal", `[tru]`, good, ErrInvalidPayload, "invalid literal"},
		{"missing colon", `{"a" 1}`, good, ErrInvalidPayload, "expected ':'"},
		{"trailing comma", `[1,]`, good, ErrInvalidPayload, "unexpected character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := v.Verify([]byte(tc.body), tc.sig)
			require.ErrorIs(t, err, tc.want, "Verify")
			if tc.errText != "" {
				require.Contains(t, err.Error(), tc.errText, "Verify")
			}
		})
	}
}

// TestSortedJSONDepthLimit checks the boundary: 64 levels are fine, 65 are not.
func TestSortedJSONDepthLimit(t *testing.T) {
	ok := strings.Repeat(`[`, MaxSortedJSONDepth) + strings.Repeat(`]`, MaxSortedJSONDepth)
	_, err := CanonicalSortedJSON([]byte(ok), FormPython)
	require.NoError(t, err, "depth %d", MaxSortedJSONDepth)
	tooDeep := `{"a":` + ok + `}`
	_, err = CanonicalSortedJSON([]byte(tooDeep), FormPython)
	require.ErrorIs(t, err, ErrInvalidPayload, "depth %d", MaxSortedJSONDepth+1)
}

func TestSortedJSONSecretRotation(t *testing.T) {
	body := readPaymentIPN(t)
	v := mustVerifier(t, "new-secret", WithPreviousSecrets("old-secret", "older-secret"))
	for _, secret := range []string{"new-secret", "old-secret", "older-secret"} {
		for _, f := range []SortedJSONForm{FormNode, FormPHP, FormPython} {
			sig, err := SignSortedJSONForm(secret, body, f)
			require.NoError(t, err)
			assert.NoError(t, v.Verify(body, sig), "%s form under %s", f, secret)
		}
	}
	sig, _ := SignSortedJSON("retired-secret", body)
	assert.ErrorIs(t, v.Verify(body, sig), ErrSignatureMismatch, "unknown secret")
}

// TestSortedJSONSecretTrimming pins which reference trims the secret: only PHP's
// (hash_hmac(..., trim($secret))). A Node- or Python-form text signed with the trimmed
// secret, or a PHP-form text signed with the untrimmed one, is no program's output.
func TestSortedJSONSecretTrimming(t *testing.T) {
	const secret = " ipn-secret\n"
	const trimmed = "ipn-secret"
	body := []byte(`{"ids":[3,1],"amount":1.0}`) // all three forms differ
	v := mustVerifier(t, secret)
	node, _ := CanonicalSortedJSON(body, FormNode)
	php, _ := CanonicalSortedJSON(body, FormPHP)
	python, _ := CanonicalSortedJSON(body, FormPython)
	for _, tc := range []struct {
		name string
		sig  string
		want error
	}{
		{"node, secret as given", hmacHex(secret, node), nil},
		{"python, secret as given", hmacHex(secret, python), nil},
		{"php, trimmed secret", hmacHex(trimmed, php), nil},
		{"node, trimmed secret", hmacHex(trimmed, node), ErrSignatureMismatch},
		{"python, trimmed secret", hmacHex(trimmed, python), ErrSignatureMismatch},
		{"php, untrimmed secret", hmacHex(secret, php), ErrSignatureMismatch},
	} {
		assert.ErrorIs(t, v.Verify(body, tc.sig), tc.want, "%s", tc.name)
	}
	sig, _ := SignSortedJSONForm(secret, body, FormPHP)
	assert.Equal(t, hmacHex(trimmed, php), sig, "SignSortedJSONForm(PHP) does not trim the secret")
}

// TestSortedJSONFormAvailability pins bodies on which a reference program fails: Verify
// still accepts the programs that succeed and nothing else.
func TestSortedJSONFormAvailability(t *testing.T) {
	const secret = "k"
	v := mustVerifier(t, secret)
	for _, tc := range []struct {
		body   string
		failed []SortedJSONForm
	}{
		{`null`, []SortedJSONForm{FormNode, FormPHP}},
		{`5`, []SortedJSONForm{FormPHP}},
		{`"text"`, []SortedJSONForm{FormPHP}},
		{`{"a":"\ud800"}`, []SortedJSONForm{FormPHP}},
		{`[]`, nil},
	} {
		for _, f := range []SortedJSONForm{FormNode, FormPHP, FormPython} {
			failed := false
			for _, ff := range tc.failed {
				failed = failed || ff == f
			}
			sig, err := SignSortedJSONForm(secret, []byte(tc.body), f)
			if failed {
				assert.ErrorIs(t, err, ErrNoCanonicalForm, "%s form of %s", f, tc.body)
				continue
			}
			if !assert.NoError(t, err, "%s form of %s", f, tc.body) {
				continue
			}
			assert.NoError(t, v.Verify([]byte(tc.body), sig), "Verify %s form of %s", f, tc.body)
		}
	}
	// The JSON.stringify of "{}" would verify the body 5 under Node; HMAC("") never does.
	assert.ErrorIs(t, v.Verify([]byte(`{"a":1e400}`), hmacHex(secret, nil)), ErrInvalidPayload, "overflowing number with PHP's empty-string signature")
}

func TestSortedJSONVerifyRequest(t *testing.T) {
	const secret = "ipn-secret"
	body := readPaymentIPN(t)
	sig, _ := SignSortedJSON(secret, body)
	v := mustVerifier(t, secret, WithMaxPayloadBytes(int64(len(body))))
	for _, tc := range []struct {
		name    string
		header  string // VerifyRequest's argument
		set     string // header the request carries the signature in
		body    []byte
		want    error
		wantOut []byte
	}{
		{"default header", "", "X-Jovepay-Sig", body, nil, body},
		{"lowercase header on the wire", "", "x-jovepay-sig", body, nil, body},
		{"NOWPayments header", "", "x-nowpayments-sig", body, nil, body},
		{"named header", "X-Custom-Sig", "X-Custom-Sig", body, nil, body},
		{"named header absent", "X-Custom-Sig", "X-Jovepay-Sig", body, ErrMissingSignature, nil},
		{"no header", "", "", body, ErrMissingSignature, nil},
		{"tampered body", "", "X-Jovepay-Sig", bytes.Replace(body, []byte("finished"), []byte("refunded"), 1), ErrSignatureMismatch, nil},
		{"too large", "", "X-Jovepay-Sig", append(append([]byte{}, body...), ' '), ErrPayloadTooLarge, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/ipn", bytes.NewReader(tc.body))
			if tc.set != "" {
				r.Header.Set(tc.set, sig)
			}
			got, err := v.VerifyRequest(r, tc.header)
			require.ErrorIs(t, err, tc.want, "VerifyRequest")
			if diff := cmp.Diff(tc.wantOut, got); diff != "" {
				t.Fatalf("body (-want +got):\n%s", diff)
			}
			if code := StatusCode(err); err == nil {
				require.Equal(t, 200, code, "StatusCode(nil)")
			} else {
				require.Equal(t, 4, code/100, "StatusCode(%v) = %d", err, code)
			}
		})
	}
}

// TestSortedJSONErrorsDoNotLeakSecrets collects every error a verifier returns and checks
// that none mentions a secret.
func TestSortedJSONErrorsDoNotLeakSecrets(t *testing.T) {
	secrets := []string{"s3cr3t-current-7f2a", "s3cr3t-previous-91bc"}
	v := mustVerifier(t, secrets[0], WithPreviousSecrets(secrets[1]))
	body := []byte(`{"a":1}`)
	var errs []error
	for _, tc := range []struct{ body, sig string }{
		{string(body), ""},
		{string(body), "abc"},
		{string(body), strings.Repeat("z", 128)},
		{string(body), strings.Repeat("0", 128)},
		{`{"a":1,"a":2}`, strings.Repeat("0", 128)},
		{"\xff", strings.Repeat("0", 128)},
	} {
		errs = append(errs, v.Verify([]byte(tc.body), tc.sig))
	}
	_, err := NewSortedJSONVerifier(secrets[0], WithPreviousSecrets("   "))
	errs = append(errs, err)
	_, err = SignSortedJSON(secrets[0], []byte(`nul`))
	errs = append(errs, err)
	for _, err := range errs {
		require.Error(t, err, "expected an error")
		for _, s := range secrets {
			assert.NotContains(t, err.Error(), s, "error %q contains a secret", err)
		}
	}
}

func TestSortedJSONConcurrentVerify(t *testing.T) {
	v := mustVerifier(t, "k", WithPreviousSecrets("old"))
	bodies := [][]byte{readPaymentIPN(t), []byte(`{"a":[1,2,{"b":"é"}]}`), []byte(`[{"1":1,"0":0}]`)}
	type signed struct {
		body []byte
		sig  string
	}
	var cases []signed
	for _, b := range bodies {
		for _, f := range []SortedJSONForm{FormNode, FormPHP, FormPython} {
			sig, err := SignSortedJSONForm("old", b, f)
			require.NoError(t, err)
			cases = append(cases, signed{b, sig})
		}
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				c := cases[(g+i)%len(cases)]
				if !assert.NoError(t, v.Verify(c.body, c.sig)) {
					return
				}
				if !assert.ErrorIs(t, v.Verify(c.body, strings.Repeat("1", 128)), ErrSignatureMismatch) {
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestSortedJSONVerifyAllocs checks that steady-state verification allocates nothing, whichever
// form matches.
func TestSortedJSONVerifyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	body := readPaymentIPN(t)
	v := mustVerifier(t, "k")
	for _, f := range []SortedJSONForm{FormNode, FormPython, FormPHP} {
		sig, err := SignSortedJSONForm("k", body, f)
		require.NoError(t, err)
		n := testing.AllocsPerRun(200, func() {
			if err := v.Verify(body, sig); err != nil { // plain check: the closure is measured
				t.Fatal(err)
			}
		})
		assert.Zero(t, n, "%s form: allocations per Verify", f)
	}
}

// TestSortedJSONPooledStateIsReset verifies bodies of very different shapes back to back on
// one verifier, so leftovers from a previous parse would show.
func TestSortedJSONPooledStateIsReset(t *testing.T) {
	v := mustVerifier(t, "k")
	bodies := []string{`{"b":{"c":[1,2,3]},"a":"\u00e9\ud800"}`, `[]`, `{"z":1}`, `"s"`, `{"a":{"a":{"a":{}}}}`, `{"a":"x","b":"y"}`}
	for round := 0; round < 3; round++ {
		for _, b := range bodies {
			for _, f := range []SortedJSONForm{FormNode, FormPHP, FormPython} {
				sig, err := SignSortedJSONForm("k", []byte(b), f)
				if errors.Is(err, ErrNoCanonicalForm) {
					continue
				}
				require.NoError(t, err)
				require.NoError(t, v.Verify([]byte(b), sig), "round %d, %s form of %s", round, f, b)
			}
		}
	}
}

// AppendCanonical gives CanonicalSortedJSON's text and errors in every form, appended to dst,
// from any goroutine; the fast path and the general one both feed it.
func TestAppendCanonicalMatchesCanonical(t *testing.T) {
	v, err := NewSortedJSONVerifier("ipn-secret")
	require.NoError(t, err)
	bodies := append([]string{string(readPaymentIPN(t)), `{"b":[1,2],"a":1.0,"é":"x","z":{}}`,
		`{"a":9.10,"b":{"d":[0.20,3],"c":"x"}}`, "{\"a\":\"\xff\"}", `{"a":1e400}`, `{"a":1,"a":2}`,
		strings.Repeat("[", MaxSortedJSONDepth+1) + strings.Repeat("]", MaxSortedJSONDepth+1), ``},
		fuzzSeeds...)
	forms := []SortedJSONForm{FormNode, FormPHP, FormPython}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, body := range bodies {
				for _, form := range forms {
					want, wantErr := CanonicalSortedJSON([]byte(body), form)
					dst := []byte("dst:")
					got, gotErr := v.AppendCanonical(dst, []byte(body), form)
					if wantErr != nil {
						assert.EqualError(t, gotErr, wantErr.Error(), "%s form of %q", form, body)
						assert.Equal(t, "dst:", string(got), "dst changed on error for %q", body)
						continue
					}
					assert.NoError(t, gotErr, "%s form of %q", form, body)
					assert.Equal(t, "dst:"+string(want), string(got), "%s form of %q", form, body)
				}
			}
		}()
	}
	wg.Wait()
	_, err = v.AppendCanonical(nil, []byte(`{}`), SortedJSONForm(7))
	assert.Error(t, err, "an unknown form")
}

// The Node form of a payment IPN reuses the verifier's buffers: nothing is allocated when dst
// has room.
func TestAppendCanonicalAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	v, err := NewSortedJSONVerifier("ipn-secret")
	require.NoError(t, err)
	body := readPaymentIPN(t)
	dst := make([]byte, 0, 2*len(body))
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := v.AppendCanonical(dst[:0], body, FormNode); err != nil {
			panic(err)
		}
	})
	assert.Zero(t, allocs)
}
