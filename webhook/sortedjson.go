package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/paykit-go/paykit/internal/sortedjson"
)

// Headers carrying a sorted-JSON (JovePay / NOWPayments IPN) signature.
const (
	// SortedJSONHeader is JovePay's IPN signature header.
	SortedJSONHeader = "X-Jovepay-Sig"
	// SortedJSONHeaderNOWPayments is the same signature under NOWPayments' name.
	SortedJSONHeaderNOWPayments = "X-Nowpayments-Sig"
)

// SortedJSONVerifier checks JovePay IPN signatures: lowercase hex HMAC-SHA512, keyed with the
// IPN secret, over the body re-serialized with its object keys sorted. JovePay documents three
// reference programs for that re-serialization (Node, PHP, Python) which disagree on edge
// cases; Verify accepts a signature that any of them, run as written, would produce for the
// body under any configured secret (see SortedJSONForm and CanonicalSortedJSON).
//
// Bodies are parsed with a strict JSON tokenizer rather than encoding/json, whose map
// decoding would lose number text and silently merge duplicate keys. Refused with
// ErrInvalidPayload: text that is not a single JSON value, invalid UTF-8, duplicate object
// keys, nesting deeper than MaxSortedJSONDepth, numbers beyond the float64 range, and, unless
// the Node or Python form matches, an object mixing integer and string keys in an order whose
// PHP ksort() result would take more than linear time to reproduce.
//
// A SortedJSONVerifier is safe for concurrent use; parse trees, output buffers and keyed
// HMAC states are pooled.
type SortedJSONVerifier struct {
	secrets         []sjSecret // current secret first, then previous secrets
	keys            [][]byte   // distinct HMAC keys the secrets map to
	maxPayloadBytes int64
	headers         []string  // where VerifyHeader reads the signature (WithSignatureHeaders)
	rawKeys         [][]byte  // keys of the raw-body HMAC-SHA256 fallback; nil when off (WithRawBodyFallback)
	pool            sync.Pool // of *sjState
	// last holds one idle state, taken and given back with single atomic operations: cheaper
	// than pool's Get and Put, which only serve when it is empty (held by a concurrent call)
	// or, on release, full. Like a pooled state, it is bounded by maxPooledBytes.
	last atomic.Pointer[sjState]
}

// sjSecret maps one configured secret to its HMAC keys: the Node and Python programs use the
// secret as given, the PHP one passes it through trim().
type sjSecret struct {
	raw, php int // indexes into SortedJSONVerifier.keys
}

// sjState is the per-call scratch space: parse tree, one output buffer per form, and a keyed
// HMAC per key, created on first use and Reset afterwards (cheaper than re-keying).
type sjState struct {
	c    sortedjson.Canon
	fast sortedjson.FastNode
	out  [3][]byte
	ok   [3]bool
	macs []hash.Hash
	sum  [sha512.Size]byte
}

// maxPooledBytes bounds the buffers a pooled state may keep, so one huge body does not pin
// its memory for the life of the verifier.
const maxPooledBytes = 4 << 20

// phpTrim is PHP's trim() with its default character list " \t\n\r\0\x0B".
func phpTrim(s string) string { return strings.Trim(s, " \t\n\r\x00\x0b") }

