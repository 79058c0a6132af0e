package transport

import (
	"html"
	"slices"
	"strings"
	"unicode/utf8"
)

// Redaction of credentials a server echoes.
//
// A server can echo a credential it received in any escaping text goes through on its way into
// a response: JSON string escapes (\uXXXX in either case for some or all characters, \/ and the
// short escapes), percent-encoding (either case, '+' for a space in form encoding), HTML
// character references (decimal, hex, named, with or without the ';'), and layers of these (a
// percent-encoded URL in a JSON string, an HTML page quoting a query string). Listing encoded
// forms of each credential cannot cover a server that escapes only some characters, so the
// redactor decodes the text instead: layer 0 is the text as received and layer i+1 is layer i
// with every escape of the three kinds decoded once, up to redactLayers layers. Every layer is
// searched for every credential (and for the credential's own decoded forms, in case it
// contains something that looks like an escape), a match is mapped back to the span of the
// original text its characters came from, and those spans are replaced with "[REDACTED]". A
// space and a '+' compare equal, for form encoding.
//
// Decoding every kind at once can let an escape that begins before a credential run into it
// (the "%ab" of "50%ab\u002B…" where the credential is "ab+…"), so the received text is also
// decoded one kind at a time. The same can in principle happen in deeper layers, where it is
// not covered: a credential is found in any layer as long as no escape begins in the text
// before it and runs into it there. A replaced span can change how the text before it
// decodes (an HTML reference without its ';' reads the digits after it), so a text that
// changed is searched again until nothing more is found.
//
// The layers run as a pipeline over the text in one pass, with the matching done by one
// Knuth–Morris–Pratt automaton per credential form per layer, so the work is linear in the
// size of the text (times the number of forms, layers and passes, all small) and the memory
// beyond the output is bounded by the longest credential. A layer stays dormant, costing a
// copy per byte, until the layer below it has decoded an escape.

const (
	// redactLayers is how many times escapes are decoded: enough for an HTML page quoting a
	// JSON string that holds a percent-encoded query value that was itself percent-encoded.
	redactLayers = 4
	// minSecret is the shortest value redacted: replacing shorter ones would mangle ordinary
	// text without protecting anything.
	minSecret = 4
	// maxEscape bounds the length of one escape (an HTML reference with leading zeros).
	maxEscape = 40
	// redactPasses bounds how often a text is searched again after a replacement.
	redactPasses = 4
	// redactedMark replaces every credential.
	redactedMark = "[REDACTED]"
)

// redactor finds credentials in text whatever escaping a server applied. It is built for one
// set of credentials and is cheap to build; it is not safe for concurrent use.
type redactor struct {
	pats   []kmp
	maxLen int
	first  [256]bool // the first bytes of the patterns
}

// kmp is one folded credential form with its failure function.
type kmp struct {
	p    []byte
	fail []int
}

// newRedactor prepares the search for secrets and their decoded forms.
func newRedactor(secrets []string) *redactor {
	r := &redactor{}
	var forms []string
	for _, sec := range secrets {
		if len(sec) < minSecret {
			continue
		}
		// The credential itself, and its own decoded forms, in case the server decoded it once
		// more than it encoded it (a credential containing "%41" or "&amp;").
		for f, i := sec, 0; ; i++ {
			if len(f) >= minSecret {
				folded := foldSpace(f)
				if !slices.Contains(forms, folded) {
					forms = append(forms, folded)
				}
			}
			if i == redactLayers || !strings.ContainsAny(f, `\%&`) {
				break
			}
			next := decodeOnce(f)
			if next == f {
				break
			}
			f = next
		}
	}
	for _, f := range forms {
		r.pats = append(r.pats, newKMP(f))
		r.maxLen = max(r.maxLen, len(f))
		r.first[f[0]] = true
	}
	return r
}

func newKMP(p string) kmp {
	fail := make([]int, len(p))
	for i, k := 1, 0; i < len(p); i++ {
		for k > 0 && p[i] != p[k] {
			k = fail[k-1]
		}
		if p[i] == p[k] {
			k++
		}
		fail[i] = k
	}
	return kmp{p: []byte(p), fail: fail}
}

// foldSpace maps ' ' to '+', so a space and its form encoding compare equal.
func foldSpace(s string) string { return strings.ReplaceAll(s, " ", "+") }

