package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"
)

// TimestampVerifier verifies timestamped HMAC-SHA256 webhook signatures: the provider signs
// "<timestamp>.<raw body>" with a shared secret and sends the lowercase hex digest. It serves
// JoPay ("X-JoPay-Signature: v1=<hex>,t=<unix>"), JoPay Checkout ("t=<unix>,v1=<hex>") through
// Verify, and Pepay (millisecond timestamp and signatures in separate headers) through VerifyAt.
//
// A TimestampVerifier is safe for concurrent use. Verification allocates nothing in steady
// state: the keyed HMAC state for each secret is pooled and reset instead of re-keyed.
type TimestampVerifier struct {
	keys            []*macKey // current secret first, then previous secrets
	tolerance       time.Duration
	now             func() time.Time
	maxPayloadBytes int64
}

// macKey holds a pool of keyed HMAC-SHA256 states for one secret. hmac.New costs two SHA-256
// blocks plus allocations; a pooled state is Reset, which restores the precomputed pads.
type macKey struct {
	pool sync.Pool // of *macState
}

// macState is a keyed HMAC plus scratch space, so that writing the timestamp and reading the
// digest need no heap allocation (a stack buffer passed to hash.Hash.Write would escape).
type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
	sig [sha256.Size]byte
	buf [sha256.BlockSize]byte
}

func newMACKey(secret string) *macKey {
	key := []byte(secret)
	k := &macKey{}
	k.pool.New = func() any { return &macState{h: hmac.New(sha256.New, key)} }
	return k
}

// mac computes HMAC-SHA256(secret, timestamp + "." + payload) into st.sum. The timestamp, the
// dot and the start of the payload are assembled into one full SHA-256 block in scratch space,
// so the hash consumes whole blocks straight from the buffers instead of first copying a
// partial block into its own.
func (st *macState) mac(timestamp string, payload []byte) {
	st.h.Reset()
	if n := len(timestamp); n < len(st.buf) {
		copy(st.buf[:], timestamp)
		st.buf[n] = '.'
		k := copy(st.buf[n+1:], payload)
		st.h.Write(st.buf[:n+1+k])
		payload = payload[k:]
	} else {
		st.h.Write([]byte(timestamp)) // unusually long timestamp: an allocation is fine here
		st.h.Write([]byte{'.'})
	}
	if len(payload) > 0 {
		st.h.Write(payload)
	}
	st.h.Sum(st.sum[:0])
}

// NewTimestampVerifier returns a verifier for secret (used as the HMAC key as-is). It fails with
// a *ConfigError wrapping ErrEmptySecret for an empty secret, and with a *ConfigError naming
// the option for an invalid option or a handler option (WithDeduper, WithLogger).
func NewTimestampVerifier(secret string, opts ...Option) (*TimestampVerifier, error) {
	o, err := verifierOptions("NewTimestampVerifier", secret, opts)
	if err != nil {
		return nil, err
	}
	v := &TimestampVerifier{
		tolerance:       o.tolerance,
		now:             o.now,
		maxPayloadBytes: o.maxPayloadBytes,
	}
	v.keys = append(v.keys, newMACKey(secret))
	for _, s := range o.previous {
		v.keys = append(v.keys, newMACKey(s))
	}
	return v, nil
}

// MaxPayloadBytes reports the body size limit configured with WithMaxPayloadBytes, so a handler
// built around this verifier can use the same limit.
func (v *TimestampVerifier) MaxPayloadBytes() int64 { return v.maxPayloadBytes }

// Tolerance reports how far a signed timestamp may lie from the clock, in either direction.
func (v *TimestampVerifier) Tolerance() time.Duration { return v.tolerance }

