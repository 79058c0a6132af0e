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
)

func readPaymentIPN(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/sortedjson/payment_ipn.json")
	if err != nil {
		t.Fatal(err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
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
			if _, err := NewSortedJSONVerifier(tc.secret, tc.opts...); !errors.Is(err, ErrEmptySecret) {
				t.Fatalf("got %v, want ErrEmptySecret", err)
			}
		})
	}
	if _, err := NewSortedJSONVerifier("s", WithMaxPayloadBytes(0)); err == nil {
		t.Fatal("WithMaxPayloadBytes(0) accepted")
	}
	v := mustVerifier(t, "s", WithMaxPayloadBytes(2048))
	if got := v.MaxPayloadBytes(); got != 2048 {
		t.Fatalf("MaxPayloadBytes() = %d", got)
	}
	if got := mustVerifier(t, "s").MaxPayloadBytes(); got != DefaultMaxPayloadBytes {
		t.Fatalf("default MaxPayloadBytes() = %d", got)
	}
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
				if err != nil {
					t.Fatal(err)
				}
				texts[string(canonical)] = true
				sig, err := SignSortedJSONForm(secret, body, f)
				if err != nil {
					t.Fatal(err)
				}
				if want := hmacHex(secret, canonical); sig != want {
					t.Fatalf("%s: SignSortedJSONForm = %s, HMAC of the canonical text = %s", f, sig, want)
				}
				for _, s := range []string{sig, strings.ToUpper(sig), " " + sig + "\t"} {
					if err := v.Verify(body, s); err != nil {
						t.Errorf("%s: Verify(%q): %v", f, s, err)
					}
				}
			}
			if name == "arrays and floats" && len(texts) != 3 {
				t.Errorf("expected three different canonical texts, got %d", len(texts))
			}
		})
	}
}

func TestSignSortedJSONIsNodeForm(t *testing.T) {
	body := readPaymentIPN(t)
	sig, err := SignSortedJSON("k", body)
	if err != nil {
		t.Fatal(err)
	}
	node, err := SignSortedJSONForm("k", body, FormNode)
	if err != nil {
		t.Fatal(err)
	}
	canonical, err := CanonicalSortedJSON(body, FormNode)
	if err != nil {
		t.Fatal(err)
	}
	if sig != node || sig != hmacHex("k", canonical) {
		t.Fatalf("SignSortedJSON = %s, Node form = %s, HMAC(canonical) = %s", sig, node, hmacHex("k", canonical))
	}
	// The documented Node program's output for the seed body, as `node sign.js` prints it.
	want := `{"actually_paid":15,"actually_paid_at_fiat":0,"fee":{"currency":"btc","depositFee":0.09853637216235617,"serviceFee":0,"withdrawalFee":0},"invoice_id":null,"order_description":null,"order_id":null,"outcome_amount":14.8106,"outcome_currency":"trx","parent_payment_id":987654321,"pay_address":"address","pay_amount":15,"pay_currency":"trx","payin_extra_id":null,"payment_extra_ids":null,"payment_id":123456789,"payment_status":"finished","price_amount":1,"price_currency":"usd","purchase_id":"123456789"}`
	if diff := cmp.Diff(want, string(canonical)); diff != "" {
		t.Fatalf("Node canonical form (-want +got):\n%s", diff)
	}
}

func TestSortedJSONSignErrors(t *testing.T) {
	if _, err := SignSortedJSON("", []byte(`{}`)); !errors.Is(err, ErrEmptySecret) {
		t.Errorf("empty secret: %v", err)
	}
	if _, err := SignSortedJSONForm(" \n", []byte(`{}`), FormPHP); !errors.Is(err, ErrEmptySecret) {
		t.Errorf("PHP form with a secret that trims to nothing: %v", err)
	}
	if _, err := SignSortedJSONForm(" \n", []byte(`{}`), FormNode); err != nil {
		t.Errorf("Node form uses the secret as is: %v", err)
	}
	if _, err := SignSortedJSON("k", []byte(`{"a":1,"a":2}`)); !errors.Is(err, ErrInvalidPayload) {
		t.Errorf("duplicate keys: %v", err)
	}
	if _, err := SignSortedJSON("k", []byte(`null`)); !errors.Is(err, ErrNoCanonicalForm) {
		t.Errorf("null has no Node form: %v", err)
	}
	if _, err := SignSortedJSONForm("k", []byte(`{}`), SortedJSONForm(7)); err == nil {
		t.Error("unknown form accepted")
	}
	if _, err := CanonicalSortedJSON([]byte(`{}`), SortedJSONForm(-1)); err == nil {
		t.Error("unknown form accepted")
	}
	if got := SortedJSONForm(7).String(); got != "SortedJSONForm(7)" {
		t.Errorf("String() = %q", got)
	}
}

