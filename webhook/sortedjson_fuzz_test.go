package webhook

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fuzzSeeds are starting points for the fuzz target, beyond testdata/fuzz/<Target>/.
var fuzzSeeds = []string{
	`{}`, `[]`, `null`, `5`, `"ab"`, `{"a":[1,{"b":null}],"c":"é"}`,
	`{"1":"b","0":"a"}`, `{"2":1,"1e1":2,"1f":3}`, `{"__proto__":{"x":1},"a":1}`,
	`{"a":"\ud800\ud83d\ude00\u0000\u007f"}`, `{"a":-0.0,"b":1e-7,"c":9223372036854775808}`,
	`{"a":1,"a":2}`, `{"a":1e400}`, "{\"a\":\"\xff\"}", `[1,]`, ` {"b" : [ ] } `,
}

// FuzzSortedJSONRoundTrip checks that whatever SignSortedJSON or SignSortedJSONForm signs,
// Verify accepts under the same secret, and that Verify never panics on arbitrary input.
func FuzzSortedJSONRoundTrip(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add([]byte(s), []string{"ipn-secret", " padded ", "sécret", "k"}[i%4], "")
	}
	f.Add([]byte(`{"a":1}`), "k", strings.Repeat("0", 128))
	f.Fuzz(func(t *testing.T, body []byte, secret, signature string) {
		v, err := NewSortedJSONVerifier(secret)
		if err != nil {
			require.ErrorIs(t, err, ErrEmptySecret, "NewSortedJSONVerifier")
			return
		}
		_ = v.Verify(body, signature) // arbitrary signature: must not panic
		for _, form := range []SortedJSONForm{FormNode, FormPHP, FormPython} {
			// The verifier's AppendCanonical is CanonicalSortedJSON with reused buffers.
			want, wantErr := CanonicalSortedJSON(body, form)
			got, gotErr := v.AppendCanonical([]byte("prefix"), body, form)
			if wantErr != nil {
				require.Error(t, gotErr, "AppendCanonical accepts %q in the %s form", body, form)
				assert.Equal(t, wantErr.Error(), gotErr.Error(), "AppendCanonical error for %q (%s)", body, form)
				assert.Equal(t, "prefix", string(got), "AppendCanonical changed dst on error")
			} else {
				require.NoError(t, gotErr, "AppendCanonical refuses %q in the %s form", body, form)
				assert.Equal(t, "prefix"+string(want), string(got), "AppendCanonical text for %q (%s)", body, form)
			}
			sig, err := SignSortedJSONForm(secret, body, form)
			if err != nil {
				continue
			}
			require.NoError(t, v.Verify(body, sig), "Verify rejects its own %s signature of %q", form, body)
			if sig2, _ := SignSortedJSONForm(secret+"x", body, form); sig2 != "" {
				require.ErrorIs(t, v.Verify(body, sig2), ErrSignatureMismatch, "Verify accepts a signature under another secret")
			}
		}
	})
}