// NewSortedJSONVerifier returns a verifier for the IPN secret. It fails with ErrEmptySecret
// for an empty secret, and also for a secret made only of whitespace (PHP's reference trims
// the secret, so its signatures would use an empty, public HMAC key), and with a descriptive
// error for an invalid option (all of them *ConfigErrors). WithPreviousSecrets adds secrets
// accepted during rotation; WithMaxPayloadBytes bounds VerifyRequest; WithSignatureHeaders and
// WithRawBodyFallback apply; the tolerance and clock options do not apply (IPNs carry no signed
// timestamp) and are ignored; handler options (WithDeduper, WithLogger) are refused.
func NewSortedJSONVerifier(secret string, opts ...Option) (*SortedJSONVerifier, error) {
	const fn = "NewSortedJSONVerifier"
	o, err := verifierOptions(fn, secret, opts)
	if err != nil {
		return nil, err
	}
	v := &SortedJSONVerifier{maxPayloadBytes: o.maxPayloadBytes, headers: o.headers}
	if v.headers == nil {
		v.headers = []string{SortedJSONHeader, SortedJSONHeaderNOWPayments}
	}
	keyIndex := func(k string) int {
		for i, have := range v.keys {
			if string(have) == k {
				return i
			}
		}
		v.keys = append(v.keys, []byte(k))
		return len(v.keys) - 1
	}
	for i, s := range append([]string{secret}, o.previous...) {
		if phpTrim(s) == "" {
			which := "secret"
			if i > 0 {
				which = "WithPreviousSecrets"
			}
			return nil, &ConfigError{Package: "webhook", Func: fn, Arg: which, Err: fmt.Errorf("%w: only whitespace", ErrEmptySecret)}
		}
		v.secrets = append(v.secrets, sjSecret{raw: keyIndex(s), php: keyIndex(phpTrim(s))})
		if o.rawFallback {
			v.rawKeys = append(v.rawKeys, []byte(s))
		}
	}
	nkeys := len(v.keys)
	v.pool.New = func() any { return &sjState{macs: make([]hash.Hash, nkeys)} }
	return v, nil
}

// MaxPayloadBytes returns the body size limit VerifyRequest applies.
func (v *SortedJSONVerifier) MaxPayloadBytes() int64 { return v.maxPayloadBytes }

// Verify checks signature (the x-jovepay-sig header value: 128 hex digits, either case)
// against payload, the raw request body. It returns nil when the signature is the
// HMAC-SHA512 of the body's Node, Python or PHP canonical form under the current or a
// previous secret; ErrMissingSignature for an empty signature; ErrMalformedSignature for one
// that is not 128 hex digits; ErrInvalidPayload (wrapped with the reason) for a body it
// refuses; ErrSignatureMismatch otherwise. Forms are tried Node first, and each is only
// computed if the ones before it did not match. A body whose PHP form would take more than
// linear time to reproduce (an object mixing integer and string keys in an adversarial order,
// see CanonicalSortedJSON) is refused with ErrInvalidPayload when no other form matches.
//
// Verify costs time linear in the size of payload (times the number of secrets) whatever
// the body: that is what lets it run before the sender is authenticated.
//
// With WithRawBodyFallback, a hex HMAC-SHA256 of the raw payload under any secret verifies too.
func (v *SortedJSONVerifier) Verify(payload []byte, signature string) error {
	if v.rawKeys != nil && v.matchRawBody(payload, signature) {
		return nil
	}
	signature = strings.TrimSpace(signature)
	if signature == "" {
		return ErrMissingSignature
	}
	var want [sha512.Size]byte
	if len(signature) != 2*sha512.Size {
		return fmt.Errorf("%w: want %d hex digits (HMAC-SHA512), got %d characters",
			ErrMalformedSignature, 2*sha512.Size, len(signature))
	}
	if !decodeHex512(&want, signature) {
		return fmt.Errorf("%w: signature is not hex", ErrMalformedSignature)
	}
	st := v.last.Swap(nil)
	if st == nil {
		st = v.pool.Get().(*sjState)
	}
	err := v.verify(st, payload, &want)
	v.release(st) // not deferred: a panic just leaves the state to the garbage collector
	return err
}

