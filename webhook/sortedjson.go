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
// keys, nesting deeper than MaxSortedJSONDepth, numbers beyond the float64 range.
//
// A SortedJSONVerifier is safe for concurrent use; parse trees, output buffers and keyed
// HMAC states are pooled.
type SortedJSONVerifier struct {
	secrets         []sjSecret // current secret first, then previous secrets
	keys            [][]byte   // distinct HMAC keys the secrets map to
	maxPayloadBytes int64
	pool            sync.Pool // of *sjState
}

// sjSecret maps one configured secret to its HMAC keys: the Node and Python programs use the
// secret as given, the PHP one passes it through trim().
type sjSecret struct {
	raw, php int // indexes into SortedJSONVerifier.keys
}

// sjState is the per-call scratch space: parse tree, one output buffer per form, and a keyed
// HMAC per key, created on first use and Reset afterwards (cheaper than re-keying).
type sjState struct {
	c    canon
	fast fastNode
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
// error for an invalid option. WithPreviousSecrets adds secrets accepted during rotation;
// WithMaxPayloadBytes bounds VerifyRequest; the tolerance and clock options do not apply
// (IPNs carry no signed timestamp) and are ignored.
func NewSortedJSONVerifier(secret string, opts ...Option) (*SortedJSONVerifier, error) {
	if secret == "" {
		return nil, ErrEmptySecret
	}
	o, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	v := &SortedJSONVerifier{maxPayloadBytes: o.maxPayloadBytes}
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
				which = "previous secret"
			}
			return nil, fmt.Errorf("%w: %s is only whitespace", ErrEmptySecret, which)
		}
		v.secrets = append(v.secrets, sjSecret{raw: keyIndex(s), php: keyIndex(phpTrim(s))})
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
// computed if the ones before it did not match.
func (v *SortedJSONVerifier) Verify(payload []byte, signature string) error {
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
	st := v.pool.Get().(*sjState)
	defer v.release(st)
	// JovePay signs the Node form, and most bodies are in the subset the one-pass fast path
	// handles: try that first. Only a mismatch, or a body outside the subset, pays for the
	// general parse and the other two forms.
	form, nodeTried := st.fast.nodeForm(payload)
	if nodeTried {
		for _, s := range v.secrets {
			if st.match(v.keys, s.raw, form, &want) {
				return nil
			}
		}
	}
	if err := st.c.doc.parse(payload); err != nil {
		return err
	}
	forms := [3]SortedJSONForm{FormNode, FormPython, FormPHP}
	for fi, f := range forms {
		st.out[fi], st.ok[fi] = st.c.appendForm(st.out[fi][:0], f)
		if !st.ok[fi] || f == FormNode && nodeTried { // the fast path's form is this one
			continue
		}
		for _, s := range v.secrets {
			k := s.raw
			if f == FormPHP {
				k = s.php
			}
			if v.alreadyTried(st, &forms, fi, k) {
				continue
			}
			if st.match(v.keys, k, st.out[fi], &want) {
				return nil
			}
		}
	}
	return ErrSignatureMismatch
}

// alreadyTried reports whether an earlier form produced the same text and was checked with
// the same key: most bodies have identical Node and Python forms, for instance.
func (v *SortedJSONVerifier) alreadyTried(st *sjState, forms *[3]SortedJSONForm, fi, k int) bool {
	for fj := 0; fj < fi; fj++ {
		if !st.ok[fj] || !bytes.Equal(st.out[fj], st.out[fi]) {
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
	d := &st.c.doc
	d.src = nil // do not keep the caller's body alive
	if cap(st.out[0])+cap(st.out[1])+cap(st.out[2])+cap(d.arena)+cap(st.fast.out) > maxPooledBytes ||
		cap(st.fast.mem) > maxPooledBytes/32 ||
		cap(d.nodes) > maxPooledBytes/16 {
		return
	}
	v.pool.Put(st)
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
// means SortedJSONHeader, falling back to SortedJSONHeaderNOWPayments. Errors are those of
// ReadBody and Verify; map them to a response with StatusCode.
func (v *SortedJSONVerifier) VerifyRequest(r *http.Request, header string) ([]byte, error) {
	var sig string
	if header != "" {
		sig = r.Header.Get(header)
	} else if sig = r.Header.Get(SortedJSONHeader); sig == "" {
		sig = r.Header.Get(SortedJSONHeaderNOWPayments)
	}
	body, err := ReadBody(r, v.maxPayloadBytes)
	if err != nil {
		return nil, err
	}
	if err := v.Verify(body, sig); err != nil {
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
