// Package sortedjson reproduces the "sorted JSON" texts that JovePay's three reference
// programs (Node, PHP, Python) sign for an IPN body, byte for byte, in time linear in the size
// of the body. It backs webhook.SortedJSONVerifier and webhook.CanonicalSortedJSON, which
// document the behaviour; webhook re-exports what a user debugging a signature needs.
package sortedjson

import (
	"errors"
	"fmt"
)

// Form names one of the three reference programs in JovePay's documentation that
// turn an IPN body into the "sorted JSON" text it signs. They disagree on edge cases (arrays,
// non-ASCII text, number layout, empty objects, numeric keys), so a body can have up to three
// different canonical texts; webhook.SortedJSONVerifier accepts a signature over any of them.
type Form int

const (
	// FormNode is JSON.stringify(sortObject(JSON.parse(body))), the Node.js example and the
	// form webhook.SignSortedJSON produces: arrays become index-keyed objects, index-like keys come
	// first in numeric order, text stays raw UTF-8, numbers are JavaScript doubles.
	FormNode Form = iota
	// FormPHP is json_encode(tksort(json_decode(body, true)), JSON_UNESCAPED_SLASHES) on PHP
	// 8.2+: {} and objects keyed 0..n-1 become lists, ksort() order, non-ASCII escaped,
	// doubles written like 1.0e-7.
	FormPHP
	// FormPython is json.dumps(json.loads(body), sort_keys=True, separators=(',', ':')):
	// code-point key order, non-ASCII escaped, exact integers, floats written like 1e-07.
	FormPython
)

// String returns "node", "php" or "python".
func (f Form) String() string {
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

// ErrInvalidPayload means the body is not acceptable input (not JSON, invalid UTF-8,
// duplicate object keys, nested too deeply, ...). It is webhook.ErrInvalidPayload.
var ErrInvalidPayload = errors.New("webhook: invalid payload")

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
	// err is set (to an ErrInvalidPayload error) when the last form written was abandoned
	// because reproducing it would cost more than the body's size allows.
	err error
	// phpLeft is what is left of the zend_sort comparison budget of the PHP form.
	phpLeft int
	// cmps counts the key comparisons of the emitters' O(n log n) sorts (tests bound it).
	cmps int
}

// appendForm appends the form f of the parsed document to dst. ok is false when the
// reference program for f fails on this document, or when c.err is set.
func (c *canon) appendForm(dst []byte, f Form) (_ []byte, ok bool) {
	c.err = nil
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

// CheckForm returns an error for a value that is not one of the three forms.
func CheckForm(f Form) error {
	if f < FormNode || f > FormPython {
		return fmt.Errorf("webhook: unknown sorted-JSON form %d", int(f))
	}
	return nil
}

// Canonical returns the text that the reference program for form signs for
// payload, byte for byte. Errors: ErrInvalidPayload (wrapped with the reason) for a body the
// verifier refuses (not JSON, trailing data, invalid UTF-8, duplicate keys, nesting deeper
// than MaxDepth, a number beyond the float64 range; for FormPHP also an object
// mixing integer and string keys in an order whose ksort() result would take more than a
// linear number of comparisons to reproduce), ErrNoCanonicalForm when that reference program
// fails on the body. Its cost is linear in the size of payload.
func Canonical(payload []byte, form Form) ([]byte, error) {
	if err := CheckForm(form); err != nil {
		return nil, err
	}
	var c canon
	if err := c.doc.parse(payload); err != nil {
		return nil, err
	}
	out, ok := c.appendForm(make([]byte, 0, len(payload)+16), form)
	if c.err != nil {
		return nil, c.err
	}
	if !ok {
		return nil, fmt.Errorf("%w (%s form)", ErrNoCanonicalForm, form)
	}
	return out, nil
}

// Canon parses a body once and writes its canonical forms, reusing its buffers from one body
// to the next. The zero value is ready to use; a Canon is not safe for concurrent use.
type Canon struct{ c canon }

// Parse parses payload, which Canon keeps until the next Parse or Forget. It returns an error
// wrapping ErrInvalidPayload for a body that is refused.
func (c *Canon) Parse(payload []byte) error { return c.c.doc.parse(payload) }

// AppendForm appends the form f of the parsed body to dst. ok is false when the reference
// program for f fails on this body, or when Err is set.
func (c *Canon) AppendForm(dst []byte, f Form) (_ []byte, ok bool) { return c.c.appendForm(dst, f) }

// Err returns the error (wrapping ErrInvalidPayload) for which the last AppendForm abandoned
// its form because reproducing it would cost more than the body's size allows, or nil.
func (c *Canon) Err() error { return c.c.err }

// Forget drops the reference to the last parsed body, so a pooled Canon does not keep it alive.
func (c *Canon) Forget() { c.c.doc.src = nil }

// Retained returns the capacity of the text buffer, in bytes, and of the node array, in
// nodes, that the Canon keeps between bodies.
func (c *Canon) Retained() (textBytes, nodes int) { return cap(c.c.doc.arena), cap(c.c.doc.nodes) }

// FastNode writes the Node form of the bodies inside the subset its one pass handles, reusing
// its buffers. The zero value is ready to use; a FastNode is not safe for concurrent use.
type FastNode struct{ f fastNode }

// NodeForm returns the Node form of payload, valid until the next call, and true; or false
// when payload is outside the subset and needs Canon.
func (n *FastNode) NodeForm(payload []byte) (_ []byte, ok bool) { return n.f.nodeForm(payload) }

// Retained returns the capacity of the output buffer, in bytes, and of the member stacks, in
// members, that the FastNode keeps between bodies.
func (n *FastNode) Retained() (outBytes, members int) {
	return cap(n.f.out), cap(n.f.mem) + cap(n.f.done)
}
