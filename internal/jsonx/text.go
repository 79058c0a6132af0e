package jsonx

import "encoding/json"

// Text returns the text of a JSON value that a provider sends as a string or as a number: a
// string's value, or a number's digits exactly as sent (no float64 rounding). ok is false for
// null, an absent value and anything else (an object, an array, a boolean).
func Text(raw json.RawMessage) (text string, ok bool) {
	if len(raw) == 0 || isNull(raw) {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), true
	}
	return "", false
}