// redact returns s with every credential, in any escaping, replaced by "[REDACTED]".
//
// Replacing text can change how the text before it decodes: an HTML reference without its ';'
// ("&#48") reads the digits after it as part of its number, and reads as "0" once those digits
// are gone. So a text that changed is searched again, until nothing more is found (at most
// redactPasses times). Text without a credential is searched once.
func (r *redactor) redact(s string) string {
	if len(r.pats) == 0 || len(s) == 0 {
		return s
	}
	changed := false
	for range redactPasses {
		out, ok := r.redactOnce(s)
		if !ok {
			break
		}
		s, changed = out, true
	}
	if changed && strings.Contains(s, redactedMark+redactedMark) {
		for strings.Contains(s, redactedMark+redactedMark) {
			s = strings.ReplaceAll(s, redactedMark+redactedMark, redactedMark)
		}
	}
	return s
}

// redactOnce replaces every match of one search; ok is false when there was none.
func (r *redactor) redactOnce(s string) (string, bool) {
	spans := r.find(s)
	if len(spans) == 0 {
		return s, false
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var b strings.Builder
	b.Grow(len(s))
	at := 0
	for i := 0; i < len(spans); {
		start, end := spans[i].start, spans[i].end
		for i++; i < len(spans) && spans[i].start <= end; i++ {
			end = max(end, spans[i].end)
		}
		b.WriteString(s[at:start])
		b.WriteString(redactedMark)
		at = end
	}
	b.WriteString(s[at:])
	return b.String(), true
}

// span is a byte range [start, end) of the original text.
type span struct{ start, end int }

// unit is one byte of a layer, with the span of the original text it was decoded from.
type unit struct {
	b          byte
	start, end int
}

// find runs s through the layers and returns the spans of every match, in no particular order.
func (r *redactor) find(s string) []span {
	var spans []span
	layers := 1
	if strings.ContainsAny(s, `\%&`) {
		layers += redactLayers // without an escape character every layer would equal the first
	}
	ring := 1
	for ring < r.maxLen {
		ring *= 2
	}
	newLayer := func(active bool) *matchLayer {
		l := &matchLayer{r: r, state: make([]int, len(r.pats)), spans: &spans, active: active}
		if !active { // the first layer is the text itself: a byte's span is its own offset
			l.ring = make([]unit, ring)
			l.mask = ring - 1
		}
		return l
	}
	// The chain: each layer decodes every kind of escape in the one below.
	l0 := newLayer(true)
	var decs []*decoder
	for l, i := l0, 1; i < layers; i++ {
		d := &decoder{out: newLayer(false)}
		l.next, l = d, d.out
		decs = append(decs, d)
	}
	// Decoding every kind at once lets an escape that begins in the text before a credential
	// run into it: in `50%ab\u002B…` the percent escape swallows the "ab" of a JSON-escaped
	// "ab+…". So the text itself is also decoded one kind at a time, where two kinds occur.
	var leaves []*decoder
	if layers > 1 {
		for _, kind := range []byte{'\\', '%', '&'} {
			if strings.IndexByte(s, kind) >= 0 && strings.ContainsAny(s, strings.ReplaceAll(`\%&`, string(kind), "")) {
				leaves = append(leaves, &decoder{out: newLayer(false), only: kind})
			}
		}
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		l0.n++
		if l0.partial != 0 || r.first[fold(b)] {
			l0.match(b, i+1, l0.n)
		}
		u := unit{b: b, start: i, end: i + 1}
		if l0.next != nil {
			l0.next.feed(u)
		}
		for _, d := range leaves {
			d.feed(u)
		}
	}
	for _, d := range decs {
		d.flush() // in order: flushing one layer feeds the next
	}
	for _, d := range leaves {
		d.flush()
	}
	return spans
}

func fold(b byte) byte {
	if b == ' ' {
		return '+'
	}
	return b
}

// matchLayer searches one layer for every pattern and passes its bytes on to the next decoder.
// A layer above the first starts inactive: until the decoder below it has decoded an escape, it
// carries the same bytes as the layer below, which has searched them already, so it only keeps
// its ring of recent bytes. On the first decoded escape it searches that ring to catch up.
type matchLayer struct {
	r       *redactor
	state   []int  // matched prefix length per pattern
	partial int    // patterns with a matched prefix
	ring    []unit // the layer's last len(ring) bytes (a power of two); nil for the text itself
	mask    int
	n       int // bytes seen
	active  bool
	spans   *[]span
	next    *decoder // nil for the last layer
}

func (l *matchLayer) push(u unit) {
	l.ring[l.n&l.mask] = u
	l.n++
	if l.active && (l.partial != 0 || l.r.first[fold(u.b)]) {
		l.match(u.b, u.end, l.n)
	}
	if l.next != nil {
		l.next.feed(u)
	}
}

// activate starts the search on a layer whose bytes are about to differ from the layer below.
func (l *matchLayer) activate() {
	if l.active {
		return
	}
	l.active = true
	for i := max(0, l.n-len(l.ring)); i < l.n; i++ {
		u := l.ring[i&l.mask]
		l.match(u.b, u.end, i+1)
	}
}

// match advances every pattern over byte b, the n-th of the layer, which ends at end in the
// original text, and records the span of every completed match.
func (l *matchLayer) match(b byte, end, n int) {
	b = fold(b)
	for i := range l.r.pats {
		p := &l.r.pats[i]
		k := l.state[i]
		if k == 0 && p.p[0] != b {
			continue
		}
		was := k
		for k > 0 && p.p[k] != b {
			k = p.fail[k-1]
		}
		if p.p[k] == b {
			k++
		}
		if k == len(p.p) {
			start := n - k // the text itself: one byte per offset
			if l.ring != nil {
				start = l.ring[(n-k)&l.mask].start
			}
			*l.spans = append(*l.spans, span{start: start, end: end})
			k = p.fail[k-1]
		}
		l.state[i] = k
		switch {
		case was == 0 && k != 0:
			l.partial++
		case was != 0 && k == 0:
			l.partial--
		}
	}
}

// decoder decodes one layer of escapes: JSON string escapes, percent-encoding and HTML
// character references, each at most maxEscape bytes long. A decoded byte carries the span of
// the whole escape. Text that only looks like the start of an escape passes through unchanged.
type decoder struct {
	out  *matchLayer // the next layer; nil when collecting
	coll []byte      // the decoded bytes, when out is nil
	only byte        // 0 to decode every kind, or the first character of the one kind to decode
	pend []unit      // a possible escape being read; pend[0].b is '\\', '%' or '&'
}

func (d *decoder) emit(u unit) {
	if d.out == nil {
		d.coll = append(d.coll, u.b)
		return
	}
	d.out.push(u)
}

// starts reports whether b may start an escape the decoder decodes.
func (d *decoder) starts(b byte) bool {
	if d.only != 0 {
		return b == d.only
	}
	return b == '\\' || b == '%' || b == '&'
}

func (d *decoder) feed(u unit) {
	if len(d.pend) == 0 && !d.starts(u.b) {
		d.emit(u)
		return
	}
	d.pend = append(d.pend, u)
	d.drain(false)
}

// flush decodes what is left at the end of the text.
func (d *decoder) flush() { d.drain(true) }

// drain decodes the pending bytes as far as they go. Every byte is parsed at most a bounded
// number of times: a failed escape passes its first byte through and parses the rest again,
// and the rest of a failed escape holds no escape start except possibly its last byte.
func (d *decoder) drain(eof bool) {
	for len(d.pend) > 0 {
		if !d.starts(d.pend[0].b) {
			d.emit(d.pend[0])
			d.shift(1)
			continue
		}
		var buf [utf8.UTFMax * 2]byte
		n, out := parseEscape(d.pend, eof, buf[:0])
		switch {
		case n == 0 && len(d.pend) < maxEscape:
			return // wait for more
		case n <= 0:
			d.emit(d.pend[0]) // not an escape: the character stands for itself
			d.shift(1)
		default:
			if d.out != nil {
				d.out.activate()
			}
			start, end := d.pend[0].start, d.pend[n-1].end
			for _, b := range out {
				d.emit(unit{b: b, start: start, end: end})
			}
			d.shift(n)
		}
	}
}

func (d *decoder) shift(n int) {
	m := copy(d.pend, d.pend[n:])
	d.pend = d.pend[:m]
}

// parseEscape reads one escape at the start of p. It returns the number of bytes it spans and
// appends the decoded bytes to dst; 0 means p is a prefix of a possible escape (more input is
// needed) and -1 that p does not start an escape. At eof a prefix is not an escape.
func parseEscape(p []unit, eof bool, dst []byte) (int, []byte) {
	need := 0
	if eof {
		need = -1
	}
	if len(p) < 2 {
		return need, dst
	}
	switch p[0].b {
	case '%':
		hi := hexVal(p[1].b)
		if hi < 0 {
			return -1, dst
		}
		if len(p) < 3 {
			return need, dst
		}
		lo := hexVal(p[2].b)
		if lo < 0 {
			return -1, dst
		}
		return 3, append(dst, byte(hi<<4|lo))
	case '\\':
		switch c := p[1].b; c {
		case '"', '\\', '/':
			return 2, append(dst, c)
		case 'b':
			return 2, append(dst, '\b')
		case 'f':
			return 2, append(dst, '\f')
		case 'n':
			return 2, append(dst, '\n')
		case 'r':
			return 2, append(dst, '\r')
		case 't':
			return 2, append(dst, '\t')
		case 'u':
			return parseUnicodeEscape(p, need, dst)
		}
		return -1, dst
	case '&':
		return parseCharRef(p, need, dst)
	}
	return -1, dst
}

// parseUnicodeEscape reads \uXXXX, and a following \uXXXX when the first is a high surrogate.
// A lone surrogate decodes to U+FFFD, as encoding/json does.
func parseUnicodeEscape(p []unit, need int, dst []byte) (int, []byte) {
	cu, ok := hex4(p, 2)
	if !ok {
		return -1, dst
	}
	if cu < 0 {
		return need, dst
	}
	r := rune(cu)
	switch {
	case 0xD800 <= r && r < 0xDC00:
		// A high surrogate pairs with a following \uDC00–\uDFFF.
		if len(p) > 6 && p[6].b != '\\' || len(p) > 7 && p[7].b != 'u' {
			return 6, utf8.AppendRune(dst, utf8.RuneError)
		}
		lo, ok := hex4(p, 8)
		switch {
		case !ok:
		case lo < 0:
			if need == 0 {
				return 0, dst
			}
		case 0xDC00 <= lo && lo < 0xE000:
			return 12, utf8.AppendRune(dst, 0x10000+(r-0xD800)<<10+(rune(lo)-0xDC00))
		}
		return 6, utf8.AppendRune(dst, utf8.RuneError)
	case 0xDC00 <= r && r < 0xE000:
		return 6, utf8.AppendRune(dst, utf8.RuneError)
	}
	return 6, utf8.AppendRune(dst, r)
}

// hex4 reads four hex digits at p[at:]: ok false when a present byte is not one, value -1 when
// the input ends first.
func hex4(p []unit, at int) (int, bool) {
	v := 0
	for i := at; i < at+4; i++ {
		if i >= len(p) {
			return -1, true
		}
		d := hexVal(p[i].b)
		if d < 0 {
			return 0, false
		}
		v = v<<4 | d
	}
	return v, true
}

// parseCharRef reads an HTML character reference and decodes it exactly as html.UnescapeString
// does: &#DDD; and &#xHHH; (the ';' may be missing), the named references, and the legacy
// names HTML accepts without a ';' ("&amp", or the "&not" of "&notit;"). A reference longer than
// maxEscape is decoded from its first maxEscape bytes.
func parseCharRef(p []unit, need int, dst []byte) (int, []byte) {
	numeric := p[1].b == '#'
	i := 1
	if numeric {
		i = 2
		if len(p) > 2 && (p[2].b == 'x' || p[2].b == 'X') {
			i = 3
		}
	}
	first := i
	for ; i < len(p); i++ {
		c := p[i].b
		if numeric && first == 2 && !('0' <= c && c <= '9') || numeric && first == 3 && hexVal(c) < 0 ||
			!numeric && !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			break
		}
	}
	if i == len(p) && need == 0 && len(p) < maxEscape {
		return 0, dst // the name or number may go on
	}
	if i == first {
		return -1, dst
	}
	if i < len(p) && p[i].b == ';' {
		i++
	}
	var buf [maxEscape]byte
	for j := 0; j < i; j++ {
		buf[j] = p[j].b
	}
	ref := string(buf[:i])
	dec := html.UnescapeString(ref)
	if dec == ref {
		return -1, dst
	}
	// html.UnescapeString may decode a known prefix of the name only ("&notit;" is "¬it;"):
	// what it left of ref is the end of dec, after the one or two characters it decoded.
	for k, at := 0, 0; k < 2 && at < len(dec); k++ {
		_, size := utf8.DecodeRuneInString(dec[at:])
		at += size
		if rest := dec[at:]; strings.HasSuffix(ref, rest) && len(rest) < i-1 {
			return i - len(rest), append(dst, dec[:at]...)
		}
	}
	return -1, dst
}

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// decodeOnce decodes one layer of escapes in s.
func decodeOnce(s string) string {
	var d decoder
	for i := 0; i < len(s); i++ {
		d.feed(unit{b: s[i], start: i, end: i + 1})
	}
	d.flush()
	return string(d.coll)
}

// RedactSecrets returns s with every value of secrets (those of 4 bytes or more) replaced by
// "[REDACTED]", in whatever JSON, percent or HTML escaping it appears: the redaction the client
// applies to error bodies, for text that reaches an error or a log line another way (a
// WebSocket close reason, a stream's error frame).
func RedactSecrets(s string, secrets []string) string {
	return newRedactor(secrets).redact(s)
}
