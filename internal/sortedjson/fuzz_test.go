package sortedjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fuzzSeeds are starting points for both fuzz targets, beyond testdata/fuzz/<Target>/.
var fuzzSeeds = []string{
	`{}`, `[]`, `null`, `5`, `"ab"`, `{"a":[1,{"b":null}],"c":"é"}`,
	`{"1":"b","0":"a"}`, `{"2":1,"1e1":2,"1f":3}`, `{"__proto__":{"x":1},"a":1}`,
	`{"a":"\ud800\ud83d\ude00\u0000\u007f"}`, `{"a":-0.0,"b":1e-7,"c":9223372036854775808}`,
	`{"a":1,"a":2}`, `{"a":1e400}`, "{\"a\":\"\xff\"}", `[1,]`, ` {"b" : [ ] } `,
}

// FuzzSortedJSONCanonical checks the canonicalizer on arbitrary bytes: no panics; a body it
// accepts is valid JSON; each form's output is valid JSON (Python's and PHP's also ASCII-only);
// the Node and Python forms are fixed points (canonicalizing them again changes nothing); and
// refusals carry the documented sentinels.
func FuzzSortedJSONCanonical(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		accepted := false
		for _, form := range []Form{FormNode, FormPHP, FormPython} {
			out, err := Canonical(body, form)
			if err != nil {
				if !errors.Is(err, ErrInvalidPayload) && !errors.Is(err, ErrNoCanonicalForm) {
					t.Fatalf("%s: unexpected error %v", form, err)
				}
				if errors.Is(err, ErrNoCanonicalForm) {
					accepted = true
				}
				continue
			}
			accepted = true
			require.True(t, json.Valid(out), "%s form of %q is not JSON: %q", form, body, out)
			if form != FormNode {
				for _, c := range out {
					require.Less(t, c, byte(0x80), "%s form of %q is not ASCII: %q", form, body, out)
				}
			}
			if form == FormNode || form == FormPython {
				again, err := Canonical(out, form)
				require.NoError(t, err, "%s form of %q is not a fixed point: %q -> %q, %v", form, body, out, again, err)
				require.True(t, bytes.Equal(again, out), "%s form of %q is not a fixed point: %q -> %q, %v", form, body, out, again, err)
			}
		}
		if accepted && !json.Valid(body) {
			t.Fatalf("accepted a body encoding/json calls invalid: %q", body)
		}
		// The verifier's one-pass fast path must agree with the general Node form wherever it
		// takes a body.
		var fn fastNode
		if fast, ok := fn.appendNode(nil, body); ok {
			general, err := Canonical(body, FormNode)
			require.NoError(t, err, "fast path took %q as %q; general Node form %q, %v", body, fast, general, err)
			require.True(t, bytes.Equal(fast, general), "fast path took %q as %q; general Node form %q, %v", body, fast, general, err)
		}
	})
}

// FuzzPHPKeyOrder checks, on arbitrary sets of object keys (NUL-separated, duplicates
// dropped as the parser would refuse them), that sortPHPKeys — pdqsort for the key sets PHP
// orders totally, the budgeted zend_sort port for the rest — gives exactly the order of the
// unbounded zend_sort port, which reproduces ksort() step by step.
func FuzzPHPKeyOrder(f *testing.F) {
	for i := 0; i+8 <= len(phpKeyPool); i += 4 {
		f.Add(strings.Join(phpKeyPool[i:i+8], "\x00"))
	}
	f.Add("2\x001e1\x001f")      // 2 < "1e1" < "1f" < 2
	f.Add("10\x0010a\x009")      // 10 < "10a" < 9 < 10
	f.Add("07\x00 7\x00+7\x007") // equal values: ties by position
	f.Fuzz(func(t *testing.T, joined string) {
		seen := map[string]bool{}
		var keys []string
		for _, k := range strings.Split(joined, "\x00") {
			if !seen[k] && len(keys) < 300 {
				seen[k] = true
				keys = append(keys, k)
			}
		}
		checkPHPOrder(t, keys)
	})
}
