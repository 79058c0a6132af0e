package jsonx

import (
	"encoding/json"
	"fmt"
)

// ID is an opaque identifier that a provider may send either as a JSON
// string or as a JSON number. Numbers keep their exact text ("12345678901234567890"
// stays that, with no float64 rounding); null decodes to "". It always
// marshals as a JSON string.
type ID string

// UnmarshalJSON implements json.Unmarshaler.
func (id *ID) UnmarshalJSON(b []byte) error {
	switch {
	case isNull(b):
		*id = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("jsonx: cannot parse ID %s: %w", echo(b), err)
		}
		*id = ID(s)
		return nil
	case len(b) > 0 && (b[0] == '-' || '0' <= b[0] && b[0] <= '9'):
		// encoding/json has already validated b when it calls us, but a
		// direct call may not have: check it is one well-formed number.
		if !json.Valid(b) {
			return fmt.Errorf("jsonx: cannot parse ID %s: not a JSON number", echo(b))
		}
		*id = ID(b)
		return nil
	}
	return fmt.Errorf("jsonx: ID must be a JSON string or number, got %s", kind(b))
}

// MarshalJSON implements json.Marshaler; the ID is always written as a JSON
// string.
func (id ID) MarshalJSON() ([]byte, error) {
	return json.Marshal(string(id))
}

// String returns the ID text.
func (id ID) String() string { return string(id) }