// verify is Verify once the signature is decoded, with st its own (from last or the pool).
func (v *SortedJSONVerifier) verify(st *sjState, payload []byte, want *[sha512.Size]byte) error {
	// JovePay signs the Node form, and most bodies are in the subset the one-pass fast path
	// handles: try that first. Only a mismatch, or a body outside the subset, pays for the
	// general parse and the other two forms.
	form, nodeTried := st.fast.NodeForm(payload)
	if nodeTried {
		for _, s := range v.secrets {
			if st.match(v.keys, s.raw, form, want) {
				return nil
			}
		}
	}
	if err := st.c.Parse(payload); err != nil {
		return err
	}
	forms := [3]SortedJSONForm{FormNode, FormPython, FormPHP}
	var refused error // why a form was abandoned as too costly to reproduce
	for fi, f := range forms {
		if f == FormNode && nodeTried {
			// The fast path's text is the Node form (its contract) and was tried already:
			// copied for the comparisons below rather than written again.
			st.out[fi], st.ok[fi] = append(st.out[fi][:0], form...), true
			continue
		}
		st.out[fi], st.ok[fi] = st.c.AppendForm(st.out[fi][:0], sortedjson.Form(f))
		if err := st.c.Err(); err != nil && refused == nil {
			refused = err
		}
		if !st.ok[fi] {
			continue
		}
		// Which earlier forms have the same text: compared once, not once per secret.
		var same [3]bool
		for fj := 0; fj < fi; fj++ {
			same[fj] = st.ok[fj] && bytes.Equal(st.out[fj], st.out[fi])
		}
		for _, s := range v.secrets {
			k := s.raw
			if f == FormPHP {
				k = s.php
			}
			if v.alreadyTried(&same, &forms, fi, k) {
				continue
			}
			if st.match(v.keys, k, st.out[fi], want) {
				return nil
			}
		}
	}
	if refused != nil {
		// A form could not be computed, so the signature may be one of it: the body, not the
		// signature, is what is refused.
		return refused
	}
	return ErrSignatureMismatch
}

// AppendCanonical appends the canonical text of payload in form to dst and returns the extended
// slice: the same text and errors as CanonicalSortedJSON, computed with the verifier's reusable
// buffers, so a Node form of a usual IPN costs one pass over the body and no allocation besides
// dst's growth. On error dst is returned unchanged. It is safe for concurrent use, like Verify,
// and its cost is linear in the size of payload.
func (v *SortedJSONVerifier) AppendCanonical(dst, payload []byte, form SortedJSONForm) ([]byte, error) {
	if err := checkForm(form); err != nil {
		return dst, err
	}
	st := v.last.Swap(nil)
	if st == nil {
		st = v.pool.Get().(*sjState)
	}
	out, err := st.appendCanonical(dst, payload, form)
	v.release(st) // not deferred: a panic just leaves the state to the garbage collector
	return out, err
}

// appendCanonical is AppendCanonical with st the caller's own state.
func (st *sjState) appendCanonical(dst, payload []byte, form SortedJSONForm) ([]byte, error) {
	if form == FormNode {
		if text, ok := st.fast.NodeForm(payload); ok {
			return append(dst, text...), nil
		}
	}
	if err := st.c.Parse(payload); err != nil {
		return dst, err
	}
	out, ok := st.c.AppendForm(dst, sortedjson.Form(form))
	if err := st.c.Err(); err != nil {
		return dst, err
	}
	if !ok {
		return dst, fmt.Errorf("%w (%s form)", ErrNoCanonicalForm, form)
	}
	return out, nil
}

// alreadyTried reports whether an earlier form produced the same text (same[fj]) and was
// checked with the same key: most bodies have identical Node and Python forms, for instance.
func (v *SortedJSONVerifier) alreadyTried(same *[3]bool, forms *[3]SortedJSONForm, fi, k int) bool {
	for fj := 0; fj < fi; fj++ {
		if !same[fj] {
			continue
		}
		for _, s := range v.secrets {
			if (forms[fj] == FormPHP && s.php == k) || (forms[fj] != FormPHP && s.raw == k) {
				return true
			}
		}
	}
	return false
}

