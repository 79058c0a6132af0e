package jovepay_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/jovepay/jovepaytest"
	"github.com/paykit-go/paykit/webhook"
)

const secret = "ipn-secret-for-tests"

// edgyIPN is a payment IPN whose Node, PHP and Python canonical forms all differ: an array
// (Node turns it into an object), non-ASCII text (PHP and Python escape it), 1e-7 (written
// 1e-7, 1.0e-7 and 1e-07), 1.0 and an empty object.
var edgyIPN = []byte(`{"payment_id":5000000123,"payment_status":"finished","pay_amount":1.0,"actually_paid":1e-7,` +
	`"pay_currency":"btc","order_id":"Ä-1","order_description":"café / <b>","payment_extra_ids":[5,2],"meta":{}}`)

func TestEdgyIPNFormsDiffer(t *testing.T) {
	seen := map[string]webhook.SortedJSONForm{}
	for _, f := range []webhook.SortedJSONForm{webhook.FormNode, webhook.FormPHP, webhook.FormPython} {
		c, err := webhook.CanonicalSortedJSON(edgyIPN, f)
		require.NoError(t, err)
		other, dup := seen[string(c)]
		require.False(t, dup, "%s and %s forms agree; the fixture no longer tells them apart", f, other)
		seen[string(c)] = f
	}
}

func TestIPNVerifier(t *testing.T) {
	v, err := jovepay.NewIPNVerifier(secret)
	require.NoError(t, err)
	for _, f := range []webhook.SortedJSONForm{webhook.FormNode, webhook.FormPHP, webhook.FormPython} {
		sig, err := webhook.SignSortedJSONForm(secret, edgyIPN, f)
		require.NoError(t, err)
		for _, h := range []string{"x-jovepay-sig", "X-NOWPAYMENTS-SIG"} {
			assert.NoError(t, v.Verify(edgyIPN, http.Header{http.CanonicalHeaderKey(h): {sig}}), "%s form in %s", f, h)
		}
		assert.NoError(t, v.VerifySignature(edgyIPN, strings.ToUpper(sig)), "%s form, upper-case hex", f)
		tampered := []byte(strings.Replace(string(edgyIPN), "1e-7", "2e-7", 1))
		assert.ErrorIs(t, v.VerifySignature(tampered, sig), webhook.ErrSignatureMismatch, "%s form, tampered body", f)
	}
	assert.ErrorIs(t, v.Verify(edgyIPN, http.Header{}), webhook.ErrMissingSignature, "no header")
	other, _ := webhook.SignSortedJSON("another-secret", edgyIPN)
	assert.ErrorIs(t, v.VerifySignature(edgyIPN, other), webhook.ErrSignatureMismatch, "wrong secret")
	// A wrong signature in the first header does not hide a right one in the second.
	good, _ := webhook.SignSortedJSON(secret, edgyIPN)
	h := http.Header{"X-Jovepay-Sig": {other}, "X-Nowpayments-Sig": {good}}
	assert.NoError(t, v.Verify(edgyIPN, h), "second header")

	_, err = jovepay.NewIPNVerifier("")
	assert.ErrorIs(t, err, webhook.ErrEmptySecret, "empty secret")
}

func TestIPNVerifierOptions(t *testing.T) {
	raw := func(key string, body []byte) string {
		m := hmac.New(sha256.New, []byte(key))
		m.Write(body)
		return hex.EncodeToString(m.Sum(nil))
	}
	body := []byte(`{"payment_id":1,"payment_status":"finished"}`)

	strict, _ := jovepay.NewIPNVerifier(secret)
	assert.Error(t, strict.VerifySignature(body, raw(secret, body)), "raw-body HMAC-SHA256 accepted without opting in")
	lax, err := jovepay.NewIPNVerifier(secret, webhook.WithRawBodyFallback(), webhook.WithPreviousSecrets("old-secret"))
	require.NoError(t, err)
	for _, key := range []string{secret, "old-secret"} {
		assert.NoError(t, lax.VerifySignature(body, raw(key, body)), "raw fallback with %s", key)
		sig, _ := webhook.SignSortedJSON(key, body)
		assert.NoError(t, lax.VerifySignature(body, sig), "sorted JSON with %s", key)
	}
	assert.Error(t, lax.VerifySignature(body, raw("nope", body)), "raw fallback accepted a wrong key")

	custom, _ := jovepay.NewIPNVerifier(secret, webhook.WithSignatureHeaders("X-My-Proxy-Sig"))
	sig, _ := webhook.SignSortedJSON(secret, body)
	assert.ErrorIs(t, custom.Verify(body, http.Header{"X-Jovepay-Sig": {sig}}), webhook.ErrMissingSignature, "custom header ignores the default")
	assert.NoError(t, custom.Verify(body, http.Header{"X-My-Proxy-Sig": {sig}}), "custom header")
	// WithLogger is a handler option: a verifier refuses it.
	for _, bad := range []webhook.Option{webhook.WithSignatureHeaders(), webhook.WithSignatureHeaders(" "),
		webhook.WithPreviousSecrets(""), webhook.WithMaxPayloadBytes(0), webhook.WithLogger(nil)} {
		_, err := jovepay.NewIPNVerifier(secret, bad)
		assert.Error(t, err, "invalid option accepted")
	}
}