func TestSortedJSONVerifyErrors(t *testing.T) {
	const secret = "ipn-secret"
	v := mustVerifier(t, secret)
	body := []byte(`{"payment_id":1,"payment_status":"finished"}`)
	good, err := SignSortedJSON(secret, body)
	if err != nil {
		t.Fatal(err)
	}
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
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
			if tc.errText != "" && !strings.Contains(err.Error(), tc.errText) {
				t.Fatalf("Verify: %q does not mention %q", err, tc.errText)
			}
		})
	}
}

// TestSortedJSONDepthLimit checks the boundary: 64 levels are fine, 65 are not.
func TestSortedJSONDepthLimit(t *testing.T) {
	ok := strings.Repeat(`[`, MaxSortedJSONDepth) + strings.Repeat(`]`, MaxSortedJSONDepth)
	if _, err := CanonicalSortedJSON([]byte(ok), FormPython); err != nil {
		t.Fatalf("depth %d: %v", MaxSortedJSONDepth, err)
	}
	tooDeep := `{"a":` + ok + `}`
	if _, err := CanonicalSortedJSON([]byte(tooDeep), FormPython); !errors.Is(err, ErrInvalidPayload) {
		t.Fatalf("depth %d: %v", MaxSortedJSONDepth+1, err)
	}
}

func TestSortedJSONSecretRotation(t *testing.T) {
	body := readPaymentIPN(t)
	v := mustVerifier(t, "new-secret", WithPreviousSecrets("old-secret", "older-secret"))
	for _, secret := range []string{"new-secret", "old-secret", "older-secret"} {
		for _, f := range []SortedJSONForm{FormNode, FormPHP, FormPython} {
			sig, err := SignSortedJSONForm(secret, body, f)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Verify(body, sig); err != nil {
				t.Errorf("%s form under %s: %v", f, secret, err)
			}
		}
	}
	sig, _ := SignSortedJSON("retired-secret", body)
	if err := v.Verify(body, sig); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("unknown secret: %v, want ErrSignatureMismatch", err)
	}
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
		if err := v.Verify(body, tc.sig); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if sig, _ := SignSortedJSONForm(secret, body, FormPHP); sig != hmacHex(trimmed, php) {
		t.Errorf("SignSortedJSONForm(PHP) does not trim the secret")
	}
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
				if !errors.Is(err, ErrNoCanonicalForm) {
					t.Errorf("%s form of %s: %v, want ErrNoCanonicalForm", f, tc.body, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s form of %s: %v", f, tc.body, err)
				continue
			}
			if err := v.Verify([]byte(tc.body), sig); err != nil {
				t.Errorf("Verify %s form of %s: %v", f, tc.body, err)
			}
		}
	}
	// The JSON.stringify of "{}" would verify the body 5 under Node; HMAC("") never does.
	if err := v.Verify([]byte(`{"a":1e400}`), hmacHex(secret, nil)); !errors.Is(err, ErrInvalidPayload) {
		t.Errorf("overflowing number with PHP's empty-string signature: %v, want ErrInvalidPayload", err)
	}
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
			if !errors.Is(err, tc.want) {
				t.Fatalf("VerifyRequest: %v, want %v", err, tc.want)
			}
			if diff := cmp.Diff(tc.wantOut, got); diff != "" {
				t.Fatalf("body (-want +got):\n%s", diff)
			}
			if code := StatusCode(err); (err == nil && code != 200) || (err != nil && code/100 != 4) {
				t.Fatalf("StatusCode(%v) = %d", err, code)
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
		if err == nil {
			t.Fatal("expected an error")
		}
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error %q contains a secret", err)
			}
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
			if err != nil {
				t.Fatal(err)
			}
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
				if err := v.Verify(c.body, c.sig); err != nil {
					t.Error(err)
					return
				}
				if err := v.Verify(c.body, strings.Repeat("1", 128)); !errors.Is(err, ErrSignatureMismatch) {
					t.Error(err)
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
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(200, func() {
			if err := v.Verify(body, sig); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s form: %v allocations per Verify", f, n)
		}
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
				if err != nil {
					t.Fatal(err)
				}
				if err := v.Verify([]byte(b), sig); err != nil {
					t.Fatalf("round %d, %s form of %s: %v", round, f, b, err)
				}
			}
		}
	}
}
