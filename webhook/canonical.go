package webhook

import (
	"errors"
	"fmt"
)

// SortedJSONForm names one of the three reference programs in JovePay's documentation that
// turn an IPN body into the "sorted JSON" text it signs. They disagree on edge cases (arrays,
// non-ASCII text, number layout, empty objects, numeric keys), so a body can have up to three
// different canonical texts; SortedJSONVerifier accepts a signature over any of them.
type SortedJSONForm int

const (
	// FormNode is JSON.stringify(sortObject(JSON.parse(body))), the Node.js example and the
	// form SignSortedJSON produces: arrays become index-keyed objects, index-like keys come
	// first in numeric order, text stays raw UTF-8, numbers are JavaScript doubles.
	FormNode SortedJSONForm = iota
	// FormPHP is json_encode(tksort(json_decode(body, true)), JSON_UNESCAPED_SLASHES) on PHP
	// 8.2+: {} and objects keyed 0..n-1 become lists, ksort() order, non-ASCII escaped,
	// doubles written like 1.0e-7.
	FormPHP
	// FormPython is json.dumps(json.loads(body), sort_keys=True, separators=(',', ':')):
	// code-point key order, non-ASCII escaped, exact integers, floats written like 1e-07.
	FormPython
)

// String returns "node", "php" or "python".
func (f SortedJSONForm) String() string {
	switch f {
	case FormNode:
		return "node"
	case FormPHP:
		return "php"
	case FormPython:
		return "python"
	}
	return fmt.Sprintf("SortedJSONForm(%d)", int(f))
}

// ErrNoCanonicalForm means the chosen reference program fails on this (valid) body, so no
// signature of that form can exist: PHP for a body whose top level is not an object or array
// or that contains a lone UTF-16 surrogate escape, Node for the body null.
var ErrNoCanonicalForm = errors.New("webhook: the reference algorithm cannot canonicalize this payload")

// canon parses a body once and writes its canonical forms; its buffers are reused.
type canon struct {
	doc     sjDoc
	num     decimal
	scratch []int32  // Node key orders being emitted
	php     []phpKey // PHP keys being sorted and emitted
}

// appendForm appends the form f of the parsed document to dst. ok is false when the
// reference program for f fails on this document.
func (c *canon) appendForm(dst []byte, f SortedJSONForm) (_ []byte, ok bool) {
	switch f {
	case FormNode:
		return c.appendNodeRoot(dst)
	case FormPHP:
		return c.appendPHPRoot(dst)
	case FormPython:
		return c.appendPythonValue(dst, 0), true
	}
	return dst, false
}

func checkForm(f SortedJSONForm) error {
	if f < FormNode || f > FormPython {
		return fmt.Errorf("webhook: unknown sorted-JSON form %d", int(f))
	}
	return nil
}

// CanonicalSortedJSON returns the text that the reference program for form signs for
// payload, byte for byte. Errors: ErrInvalidPayload (wrapped with the reason) for a body the
// verifier refuses (not JSON, trailing data, invalid UTF-8, duplicate keys, nesting deeper
// than MaxSortedJSONDepth, a number beyond the float64 range), ErrNoCanonicalForm when that
// reference program fails on the body.
func CanonicalSortedJSON(payload []byte, form SortedJSONForm) ([]byte, error) {
	if err := checkForm(form); err != nil {
		return nil, err
	}
	var c canon
	if err := c.doc.parse(payload); err != nil {
		return nil, err
	}
	out, ok := c.appendForm(make([]byte, 0, len(payload)+16), form)
	if !ok {
		return nil, fmt.Errorf("%w (%s form)", ErrNoCanonicalForm, form)
	}
	return out, nil
}