// receiver is an IPN endpoint on 127.0.0.1 built with NewIPNHandler that records what the
// application function saw.
type receiver struct {
	mu   sync.Mutex
	seen []string // "id:status"
	fail int      // fail the next n calls
	url  string
}

func newReceiver(t *testing.T, ipnSecret string) *receiver {
	t.Helper()
	rc := &receiver{}
	h, err := jovepay.NewIPNHandler(ipnSecret, func(_ context.Context, ipn *jovepay.IPN) error {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if rc.fail > 0 {
			rc.fail--
			return errors.New("database down")
		}
		rc.seen = append(rc.seen, fmt.Sprintf("%s:%s", ipn.Payment.ID, ipn.Payment.Status))
		return nil
	})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	rc.url = srv.URL + "/ipn"
	return rc
}

func (rc *receiver) Seen() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.seen...)
}

func TestIPNHandlerWithFake(t *testing.T) {
	ctx := context.Background()
	for _, form := range []webhook.SortedJSONForm{webhook.FormNode, webhook.FormPHP, webhook.FormPython} {
		t.Run(form.String(), func(t *testing.T) {
			srv, c := newFake(t, jovepaytest.WithIPNSecret(secret), jovepaytest.WithSignatureForm(form))
			rc := newReceiver(t, secret)
			p := order("D-1")
			p.IPNCallbackURL = rc.url
			pay, err := c.CreatePayment(ctx, p)
			require.NoError(t, err)
			_, err = srv.Pay(ctx, pay.ID)
			require.NoError(t, err)
			_, err = srv.Redeliver(ctx, pay.ID) // a duplicate
			require.NoError(t, err)
			id := pay.ID.String()
			want := []string{id + ":confirming", id + ":confirmed", id + ":sending", id + ":finished"}
			got := rc.Seen()
			assert.Equal(t, fmt.Sprint(want), fmt.Sprint(got), "handled")
			dels := srv.Deliveries()
			require.Len(t, dels, 5, "deliveries")
			for i, d := range dels {
				assert.True(t, d.Delivered, "delivery %d: %+v", i, d)
				if assert.Len(t, d.Attempts, 1, "delivery %d: %+v", i, d) {
					assert.Equal(t, 200, d.Attempts[0].Status, "delivery %d: %+v", i, d)
				}
			}
			// The crafted body whose three canonical forms differ verifies too.
			d := srv.DeliverIPN(ctx, rc.url, edgyIPN)
			assert.True(t, d.Delivered, "edgy IPN in %s form: %+v", form, d.Attempts)
		})
	}
}

