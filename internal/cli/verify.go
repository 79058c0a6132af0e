package cli

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/webhook"
	"github.com/spf13/cobra"
)

// maxVerifyBody caps the body verify reads from standard input.
const maxVerifyBody = 10 << 20

type verifyFlags struct {
	secret, previous string
	headers          []string
	tolerance        time.Duration
}

// candidate is one secret verify tries, with where it came from (never the secret itself).
type candidate struct {
	label, secret string
}

func newVerifyCommand(o IO) *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify <provider> [--secret S] [--previous-secret S] --header 'Name: value'... < body",
		Short: "Explain why a webhook signature verifies or not",
		Long: `verify reads a delivery's raw body from standard input and its headers from --header, and
checks the signature as the provider's verifier does. It explains the outcome instead of just
saying no: which secret and which form matched, or for each secret why not — timestamp outside
the tolerance (by how much), body changed after signing (a trailing newline, re-serialized
JSON, a proxy that decoded the body), signature header missing or malformed, or a header of
another provider.

The secret comes from --secret, else the provider's variable (JOPAY_WEBHOOK_SECRET,
JOPAY_CHECKOUT_WEBHOOK_SECRET, JOVEPAY_IPN_SECRET, PEPAY_WEBHOOK_SECRET), else
PAYKIT_WEBHOOK_SECRET; the previous one from --previous-secret or PAYKIT_WEBHOOK_PREVIOUS_SECRET.
Secrets are never printed. The exit status is 0 only when the delivery verifies.`,
		Example: `  paykit verify jopay --secret "$JOPAY_WEBHOOK_SECRET" \
      --header 'X-JoPay-Signature: v1=5d4c…,t=1767225600' < body.json
  paykit verify pepay --header 'X-Pepay-Signature: 9a…' --header 'X-Pepay-Timestamp: 1767225600123' < body.json
  paykit verify jovepay --header 'x-nowpayments-sig: 3f…' < ipn.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("want <provider>, got %d argument(s)", len(args))
			}
			_, err := lookupProvider(args[0])
			return err
		},
		ValidArgsFunction: providerArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, _ := lookupProvider(args[0])
			return runVerify(o, p, f, time.Now())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.secret, "secret", "", "webhook signing secret (default: from the environment)")
	fl.StringVar(&f.previous, "previous-secret", "", "previous secret, during a rotation (default: PAYKIT_WEBHOOK_PREVIOUS_SECRET)")
	fl.StringArrayVar(&f.headers, "header", nil, "a request header, 'Name: value' (repeat for each)")
	fl.DurationVar(&f.tolerance, "tolerance", webhook.DefaultTolerance, "accepted clock difference for timestamped signatures")
	return cmd
}

func runVerify(o IO, p *provider, f verifyFlags, now time.Time) error {
	h, err := parseHeaders(f.headers)
	if err != nil {
		return err
	}
	if f.tolerance <= 0 {
		return fmt.Errorf("--tolerance %s: want a positive duration", f.tolerance)
	}
	var cands []candidate
	secret, src := o.secretFrom(f.secret, "secret", p.secretEnv, "PAYKIT_WEBHOOK_SECRET")
	if secret == "" {
		return fmt.Errorf("no webhook secret: pass --secret or set %s (or PAYKIT_WEBHOOK_SECRET)", p.secretEnv)
	}
	cands = append(cands, candidate{"secret (" + src + ")", secret})
	if prev, psrc := o.secretFrom(f.previous, "previous-secret", p.envPrefix+"WEBHOOK_PREVIOUS_SECRET", "PAYKIT_WEBHOOK_PREVIOUS_SECRET"); prev != "" {
		cands = append(cands, candidate{"previous secret (" + psrc + ")", prev})
	}
	body, err := io.ReadAll(io.LimitReader(o.In, maxVerifyBody+1))
	if err != nil {
		return fmt.Errorf("read the body from standard input: %w", err)
	}
	if len(body) > maxVerifyBody {
		return fmt.Errorf("body on standard input is larger than %d bytes", maxVerifyBody)
	}

	d := &diagnosis{p: p, h: h, body: body, cands: cands, tolerance: f.tolerance, now: now}
	d.run()
	libErr := d.libraryVerify()
	w := o.Out
	fmt.Fprintf(w, "provider: %s\nbody: %d bytes from standard input\n", p.title, len(body))
	for _, line := range d.lines {
		fmt.Fprintln(w, line)
	}
	switch {
	case libErr == nil:
		fmt.Fprintf(w, "result: verified — %s\n", d.verdict)
		return nil
	case d.verdict != "" && d.failure == "":
		// The diagnosis found a match the verifier refused: report the verifier's reason.
		fmt.Fprintf(w, "result: NOT verified — the verifier says: %v\n", libErr)
	default:
		fmt.Fprintf(w, "result: NOT verified — %s\n", d.failure)
	}
	return &exitError{code: 1}
}

// parseHeaders turns "Name: value" flags into a header set.
func parseHeaders(list []string) (http.Header, error) {
	h := http.Header{}
	for _, s := range list {
		name, value, ok := strings.Cut(s, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("--header %q: want 'Name: value'", s)
		}
		h.Add(name, strings.TrimSpace(value))
	}
	return h, nil
}

type diagnosis struct {
	p         *provider
	h         http.Header
	body      []byte
	cands     []candidate
	tolerance time.Duration
	now       time.Time

	lines   []string
	verdict string // what matched, when something did
	failure string // the one-line reason when nothing verified
}

func (d *diagnosis) say(format string, args ...any) {
	d.lines = append(d.lines, fmt.Sprintf(format, args...))
}

func (d *diagnosis) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if d.failure == "" {
		d.failure = msg
	}
}

func (d *diagnosis) run() {
	d.wrongHeaders()
	switch d.p.name {
	case provJoPay, provCheckout:
		d.timestampHeader()
	case provPepay:
		d.pepayHeaders()
	case provJovePay:
		d.sortedJSON()
	}
}

// wrongHeaders reports signature headers of other providers.
func (d *diagnosis) wrongHeaders() {
	for _, fh := range foreignHeaders {
		if d.h.Get(fh.name) == "" || d.p.ownsHeader(fh.name) {
			continue
		}
		d.say("wrong header for %s: %s is sent by %s, not by %s (which signs in %s) — check the endpoint, the provider and the secret",
			d.p.name, fh.name, fh.who, d.p.title, strings.Join(d.p.headers, " and "))
	}
}

// timestampHeader diagnoses JoPay's and JoPay Checkout's "t=<unix>,v1=<hex>" header.
func (d *diagnosis) timestampHeader() {
	name := d.p.headers[0]
	raw := d.h.Get(name)
	if raw == "" {
		d.say("header missing: %s is not among the headers given (use --header '%s: t=…,v1=…')", name, name)
		d.fail("header missing: %s", name)
		return
	}
	var ts string
	var sigs []string
	for _, part := range strings.Split(raw, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			d.say("header malformed: %s entry %q is not key=value (want v1=<hex>,t=<unix seconds>)", name, part)
			d.fail("header malformed: %s", name)
			return
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if ts == "" {
		d.say("header malformed: %s has no t=<unix seconds> entry", name)
		d.fail("header malformed: %s has no timestamp", name)
		return
	}
	if len(sigs) == 0 {
		d.say("header malformed: %s has no v1=<hex> entry", name)
		d.fail("header malformed: %s has no v1 signature", name)
		return
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		d.say("header malformed: %s t=%q is not a whole number of unix seconds", name, ts)
		d.fail("header malformed: %s timestamp", name)
		return
	}
	if len(ts) >= 13 {
		d.say("note: t=%s looks like milliseconds; %s signs unix seconds", ts, d.p.title)
	}
	if !d.hexSignatures(name, sigs, sha256.Size) {
		return
	}
	d.timestamped(ts, time.Unix(secs, 0), sigs, nil)
}

// pepayHeaders diagnoses Pepay's separate signature and millisecond timestamp headers.
func (d *diagnosis) pepayHeaders() {
	sig, prev, ts := d.h.Get(pepay.SignatureHeader), d.h.Get(pepay.PreviousSignatureHeader), d.h.Get(pepay.TimestampHeader)
	missing := []string{}
	if sig == "" && prev == "" {
		missing = append(missing, pepay.SignatureHeader)
	}
	if ts == "" {
		missing = append(missing, pepay.TimestampHeader)
	}
	if len(missing) > 0 {
		d.say("header missing: %s not among the headers given", strings.Join(missing, " and "))
		d.fail("header missing: %s", strings.Join(missing, ", "))
		return
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		d.say("header malformed: %s %q is not a whole number of unix milliseconds", pepay.TimestampHeader, ts)
		d.fail("header malformed: %s", pepay.TimestampHeader)
		return
	}
	if len(ts) <= 10 {
		d.say("header malformed: %s %s looks like seconds; Pepay sends unix milliseconds", pepay.TimestampHeader, ts)
	}
	var sigs []string
	labels := map[string]string{}
	for _, s := range []struct{ name, v string }{{pepay.SignatureHeader, sig}, {pepay.PreviousSignatureHeader, prev}} {
		if s.v == "" {
			continue
		}
		if !d.hexSignatures(s.name, []string{s.v}, sha256.Size) {
			return
		}
		sigs = append(sigs, s.v)
		labels[s.v] = s.name
	}
	d.timestamped(ts, time.UnixMilli(ms), sigs, labels)
}

// hexSignatures reports signatures that are not lowercase hex of the digest size.
func (d *diagnosis) hexSignatures(header string, sigs []string, size int) bool {
	for _, s := range sigs {
		if _, err := hex.DecodeString(s); err != nil || len(s) != 2*size {
			d.say("header malformed: %s signature %q is not %d hex characters (HMAC-SHA%d)", header, abbrev(s), 2*size, 8*size)
			d.fail("header malformed: %s signature", header)
			return false
		}
		if s != strings.ToLower(s) {
			d.say("note: %s signature is upper-case hex; the provider sends lower-case", header)
		}
	}
	return true
}

// timestamped checks signatures over "<ts>.<body>" for every secret, then the timestamp, then
// body variants when nothing matched.
func (d *diagnosis) timestamped(ts string, signedAt time.Time, sigs []string, labels map[string]string) {
	age := d.now.Sub(signedAt)
	matches := func(body []byte, secret string) string {
		want := webhook.Sign(secret, ts, body)
		for _, s := range sigs {
			if hmac.Equal([]byte(want), []byte(strings.ToLower(s))) {
				if labels != nil {
					return labels[s]
				}
				return "v1"
			}
		}
		return ""
	}
	for _, c := range d.cands {
		where := matches(d.body, c.secret)
		if where == "" {
			continue
		}
		d.say("%s: matches (%s)", c.label, where)
		off := age
		if off < 0 {
			off = -off
		}
		if off > d.tolerance {
			dir := "old"
			if age < 0 {
				dir = "in the future"
			}
			d.say("timestamp outside tolerance by %s: signed at %s, %s %s; tolerance %s — a replayed or delayed delivery, or a clock off",
				(off - d.tolerance).Truncate(time.Second), signedAt.UTC().Format(time.RFC3339), off.Truncate(time.Second), dir, d.tolerance)
			d.verdict = c.label
			d.fail("timestamp outside tolerance by %s", (off - d.tolerance).Truncate(time.Second))
			return
		}
		d.say("timestamp: within tolerance (signed %s ago; tolerance %s)", age.Truncate(time.Second), d.tolerance)
		d.verdict = "signed with the " + c.label
		return
	}
	for _, c := range d.cands {
		d.say("%s: no signature matches the body as received", c.label)
	}
	for _, v := range bodyVariants(d.body) {
		for _, c := range d.cands {
			if matches(v.body, c.secret) != "" {
				d.say("body changed: %s — the signature matches the %s with that undone. Verify the raw request bytes exactly as received.", v.what, c.label)
				d.fail("body changed after signing: %s", v.what)
				return
			}
		}
	}
	d.say("no change of the body that paykit recognizes makes it verify: the secret is wrong (another endpoint's, the test one, or rotated), or the body was edited")
	d.fail("signature mismatch: wrong secret or an edited body")
}

// sortedJSON diagnoses a JovePay IPN: HMAC-SHA512 over key-sorted JSON in three forms.
func (d *diagnosis) sortedJSON() {
	var name, sig string
	for _, hn := range d.p.headers {
		if v := d.h.Get(hn); v != "" {
			name, sig = hn, v
			break
		}
	}
	if sig == "" {
		d.say("header missing: neither %s nor %s is among the headers given", jovepay.SignatureHeader, jovepay.NOWPaymentsSignatureHeader)
		d.fail("header missing: %s", jovepay.SignatureHeader)
		return
	}
	if _, err := hex.DecodeString(sig); err != nil || (len(sig) != 2*sha512.Size && len(sig) != 2*sha256.Size) {
		d.say("header malformed: %s %q is not %d hex characters (HMAC-SHA512)", name, abbrev(sig), 2*sha512.Size)
		d.fail("header malformed: %s", name)
		return
	}
	sigLower := []byte(strings.ToLower(sig))
	if len(sig) == 2*sha256.Size {
		d.say("note: %s has %d hex characters, an HMAC-SHA256; JovePay documents HMAC-SHA512 (%d)", name, len(sig), 2*sha512.Size)
	}
	if !json.Valid(d.body) {
		d.say("body is not valid JSON: the sorted-JSON signature cannot be computed")
	}
	for _, c := range d.cands {
		var why []string
		for _, fname := range formOrder {
			want, err := webhook.SignSortedJSONForm(c.secret, d.body, formNames[fname])
			switch {
			case err != nil:
				why = append(why, fname+": "+strings.TrimPrefix(err.Error(), "webhook: "))
			case hmac.Equal([]byte(want), sigLower):
				d.say("%s: matches in the %s form", c.label, fname)
				d.verdict = fmt.Sprintf("signed with the %s in the %s form", c.label, fname)
				return
			default:
				why = append(why, fname+": no match")
			}
		}
		d.say("%s: %s", c.label, strings.Join(why, "; "))
	}
	for _, c := range d.cands {
		m := hmac.New(sha512.New, []byte(c.secret))
		m.Write(d.body)
		if hmac.Equal([]byte(hex.EncodeToString(m.Sum(nil))), sigLower) {
			d.say("the signature is HMAC-SHA512 of the raw body under the %s, not of the key-sorted JSON: the sender did not canonicalize the JSON as JovePay does", c.label)
			d.fail("signed over the raw body instead of key-sorted JSON")
			return
		}
		m = hmac.New(sha256.New, []byte(c.secret))
		m.Write(d.body)
		if hmac.Equal([]byte(hex.EncodeToString(m.Sum(nil))), sigLower) {
			d.say("the signature is HMAC-SHA256 of the raw body under the %s (some JovePay-branded code signs so); the verifier accepts it only with webhook.WithRawBodyFallback", c.label)
			d.verdict = "raw-body HMAC-SHA256 with the " + c.label
			d.fail("HMAC-SHA256 of the raw body: accepted only with the raw-body fallback")
			return
		}
	}
	for _, v := range bodyVariants(d.body) {
		for _, c := range d.cands {
			for _, fname := range formOrder {
				want, err := webhook.SignSortedJSONForm(c.secret, v.body, formNames[fname])
				if err == nil && hmac.Equal([]byte(want), sigLower) {
					d.say("body changed: %s — the signature matches the %s in the %s form with that undone", v.what, c.label, fname)
					d.fail("body changed after signing: %s", v.what)
					return
				}
			}
		}
	}
	d.say("no form matches under any secret. Key order and whitespace do not matter for JovePay (the body is re-sorted before signing), so re-serialization alone cannot cause this: the secret is wrong (each IPN secret is shown once in the dashboard), or a value changed (for example a number re-written as 25.0 or 2.5e1)")
	d.fail("signature mismatch: wrong IPN secret or a changed value")
}

// libraryVerify runs the provider's own verifier, the one a handler uses.
func (d *diagnosis) libraryVerify() error {
	opts := []webhook.Option{webhook.WithClock(func() time.Time { return d.now })}
	if d.p.timestamped {
		opts = append(opts, webhook.WithTolerance(d.tolerance))
	}
	if len(d.cands) > 1 {
		opts = append(opts, webhook.WithPreviousSecrets(d.cands[1].secret))
	}
	secret := d.cands[0].secret
	switch d.p.name {
	case provJoPay:
		v, err := jopay.NewWebhookVerifier(secret, opts...)
		if err != nil {
			return err
		}
		return v.Verify(d.body, d.h.Get(jopay.SignatureHeader))
	case provCheckout:
		v, err := jopaycheckout.NewWebhookVerifier(secret, opts...)
		if err != nil {
			return err
		}
		return v.Verify(d.body, d.h.Get(jopaycheckout.SignatureHeader))
	case provJovePay:
		v, err := jovepay.NewIPNVerifier(secret, opts...)
		if err != nil {
			return err
		}
		return v.Verify(d.body, d.h)
	default:
		v, err := pepay.NewWebhookVerifier(secret, opts...)
		if err != nil {
			return err
		}
		return v.Verify(d.body, d.h)
	}
}

// variant is a guess at the body as it was signed, undoing one kind of change in transit.
type variant struct {
	what string
	body []byte
}

var uEscape = regexp.MustCompile(`\\u([0-9a-fA-F]{4})`)

// bodyVariants returns the body as it may have been before common changes in transit.
func bodyVariants(b []byte) []variant {
	var vs []variant
	add := func(what string, nb []byte) {
		if nb != nil && !bytes.Equal(nb, b) {
			vs = append(vs, variant{what, nb})
		}
	}
	// Trailing newline added or removed (an editor, echo, a shell here-doc, a logging proxy).
	if t := bytes.TrimRight(b, "\r\n"); len(t) != len(b) {
		add("a trailing newline was added after signing (the provider signed the body without it)", t)
	} else {
		add("the trailing newline was removed after signing (the provider signed the body with \"\\n\")", append(bytes.Clone(b), '\n'))
	}
	if bytes.Contains(b, []byte("\r\n")) {
		add("line endings were changed to CRLF", bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")))
	}
	if json.Valid(b) {
		var compact bytes.Buffer
		if json.Compact(&compact, b) == nil {
			add("re-serialized JSON: the body was pretty-printed or its whitespace changed; the provider signed it compact", compact.Bytes())
			for _, indent := range []string{"  ", "    ", "\t"} {
				var ind bytes.Buffer
				if json.Indent(&ind, compact.Bytes(), "", indent) == nil {
					add(fmt.Sprintf("re-serialized JSON: the body was compacted; the provider signed it indented (%q)", indent), ind.Bytes())
				}
			}
			var esc bytes.Buffer
			json.HTMLEscape(&esc, compact.Bytes())
			add("re-serialized JSON: <, > and & were unescaped; the provider signed them as \\u003c, \\u003e, \\u0026", esc.Bytes())
		}
		// Re-serialized through a map: key order lost (keys come out sorted).
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) == nil {
			if sorted, err := marshal(v); err == nil {
				add("re-serialized JSON: keys were re-ordered or the body re-encoded by a JSON library", sorted)
			}
		}
	}
	// A proxy or framework decoded escapes the provider sent.
	if !utf8.Valid(b) || bytes.IndexFunc(b, func(r rune) bool { return r > 0x7e }) >= 0 {
		add("a proxy or framework decoded the body: non-ASCII characters arrived raw; the provider sent them as \\uXXXX escapes", escapeNonASCII(b))
	}
	if bytes.Contains(b, []byte("/")) && !bytes.Contains(b, []byte(`\/`)) {
		add("a proxy or framework decoded the body: the provider escaped / as \\/ (PHP json_encode) and it arrived unescaped", bytes.ReplaceAll(b, []byte("/"), []byte(`\/`)))
	}
	if uEscape.Match(b) {
		add("\\uXXXX escapes were added after signing (the body was re-encoded); the provider sent the characters raw", unescapeU(b))
	}
	if dec, err := url.QueryUnescape(string(b)); err == nil && dec != string(b) {
		add("the body arrived percent-encoded; the provider signed the decoded text", []byte(dec))
	}
	// A proxy percent-decoded the body: %20 and %XX sequences the provider sent arrived decoded.
	if bytes.Contains(b, []byte(" ")) {
		add("a proxy decoded the body: it arrived percent-decoded (the provider sent %20 where spaces arrived)", bytes.ReplaceAll(b, []byte(" "), []byte("%20")))
		add("a proxy decoded the body: it arrived form-decoded (the provider sent + where spaces arrived)", bytes.ReplaceAll(b, []byte(" "), []byte("+")))
	}
	if bytes.IndexFunc(b, func(r rune) bool { return r > 0x7e }) >= 0 {
		add("a proxy decoded the body: it arrived percent-decoded (the provider sent non-ASCII characters as %XX)", percentNonASCII(b))
	}
	if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b))); err == nil {
		add("the body arrived base64-encoded (for example API Gateway's isBase64Encoded); the provider signed the decoded bytes", dec)
	}
	return vs
}

func escapeNonASCII(b []byte) []byte {
	var out bytes.Buffer
	for _, r := range string(b) {
		switch {
		case r < 0x7f:
			out.WriteRune(r)
		case r > 0xffff:
			r1, r2 := utf16Pair(r)
			fmt.Fprintf(&out, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
	}
	return out.Bytes()
}

func percentNonASCII(b []byte) []byte {
	var out bytes.Buffer
	for _, c := range b {
		if c > 0x7e {
			fmt.Fprintf(&out, "%%%02X", c)
		} else {
			out.WriteByte(c)
		}
	}
	return out.Bytes()
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// unescapeU replaces \uXXXX escapes of printable characters other than " and \ with the
// characters, as a body sent raw would have had them.
func unescapeU(b []byte) []byte {
	return uEscape.ReplaceAllFunc(b, func(m []byte) []byte {
		n, err := strconv.ParseUint(string(m[2:]), 16, 32)
		r := rune(n)
		if err != nil || r < 0x20 || r == '"' || r == '\\' || (r >= 0xd800 && r <= 0xdfff) {
			return m
		}
		return []byte(string(r))
	})
}

func abbrev(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}
