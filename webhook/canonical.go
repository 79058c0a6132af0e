package webhook

import "github.com/paykit-go/paykit/internal/sortedjson"

// SortedJSONForm names one of the three reference programs in JovePay's documentation that
// turn an IPN body into the "sorted JSON" text it signs. They disagree on edge cases (arrays,
// non-ASCII text, number layout, empty objects, numeric keys), so a body can have up to three
// different canonical texts; SortedJSONVerifier accepts a signature over any of them.
type SortedJSONForm int

const (
	// FormNode is JSON.stringify(sortObject(JSON.parse(body))), the Node.js example and the
	// form SignSortedJSON produces: arrays become index-keyed objects, index-like keys come
	// first in numeric order, text stays raw UTF-8, numbers are JavaScript doubles.
	FormNode = SortedJSONForm(sortedjson.FormNode)
	// FormPHP is json_encode(tksort(json_decode(body, true)), JSON_UNESCAPED_SLASHES) on PHP
	// 8.2+: {} and objects keyed 0..n-1 become lists, ksort() order, non-ASCII escaped,
	// doubles written like 1.0e-7.
	FormPHP = SortedJSONForm(sortedjson.FormPHP)
	// FormPython is json.dumps(json.loads(body), sort_keys=True, separators=(',', ':')):
	// code-point key order, non-ASCII escaped, exact integers, floats written like 1e-07.
	FormPython = SortedJSONForm(sortedjson.FormPython)
)

// String returns "node", "php" or "python".
func (f SortedJSONForm) String() string { return sortedjson.Form(f).String() }

// MaxSortedJSONDepth is the deepest nesting of arrays and objects the sorted-JSON verifier and
// canonicalizer accept; deeper bodies are rejected with ErrInvalidPayload.
const MaxSortedJSONDepth = sortedjson.MaxDepth

// ErrNoCanonicalForm means the chosen reference program fails on this (valid) body, so no
// signature of that form can exist: PHP for a body whose top level is not an object or array
// or that contains a lone UTF-16 surrogate escape, Node for the body null.
var ErrNoCanonicalForm = sortedjson.ErrNoCanonicalForm

// CanonicalSortedJSON returns the text that the reference program for form signs for
// payload, byte for byte. Errors: ErrInvalidPayload (wrapped with the reason) for a body the
// verifier refuses (not JSON, trailing data, invalid UTF-8, duplicate keys, nesting deeper
// than MaxSortedJSONDepth, a number beyond the float64 range; for FormPHP also an object
// mixing integer and string keys in an order whose ksort() result would take more than a
// linear number of comparisons to reproduce), ErrNoCanonicalForm when that reference program
// fails on the body. Its cost is linear in the size of payload.
func CanonicalSortedJSON(payload []byte, form SortedJSONForm) ([]byte, error) {
	return sortedjson.Canonical(payload, sortedjson.Form(form))
}

// checkForm returns an error for a form that is not FormNode, FormPHP or FormPython.
func checkForm(f SortedJSONForm) error { return sortedjson.CheckForm(sortedjson.Form(f)) }