func TestIPNHandlerRetriesAndRejects(t *testing.T) {
	ctx := context.Background()
	srv, c := newFake(t, jovepaytest.WithIPNSecret(secret))
	rc := newReceiver(t, secret)
	p := order("D-2")
	p.IPNCallbackURL = rc.url
	pay, err := c.CreatePayment(ctx, p)
	require.NoError(t, err)
	rc.fail = 1 // the first run fails: answered 500, JovePay re-sends, the second run succeeds
	_, err = srv.SetStatus(ctx, pay.ID, jovepay.StatusConfirming)
	require.NoError(t, err)
	d := srv.Deliveries()[0]
	assert.True(t, d.Delivered, "delivery %+v, want 500 then 200", d.Attempts)
	if assert.Len(t, d.Attempts, 2, "delivery %+v, want 500 then 200", d.Attempts) {
		assert.Equal(t, 500, d.Attempts[0].Status, "delivery %+v, want 500 then 200", d.Attempts)
	}
	assert.Len(t, rc.Seen(), 1, "handled")

	// Signed with another secret: refused with 400 on every attempt, the app never sees it.
	bad := newReceiver(t, "not-the-secret")
	p.OrderID, p.IPNCallbackURL = "D-3", bad.url
	pay2, err := c.CreatePayment(ctx, p)
	require.NoError(t, err)
	_, err = srv.SetStatus(ctx, pay2.ID, jovepay.StatusExpired)
	require.NoError(t, err)
	all := srv.Deliveries()
	last := all[len(all)-1]
	assert.False(t, last.Delivered, "bad-signature delivery %+v", last.Attempts)
	if assert.Len(t, last.Attempts, 4, "bad-signature delivery %+v", last.Attempts) {
		assert.Equal(t, 400, last.Attempts[3].Status, "bad-signature delivery %+v", last.Attempts)
	}
	assert.Empty(t, bad.Seen(), "a forged IPN reached the application")
}

func TestNewIPNHandlerValidation(t *testing.T) {
	fn := func(context.Context, *jovepay.IPN) error { return nil }
	_, err := jovepay.NewIPNHandler("", fn)
	assert.ErrorIs(t, err, webhook.ErrEmptySecret, "empty secret")
	_, err = jovepay.NewIPNHandler(secret, nil)
	assert.Error(t, err, "nil fn accepted")
	h, err := jovepay.NewIPNHandler(secret, fn, webhook.WithDeduper(nil), webhook.WithMaxPayloadBytes(64))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/ipn", strings.NewReader(strings.Repeat(" ", 100))))
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code, "oversized body")
	rec = httptest.NewRecorder()
	body := `[1,2]`
	sig, _ := webhook.SignSortedJSON(secret, []byte(body))
	req := httptest.NewRequest("POST", "/ipn", strings.NewReader(body))
	req.Header.Set("x-jovepay-sig", sig)
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code, "signed non-object body")
}

// finishedIPN is a genuine finished-payment IPN (the API reference's example with a ten-digit
// id). Its "…" makes the Node form differ from the PHP and Python forms.
const finishedIPN = `{"payment_id":5077125051,"parent_payment_id":null,"invoice_id":null,"payment_status":"finished",` +
	`"pay_address":"TQ7x…","payin_extra_id":null,"price_amount":25,"price_currency":"usd","pay_amount":25.31,` +
	`"actually_paid":25.31,"pay_currency":"usdttrc20","order_id":"A-1001","order_description":"Plan",` +
	`"purchase_id":"5120098877","outcome_amount":24.9,"outcome_currency":"usdttrc20",` +
	`"fee":{"currency":"usdttrc20","depositFee":0.2,"withdrawalFee":0,"serviceFee":0.21}}`

// finishedIPNASCII is a finished IPN whose three canonical forms are the same text, so a
// signature made in any form verifies every body whose Node form matches.
const finishedIPNASCII = `{"payment_id":5077125051,"payment_status":"finished","price_amount":25,"price_currency":"usd",` +
	`"actually_paid":25,"pay_currency":"usdttrc20","order_id":"A-1001"}`

var allForms = []webhook.SortedJSONForm{webhook.FormNode, webhook.FormPHP, webhook.FormPython}

// reverseMembers re-encodes a JSON object with its top-level members in reverse order.
func reverseMembers(t *testing.T, body string) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	require.NoError(t, err, "not an object")
	require.Equal(t, json.Delim('{'), tok, "not an object")
	var members []string
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		var v json.RawMessage
		require.NoError(t, dec.Decode(&v))
		kb, _ := json.Marshal(k)
		members = append([]string{string(kb) + ":" + string(v)}, members...)
	}
	return "{" + strings.Join(members, ",") + "}"
}