// Verify checks a "t=<unix seconds>,v1=<hex>" signature header against the raw payload.
//
// The entries may come in any order, separated by commas, with spaces around them; there may be
// any number of v1 entries (any one may match any configured secret); entries with other keys
// (future schemes such as v0 or v2) are ignored. Errors (test with errors.Is):
//
//   - ErrMissingSignature: the header is empty.
//   - ErrMalformedSignature: no t, more than one t, a non-numeric t, no v1, an entry that is not
//     key=value, or a v1 value that is not hex.
//   - ErrSignatureMismatch: no v1 entry matches any secret.
//   - ErrTimestampOutOfTolerance: the signature is genuine but t is further than the tolerance
//     from now, in the past or the future (a replay, or a skewed clock).
//
// The signature is checked before the timestamp, so ErrTimestampOutOfTolerance always means the
// delivery was really signed with one of the secrets.
func (v *TimestampVerifier) Verify(payload []byte, header string) error {
	var p parsedHeader
	if err := p.parse(header); err != nil {
		return err
	}
	if err := v.matchParsed(payload, &p, header); err != nil {
		return err
	}
	return v.checkTolerance(time.Unix(p.unix, 0))
}

// VerifyAt is the scheme core for providers that send the timestamp and the signatures in
// separate headers (Pepay: X-Pepay-Timestamp in milliseconds, X-Pepay-Signature and
// X-Pepay-Signature-Previous). timestamp is the raw header text exactly as received (it is part
// of the signed string "<timestamp>.<payload>"); t is that timestamp parsed by the caller and is
// used for the tolerance check; signatures are hex digests, empty ones are skipped. The delivery
// verifies when any signature matches any configured secret.
//
// Errors: ErrMissingSignature when every signature is empty; ErrMalformedSignature for an empty
// timestamp or a signature that is not hex; ErrSignatureMismatch; ErrTimestampOutOfTolerance.
func (v *TimestampVerifier) VerifyAt(payload []byte, timestamp string, t time.Time, signatures ...string) error {
	present := false
	for _, s := range signatures {
		s = trimSpace(s)
		if s == "" {
			continue
		}
		present = true
		if !isHex(s) {
			return fmt.Errorf("%w: signature is not hex", ErrMalformedSignature)
		}
	}
	if !present {
		return ErrMissingSignature
	}
	timestamp = trimSpace(timestamp)
	if timestamp == "" {
		return fmt.Errorf("%w: empty timestamp", ErrMalformedSignature)
	}
	if err := v.matchList(payload, timestamp, signatures); err != nil {
		return err
	}
	return v.checkTolerance(t)
}

// checkTolerance rejects t when it is more than the tolerance away from now, either way.
func (v *TimestampVerifier) checkTolerance(t time.Time) error {
	d := v.now().Sub(t) // saturates instead of overflowing
	if d > v.tolerance || d < -v.tolerance {
		return ErrTimestampOutOfTolerance
	}
	return nil
}

// matchParsed computes the MAC with each secret and compares it with the decoded v1 entries;
// when the header held more entries than fit in p, the rest are decoded from header again.
func (v *TimestampVerifier) matchParsed(payload []byte, p *parsedHeader, header string) error {
	for _, k := range v.keys {
		st := k.pool.Get().(*macState)
		st.mac(p.ts, payload)
		ok := false
		for i := 0; i < p.n && !ok; i++ {
			ok = hmac.Equal(p.sigs[i][:], st.sum[:])
		}
		if !ok && p.overflow {
			seen := 0
			forEachEntry(header, func(key, val string) bool {
				if key != "v1" || len(val) != 2*sha256.Size {
					return true
				}
				if seen++; seen > len(p.sigs) && equalHex(st, val) {
					ok = true
					return false
				}
				return true
			})
		}
		k.pool.Put(st)
		if ok {
			return nil
		}
	}
	return ErrSignatureMismatch
}

// matchList is match for signatures given as a list rather than header entries.
func (v *TimestampVerifier) matchList(payload []byte, ts string, signatures []string) error {
	for _, k := range v.keys {
		st := k.pool.Get().(*macState)
		st.mac(ts, payload)
		ok := false
		for _, s := range signatures {
			if s = trimSpace(s); s != "" && equalHex(st, s) {
				ok = true
				break
			}
		}
		k.pool.Put(st)
		if ok {
			return nil
		}
	}
	return ErrSignatureMismatch
}

