package transport

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzRedact checks two properties of the redaction of a credential echoed in one of the
// table's encodings:
//
//   - whatever text surrounds it, no layer of the redactor's own decoding of the redacted text
//     holds the credential;
//   - when it stands apart from the surrounding text (a space on both sides, so that no escape
//     begins before it and runs into it), no decoding by the standard library of the redacted
//     text holds it either.
func FuzzRedact(f *testing.F) {
	for _, seed := range []struct {
		prefix, secret, suffix string
		enc                    uint8
	}{
		{`{"message":"key `, "jp_live_FUZZKEY_0001", `"}`, 0},
		{"%4", "41abcdef", "1", 4},
		{`\`, "uvwxyz00", `\u`, 5},
		{"&", "amp;key1", "&#", 13},
		{"<p>", "a b+c d", "</p>", 8},
		{"", "Bearer eyJ.x.y", "", 21},
		{"&not", "itkey-1234", ";", 14},
		{`\uD83D`, "😀😀key", `\uDE00`, 6},
	} {
		f.Add(seed.prefix, seed.secret, seed.suffix, seed.enc)
	}
	f.Fuzz(func(t *testing.T, prefix, secret, suffix string, enc uint8) {
		if len(secret) < minSecret || len(prefix)+len(suffix) > 4096 || len(secret) > 256 {
			return
		}
		// A credential that itself looks like an escape may be decoded into something else;
		// the properties are about credentials that do not.
		if strings.ContainsAny(secret, `\%&[`) {
			return
		}
		e := encodings[int(enc)%len(encodings)]
		folded := foldSpace(secret)
		for _, apart := range []bool{false, true} {
			text := prefix + e.enc(secret) + suffix
			if apart {
				text = prefix + " " + e.enc(secret) + " " + suffix
			}
			out := RedactSecrets(text, []string{secret})
			layer := out
			for i := 0; i <= redactLayers; i++ {
				require.NotContains(t, foldSpace(layer), folded, "%s: layer %d of the redacted text %q still holds %q (input %q)", e.name, i, layer, secret, text)
				layer = decodeOnce(layer)
			}
			if !apart {
				continue
			}
			for _, d := range decodings(out) {
				require.NotContains(t, foldSpace(d), folded, "%s: the redacted text %q decodes to %q, which holds %q (input %q)", e.name, out, d, secret, text)
			}
		}
	})
}