// ipnReplays are re-encodings of a captured IPN an attacker can send: the id written as a
// float, in exponent form, with trailing zeros; whitespace; key order; string escapes.
func ipnReplays(t *testing.T, body string) map[string]string {
	t.Helper()
	id := func(s string) string { return strings.Replace(body, `"payment_id":5077125051`, `"payment_id":`+s, 1) }
	var indented bytes.Buffer
	require.NoError(t, json.Indent(&indented, []byte(body), " ", "\t"))
	escaped := strings.Replace(body, `"finished"`, `"\u0066inished"`, 1)
	all := strings.Replace(reverseMembers(t, escaped), `"payment_id":5077125051`, `"payment_id" : 5.077125051E+9`, 1)
	return map[string]string{
		"id 5077125051.0":   id("5077125051.0"),
		"id 5.077125051e9":  id("5.077125051e9"),
		"id 5077125051.00":  id("5077125051.00"),
		"whitespace":        "\n" + indented.String() + " \r\n",
		"key order":         reverseMembers(t, body),
		`\u0066inished`:     escaped,
		"all of the above":  all,
		"id with 20 digits": id("5077125051.0000000001"),
	}
}

// TestIPNReplayReencodedRunsOnce: a captured, genuinely signed finished IPN replayed with its
// payment_id re-encoded (or with other changes the canonical form erases) still verifies, and
// the handler function still runs once: the dedupe key follows the canonical form, not the raw
// number text. Each signature form is tried, including the cross-form case: a Python-signed
// body whose Node form equals its Python form verifies a replay through the Node form.
func TestIPNReplayReencodedRunsOnce(t *testing.T) {
	v, err := jovepay.NewIPNVerifier(secret)
	require.NoError(t, err)
	for _, genuine := range []string{finishedIPN, finishedIPNASCII} {
		ascii := genuine == finishedIPNASCII
		for _, form := range allForms {
			sig, err := webhook.SignSortedJSONForm(secret, []byte(genuine), form)
			require.NoError(t, err)
			var runs atomic.Int32
			h, err := jovepay.NewIPNHandler(secret, func(context.Context, *jovepay.IPN) error { runs.Add(1); return nil },
				webhook.WithDeduper(webhook.NewDeduper(webhook.NewMemoryStore())))
			require.NoError(t, err)
			post := func(body string) (int, string) {
				r := httptest.NewRequest(http.MethodPost, "/ipn", strings.NewReader(body))
				r.Header.Set("x-jovepay-sig", sig)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				return w.Code, strings.TrimSpace(w.Body.String())
			}
			code, text := post(genuine)
			require.Equal(t, 200, code, "ascii=%v %s: genuine IPN: %s", ascii, form, text)
			require.Equal(t, "ok", text, "ascii=%v %s: genuine IPN: %d", ascii, form, code)
			for name, replay := range ipnReplays(t, genuine) {
				verifies := v.VerifySignature([]byte(replay), sig) == nil
				if form == webhook.FormNode || ascii {
					assert.True(t, verifies, "ascii=%v %s, %s: the replay does not verify; the test no longer exercises the attack", ascii, form, name)
				}
				code, text := post(replay)
				if verifies {
					assert.Equal(t, 200, code, "ascii=%v %s, %s: verified replay answered %s", ascii, form, name, text)
					assert.Equal(t, "duplicate", text, "ascii=%v %s, %s: verified replay answered %d", ascii, form, name, code)
				} else {
					assert.Equal(t, 400, code, "ascii=%v %s, %s: unverifiable replay answered %s", ascii, form, name, text)
				}
			}
			assert.Equal(t, int32(1), runs.Load(), "ascii=%v %s: one finished IPN fulfilled", ascii, form)
		}
	}

	// An IPN of an unknown shape is keyed by a hash of its canonical form, not of its raw bytes.
	unknown := `{"event":"balance_changed","amount":1,"ids":[1,2]}`
	sig, _ := webhook.SignSortedJSON(secret, []byte(unknown))
	var runs atomic.Int32
	h, _ := jovepay.NewIPNHandler(secret, func(context.Context, *jovepay.IPN) error { runs.Add(1); return nil })
	for _, body := range []string{unknown, ` { "ids" : { "1" : 2.0, "0" : 1 }, "amount" : 1.0, "event" : "balance_changed" } `} {
		r := httptest.NewRequest(http.MethodPost, "/ipn", strings.NewReader(body))
		r.Header.Set("x-jovepay-sig", sig)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		assert.Equal(t, 200, w.Code, "%s %s", body, w.Body)
	}
	assert.Equal(t, int32(1), runs.Load(), "unknown-shape IPN and its re-encoding ran the handler")
}