// equalHex decodes the hex signature s into scratch space and compares it with st.sum in
// constant time. A signature of the wrong length cannot match.
func equalHex(st *macState, s string) bool {
	return decodeSig(&st.sig, s) && hmac.Equal(st.sig[:], st.sum[:])
}

// decodeSig decodes a 64-character hex signature into dst, reporting false for any other
// length or a non-hex character.
func decodeSig(dst *[sha256.Size]byte, s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	var bad byte
	for i := range dst {
		hi, lo := hexValue[s[2*i]], hexValue[s[2*i+1]]
		bad |= hi | lo // 0xff marks a non-hex byte; check once at the end
		dst[i] = hi<<4 | lo
	}
	return bad <= 0x0f
}

// Sign returns the lowercase hex HMAC-SHA256 of timestamp + "." + payload under secret: the
// signature a provider sends. Fakes and tests use it; Pepay's X-Pepay-Signature is exactly this
// with the millisecond timestamp.
func Sign(secret, timestamp string, payload []byte) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(payload)
	return hex.EncodeToString(h.Sum(nil))
}

// SignTimestamp returns the header value "t=<unix seconds>,v1=<hex>" for payload signed with
// secret at time t, as JoPay Checkout sends it (JoPay puts v1 first; Verify accepts both).
func SignTimestamp(secret string, t time.Time, payload []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + Sign(secret, ts, payload)
}

// maxUnix clamps absurd timestamps so that converting them to time.Time cannot overflow; any
// value this large is far outside every tolerance anyway.
const maxUnix = 1 << 40

// maxInlineSigs is how many v1 signatures a header parse keeps decoded; headers carry one or
// two. More are still checked, by scanning the header again.
const maxInlineSigs = 2

// parsedHeader is a validated "t=…,v1=…" header. It lives on the caller's stack.
type parsedHeader struct {
	ts       string // raw t text: it is what was signed
	unix     int64
	sigs     [maxInlineSigs][sha256.Size]byte
	n        int  // decoded signatures in sigs
	overflow bool // more signatures of the right length than fit in sigs
}

// parse validates the whole header: every entry key=value, exactly one numeric t, at least one
// v1, every v1 value hex. v1 values of a length other than a SHA-256 digest cannot match and are
// only validated. It is a single pass without callbacks: it runs on every delivery.
func (p *parsedHeader) parse(header string) error {
	if p.parseCommon(header) {
		return nil
	}
	if trimSpace(header) == "" {
		return ErrMissingSignature
	}
	haveT, haveV1 := false, false
	for rest := header; len(rest) > 0; {
		var entry string
		if i := strings.IndexByte(rest, ','); i >= 0 {
			entry, rest = rest[:i], rest[i+1:]
		} else {
			entry, rest = rest, ""
		}
		entry = trimSpace(entry)
		if entry == "" {
			continue // tolerate "a=1,,b=2" and a trailing comma
		}
		eq := strings.IndexByte(entry, '=')
		if eq < 0 {
			return fmt.Errorf("%w: entry is not key=value", ErrMalformedSignature)
		}
		key, val := trimSpace(entry[:eq]), trimSpace(entry[eq+1:])
		switch key {
		case "":
			return fmt.Errorf("%w: entry is not key=value", ErrMalformedSignature)
		case "t":
			if haveT {
				return fmt.Errorf("%w: more than one t entry", ErrMalformedSignature)
			}
			haveT = true
			p.ts = val
		case "v1":
			switch {
			case len(val) == 2*sha256.Size && p.n < len(p.sigs):
				if !decodeSig(&p.sigs[p.n], val) {
					return fmt.Errorf("%w: v1 is not hex", ErrMalformedSignature)
				}
				p.n++
			case val == "" || !isHex(val):
				return fmt.Errorf("%w: v1 is not hex", ErrMalformedSignature)
			case len(val) == 2*sha256.Size:
				p.overflow = true
			}
			haveV1 = true
		}
	}
	switch {
	case !haveT:
		return fmt.Errorf("%w: no t entry", ErrMalformedSignature)
	case !haveV1:
		return fmt.Errorf("%w: no v1 entry", ErrMalformedSignature)
	}
	unix, ok := parseDigits(p.ts)
	if !ok {
		return fmt.Errorf("%w: t is not a unix timestamp", ErrMalformedSignature)
	}
	p.unix = unix
	return nil
}

