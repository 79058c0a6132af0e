// Package jsonx holds small, tolerant JSON decoding types shared by paykit's
// provider packages.
//
// Payment APIs are inconsistent about primitive encodings: the same id is a
// string in one response and a number in another, timestamps arrive as RFC
// 3339 text, bare dates or unix seconds/milliseconds, and integer amounts in
// minor units are sometimes quoted ("2750000"). The types here accept every
// such form, never go through float64 (so no digit is lost), and report
// malformed input with an error that starts with "jsonx:".
//
// Each type decodes JSON null to its zero value.
package jsonx

import "bytes"

// maxEcho bounds how much of a malformed input is quoted back in an error,
// so that a huge or hostile payload cannot bloat logs.
const maxEcho = 64

// echo returns at most maxEcho bytes of b for use in an error message.
func echo(b []byte) string {
	if len(b) > maxEcho {
		return string(b[:maxEcho]) + "…"
	}
	return string(b)
}

// isNull reports whether b is the JSON literal null.
func isNull(b []byte) bool {
	return bytes.Equal(b, []byte("null"))
}

// kind names the JSON value type starting b, for error messages.
func kind(b []byte) string {
	if len(b) == 0 {
		return "empty input"
	}
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case '"':
		return "string"
	case 'n':
		return "null"
	}
	return "number"
}