// jv is a JSON value the property test re-encodes: kind 'o' object, 'a' array, 's' string,
// 'n' number (text), 'l' literal.
type jv struct {
	kind    byte
	text    string
	members []jm
	elems   []jv
}

type jm struct {
	key string
	val jv
}

func obj(m ...jm) jv        { return jv{kind: 'o', members: m} }
func arr(e ...jv) jv        { return jv{kind: 'a', elems: e} }
func str(s string) jv       { return jv{kind: 's', text: s} }
func num(s string) jv       { return jv{kind: 'n', text: s} }
func lit(s string) jv       { return jv{kind: 'l', text: s} }
func mem(k string, v jv) jm { return jm{k, v} }

func plainEncode(v jv) string {
	var b strings.Builder
	(&reencoder{}).value(&b, v)
	return b.String()
}

// reencoder writes a jv with random choices that keep its canonical forms, or with rng nil
// compactly and plainly. mutate is the chance per number of a change that alters the value.
type reencoder struct {
	rng    *rand.Rand
	mutate float64
}

func (e *reencoder) chance(p float64) bool { return e.rng != nil && e.rng.Float64() < p }

func (e *reencoder) ws(b *strings.Builder) {
	if e.chance(0.3) {
		b.WriteString([]string{" ", "\n", "\t", "\r\n  ", "  "}[e.rng.IntN(5)])
	}
}

func (e *reencoder) value(b *strings.Builder, v jv) {
	e.ws(b)
	switch v.kind {
	case 'o':
		members := append([]jm(nil), v.members...)
		if len(members) == 0 && e.chance(0.5) {
			b.WriteString("[]") // PHP decodes {} and [] alike, Node writes both as {}
			break
		}
		if e.chance(0.5) {
			e.rng.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
		}
		if e.chance(0.1) { // JSON.parse keeps it, the assignment in sortObject drops it
			members = append(members, mem("__proto__", obj(mem("payment_id", num("1")))))
		}
		b.WriteByte('{')
		for i, m := range members {
			if i > 0 {
				b.WriteByte(',')
			}
			e.value(b, str(m.key))
			b.WriteByte(':')
			e.value(b, m.val)
		}
		e.ws(b)
		b.WriteByte('}')
	case 'a':
		if e.chance(0.3) { // Node turns arrays into index-keyed objects
			members := make([]jm, len(v.elems))
			for i, el := range v.elems {
				members[i] = mem(strconv.Itoa(i), el)
			}
			e.value(b, obj(members...))
			return
		}
		b.WriteByte('[')
		for i, el := range v.elems {
			if i > 0 {
				b.WriteByte(',')
			}
			e.value(b, el)
		}
		e.ws(b)
		b.WriteByte(']')
	case 's':
		e.str(b, v.text)
	case 'n':
		b.WriteString(e.number(v.text))
	default:
		b.WriteString(v.text)
	}
	e.ws(b)
}