// match computes the HMAC of msg under keys[k] and compares it with want in constant time.
func (st *sjState) match(keys [][]byte, k int, msg []byte, want *[sha512.Size]byte) bool {
	h := st.macs[k]
	if h == nil {
		h = hmac.New(sha512.New, keys[k])
		st.macs[k] = h
	} else {
		h.Reset()
	}
	h.Write(msg)
	return hmac.Equal(h.Sum(st.sum[:0]), want[:])
}

func (v *SortedJSONVerifier) release(st *sjState) {
	st.c.Forget() // do not keep the caller's body alive
	text, nodes := st.c.Retained()
	fastOut, members := st.fast.Retained()
	if cap(st.out[0])+cap(st.out[1])+cap(st.out[2])+text+fastOut > maxPooledBytes ||
		members > maxPooledBytes/32 ||
		nodes > maxPooledBytes/16 {
		return
	}
	if !v.last.CompareAndSwap(nil, st) {
		v.pool.Put(st)
	}
}

// decodeHex512 decodes a 128-digit hex string (either case) into dst.
func decodeHex512(dst *[sha512.Size]byte, s string) bool {
	if len(s) != 2*sha512.Size {
		return false
	}
	var bad byte
	for i := range dst {
		hi, lo := hexDigitValue[s[2*i]], hexDigitValue[s[2*i+1]]
		bad |= hi | lo
		dst[i] = hi<<4 | lo&0x0f
	}
	return bad&0xf0 == 0
}

// hexDigitValue maps a byte to its hex value, or 0xff for a non-hex byte. A constant string
// rather than a table variable: no package-level mutable state.
const hexDigitValue = "" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\xff\xff\xff\xff\xff\xff" +
	"\xff\x0a\x0b\x0c\x0d\x0e\x0f\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\x0a\x0b\x0c\x0d\x0e\x0f\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"

// VerifyRequest reads r's body (limited by WithMaxPayloadBytes, see ReadBody), verifies the
// signature in the named header and returns the raw body for parsing. An empty header name
// means the headers VerifyHeader reads (WithSignatureHeaders; default SortedJSONHeader, then
// SortedJSONHeaderNOWPayments). Errors are those of ReadBody and Verify; map them to a
// response with StatusCode.
func (v *SortedJSONVerifier) VerifyRequest(r *http.Request, header string) ([]byte, error) {
	body, err := ReadBody(r, v.maxPayloadBytes)
	if err != nil {
		return nil, err
	}
	if header == "" {
		err = v.VerifyHeader(body, r.Header)
	} else {
		err = v.Verify(body, r.Header.Get(header))
	}
	if err != nil {
		return nil, err
	}
	return body, nil
}

// SignSortedJSON returns the signature JovePay sends for payload: the lowercase hex
// HMAC-SHA512 of its Node canonical form under secret. Fakes and tests use it. Errors:
// ErrEmptySecret, ErrInvalidPayload, ErrNoCanonicalForm (the body null).
func SignSortedJSON(secret string, payload []byte) (string, error) {
	return SignSortedJSONForm(secret, payload, FormNode)
}

// SignSortedJSONForm signs payload as the reference program for form would, secret handling
// included (the PHP program trims the secret). Fake servers use it to sign IPNs the way a
// chosen integration computes them. Errors: ErrEmptySecret (also for a PHP key that trims to
// nothing), ErrInvalidPayload, ErrNoCanonicalForm.
func SignSortedJSONForm(secret string, payload []byte, form SortedJSONForm) (string, error) {
	if err := checkForm(form); err != nil {
		return "", err
	}
	key := secret
	if form == FormPHP {
		key = phpTrim(secret)
	}
	if key == "" {
		return "", ErrEmptySecret
	}
	msg, err := CanonicalSortedJSON(payload, form)
	if err != nil {
		return "", err
	}
	h := hmac.New(sha512.New, []byte(key))
	h.Write(msg)
	return hex.EncodeToString(h.Sum(nil)), nil
}
