package jsonx

import "fmt"

// Bool is a boolean that a provider may send as true/false, as the strings
// "true"/"false", or as 1/0 (number or string). null decodes to false. It
// marshals as a JSON boolean.
type Bool bool

// UnmarshalJSON implements json.Unmarshaler.
func (v *Bool) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true", `"true"`, "1", `"1"`:
		*v = true
	case "false", `"false"`, "0", `"0"`, "null":
		*v = false
	default:
		return fmt.Errorf("jsonx: cannot parse boolean %s", echo(b))
	}
	return nil
}

// MarshalJSON implements json.Marshaler.
func (v Bool) MarshalJSON() ([]byte, error) {
	if v {
		return []byte("true"), nil
	}
	return []byte("false"), nil
}