func (e *reencoder) str(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || e.chance(0.2):
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				fmt.Fprintf(b, `\u%04x\u%04X`, r1, r2)
			} else {
				fmt.Fprintf(b, `\u%04x`, r)
			}
		case r == '/' && e.chance(0.5):
			b.WriteString(`\/`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// number rewrites a plain decimal (digits with an optional fraction) as another text of the
// same value: trailing zeros, a moved point with an exponent, 'E', '+'. With probability
// e.mutate it changes the value instead: the last digit, or digits far beyond double precision.
func (e *reencoder) number(text string) string {
	if e.rng == nil {
		return text
	}
	neg := strings.HasPrefix(text, "-")
	intPart, frac, _ := strings.Cut(strings.TrimPrefix(text, "-"), ".")
	digits, exp := intPart+frac, -len(frac) // value = digits × 10^exp
	if e.chance(e.mutate) {
		if e.rng.IntN(2) == 0 {
			digits = digits[:len(digits)-1] + string(rune('0'+(digits[len(digits)-1]-'0'+1)%10))
		} else {
			digits, exp = digits+"00000000000000000001", exp-20
		}
	}
	// No leading zeros, trailing zeros folded into the exponent, then 0 to 2 zeros added back.
	if digits = strings.TrimLeft(digits, "0"); digits == "" {
		digits, exp = "0", 0
	} else {
		trimmed := strings.TrimRight(digits, "0")
		digits, exp = trimmed, exp+len(digits)-len(trimmed)
	}
	for z := e.rng.IntN(3); z > 0; z-- {
		digits, exp = digits+"0", exp-1
	}
	p := 1 + e.rng.IntN(len(digits)) // point after p digits
	if digits[0] == '0' {
		p = 1 // zero: "0.00", never "00"
	}
	out := digits[:p]
	if p < len(digits) {
		out += "." + digits[p:]
	}
	if shown := exp + len(digits) - p; shown != 0 || e.chance(0.2) {
		out += []string{"e", "E"}[e.rng.IntN(2)]
		if shown >= 0 && e.chance(0.5) {
			out += "+"
		}
		out += strconv.Itoa(shown)
	}
	if neg {
		out = "-" + out
	}
	return out
}

// TestIPNDedupeKeyReencodings is a property test: random re-encodings of genuinely signed IPNs
// (numbers rewritten, whitespace, key order, escapes, arrays as index-keyed objects, {} as [],
// __proto__ members, and some changes to values) — every one that verifies under a genuine
// signature has the genuine IPN's dedupe key.
func TestIPNDedupeKeyReencodings(t *testing.T) {
	v, err := jovepay.NewIPNVerifier(secret)
	require.NoError(t, err)
	fee := obj(mem("currency", str("usdttrc20")), mem("depositFee", num("0.2")), mem("withdrawalFee", num("0")), mem("serviceFee", num("0.21")))
	trees := map[string]jv{
		"payment": obj(mem("payment_id", num("5077125051")), mem("parent_payment_id", lit("null")),
			mem("payment_status", str("finished")), mem("pay_address", str("TQ7x…/é😀")), mem("price_amount", num("25")),
			mem("pay_amount", num("25.31")), mem("actually_paid", num("25.31")), mem("pay_currency", str("usdttrc20")),
			mem("order_id", str("A-1001")), mem("payment_extra_ids", arr(num("5"), num("2"))), mem("meta", obj()),
			mem("fee", fee)),
		"payment, ASCII": obj(mem("payment_id", num("5077125051")), mem("payment_status", str("partially_paid")),
			mem("actually_paid", num("12.5")), mem("order_id", str("A/1002"))),
		"withdrawal": obj(mem("id", num("123456789")), mem("batch_withdrawal_id", num("987654321")),
			mem("status", str("FINISHED")), mem("address", str("TQ7x")), mem("amount", num("50.5"))),
		"unknown": obj(mem("event", str("ledger")), mem("lines", arr(obj(mem("amount", num("-0.5"))), obj()))),
	}
	rng := rand.New(rand.NewPCG(9, 3))
	for name, tree := range trees {
		genuine := []byte(plainEncode(tree))
		first := mustParseIPN(t, genuine)
		want := first.DedupeKey()
		sigs := map[webhook.SortedJSONForm]string{}
		for _, f := range allForms {
			sigs[f], err = webhook.SignSortedJSONForm(secret, genuine, f)
			require.NoError(t, err)
		}
		verified, refused, newIDText := map[webhook.SortedJSONForm]int{}, 0, 0
		for i := 0; i < 400; i++ {
			body := []byte(func() string {
				var b strings.Builder
				(&reencoder{rng: rng, mutate: 0.05}).value(&b, tree)
				return b.String()
			}())
			ok := false
			for _, f := range allForms {
				if v.VerifySignature(body, sigs[f]) != nil {
					continue
				}
				ok = true
				verified[f]++
				ipn := mustParseIPN(t, body)
				require.Equal(t, want, ipn.DedupeKey(), "%s: %s-signed %s verifies %s but its key is", name, f, genuine, body)
				if ipn.Payment != nil && ipn.Payment.ID != first.Payment.ID {
					newIDText++ // the raw id text the old key was made of changed
				}
			}
			if !ok {
				refused++
			}
		}
		t.Logf("%s: verified under node %d, php %d, python %d (%d with another payment_id text); refused %d of 400",
			name, verified[webhook.FormNode], verified[webhook.FormPHP], verified[webhook.FormPython], newIDText, refused)
		assert.GreaterOrEqual(t, verified[webhook.FormNode], 200, "%s: generator is off: Node verifications", name)
		assert.NotZero(t, refused, "%s: generator is off: refusals", name)
		if first.Payment != nil {
			assert.GreaterOrEqual(t, newIDText, 100, "%s: generator is off: re-encoded ids", name)
		}
	}
}

func mustParseIPN(t *testing.T, body []byte) *jovepay.IPN {
	t.Helper()
	ipn, err := jovepay.ParseIPN(body)
	require.NoError(t, err, "ParseIPN(%s)", body)
	return ipn
}

// goldenIPNSigs are the signatures of edgyIPN under secret computed independently, by running
// the three reference programs of JovePay's documentation on it:
//
//	printf '%s' "$edgyIPN" | node sign.js ipn-secret-for-tests
//	printf '%s' "$edgyIPN" | php sign.php ipn-secret-for-tests
//	printf '%s' "$edgyIPN" | python3 sign.py ipn-secret-for-tests
var goldenIPNSigs = map[webhook.SortedJSONForm]string{
	webhook.FormNode:   "ae3cbc8aa946676a34374c61d724bc1b303961129cd37aefd1ff1ac53b463e4620e72c04fe142789caae326a5192d6976b5d557c9e410e4e908a64c8be612f36",
	webhook.FormPHP:    "e9e46ffa485f6d75a8b4e7e2581e663b4fd6f54039144e490b9ee3415089d8ff913df6b4be5de35a1b1ce8d8b7f46d2deedf0bae751e94e478af19766a3d6945",
	webhook.FormPython: "2ce09fc4c79c13afdca0ca35cea1ada444d2e3ea53689ea882155bd0af7446882bf8366591fcbdc89f8ebaf5c17bbac5294b89d4479a8bc647539559a25fe767",
}

// TestIPNGoldenSignatures checks the wire format against values computed outside this module:
// the literal header names JovePay and NOWPayments use, and the reference programs' digests.
func TestIPNGoldenSignatures(t *testing.T) {
	v, err := jovepay.NewIPNVerifier(secret)
	require.NoError(t, err)
	for form, golden := range goldenIPNSigs {
		for _, name := range []string{"x-jovepay-sig", "x-nowpayments-sig"} {
			h := http.Header{}
			h.Set(name, golden)
			assert.NoError(t, v.Verify(edgyIPN, h), "%s digest in %s", form, name)
		}
		h := http.Header{}
		h.Set("x-jovepay-signature", golden) // not a header JovePay sends
		assert.ErrorIs(t, v.Verify(edgyIPN, h), webhook.ErrMissingSignature, "%s digest in an unknown header", form)
		sig, err := webhook.SignSortedJSONForm(secret, edgyIPN, form)
		if assert.NoError(t, err, "SignSortedJSONForm(%s)", form) {
			assert.Equal(t, golden, sig, "SignSortedJSONForm(%s): the reference program gives the expected value", form)
		}
	}
	// PHP's reference trims the secret, the others use it as given:
	//	printf '%s' "$edgyIPN" | php sign.php '  ipn-secret-for-tests '   → the same e9e46f… digest
	padded, err := jovepay.NewIPNVerifier("  " + secret + " ")
	require.NoError(t, err)
	assert.NoError(t, padded.VerifySignature(edgyIPN, goldenIPNSigs[webhook.FormPHP]), "PHP digest under the untrimmed secret")
	assert.ErrorIs(t, padded.VerifySignature(edgyIPN, goldenIPNSigs[webhook.FormNode]), webhook.ErrSignatureMismatch, "Node digest under another key")
}

// TestIPNFakeSendsGoldenHeader: jovepaytest delivers IPNs under the literal header name with
// the reference programs' digest, in each form.
func TestIPNFakeSendsGoldenHeader(t *testing.T) {
	var mu sync.Mutex
	var got []http.Header
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
	}))
	defer recv.Close()
	for form, golden := range goldenIPNSigs {
		srv, _ := newFake(t, jovepaytest.WithIPNSecret(secret), jovepaytest.WithSignatureForm(form))
		d := srv.DeliverIPN(context.Background(), recv.URL, edgyIPN)
		require.True(t, d.Delivered, "%s: not delivered: %+v", form, d.Attempts)
		mu.Lock()
		h := got[len(got)-1]
		mu.Unlock()
		assert.Equal(t, golden, h.Get("x-jovepay-sig"), "%s form: x-jovepay-sig", form)
	}
}