// parseCommon reads the two layouts providers actually send — "t=<digits>,v1=<64 hex>" (JoPay
// Checkout) and "v1=<64 hex>,t=<digits>" (JoPay), no spaces, one signature — without the
// general loop's splitting and trimming, which would otherwise be a tenth of Verify's cost. It
// reports false, having set nothing parse relies on, for anything else, and parse then runs
// the general loop, which accepts every layout this does with the same result.
func (p *parsedHeader) parseCommon(h string) bool {
	const sigLen = 2 * sha256.Size
	var ts, sig string
	switch {
	case len(h) > 2+1+4+sigLen && h[0] == 't' && h[1] == '=':
		i := 2
		for i < len(h) && h[i]-'0' < 10 {
			i++
		}
		if len(h) != i+4+sigLen || h[i:i+4] != ",v1=" {
			return false
		}
		ts, sig = h[2:i], h[i+4:]
	case len(h) > 3+sigLen+3 && h[0] == 'v' && h[1] == '1' && h[2] == '=' && h[3+sigLen:3+sigLen+3] == ",t=":
		ts, sig = h[3+sigLen+3:], h[3:3+sigLen]
	default:
		return false
	}
	unix, ok := parseDigits(ts)
	if !ok || !decodeSig(&p.sigs[0], sig) {
		return false
	}
	p.ts, p.unix, p.n = ts, unix, 1
	return true
}

// forEachEntry calls fn(key, value) for every non-empty comma-separated entry of header, with
// spaces trimmed around keys and values, until fn returns false. An entry without '=' or with
// an empty key is reported with key "".
func forEachEntry(header string, fn func(key, val string) bool) {
	for len(header) > 0 {
		var entry string
		if i := strings.IndexByte(header, ','); i >= 0 {
			entry, header = header[:i], header[i+1:]
		} else {
			entry, header = header, ""
		}
		entry = trimSpace(entry)
		if entry == "" {
			continue // tolerate "a=1,,b=2" and a trailing comma
		}
		eq := strings.IndexByte(entry, '=')
		if eq < 0 {
			if !fn("", "") {
				return
			}
			continue
		}
		if !fn(trimSpace(entry[:eq]), trimSpace(entry[eq+1:])) {
			return
		}
	}
}

// parseDigits parses a non-empty run of ASCII digits, clamping at maxUnix.
func parseDigits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < maxUnix {
			n = n*10 + int64(c-'0')
		}
	}
	if n > maxUnix {
		n = maxUnix
	}
	return n, true
}

func isHex(s string) bool {
	if len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if hexValue[s[i]] > 0x0f {
			return false
		}
	}
	return true
}

// hexValue maps a byte to its hex digit value, or 0xff when it is not a hex digit. A constant
// string rather than a table variable: no package-level mutable state.
const hexValue = "" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\xff\xff\xff\xff\xff\xff" + // 0-9
	"\xff\x0a\x0b\x0c\x0d\x0e\x0f\xff\xff\xff\xff\xff\xff\xff\xff\xff" + // A-F
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\x0a\x0b\x0c\x0d\x0e\x0f\xff\xff\xff\xff\xff\xff\xff\xff\xff" + // a-f
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
