package transport

import (
	"net/url"

	"github.com/paykit-go/paykit"
)

// PathSegment escapes value (an id) into one path segment of a Request.Path. It refuses what
// cannot be one: "", which would address the collection or another route, and the dot segments
// "." and "..", which net/http, a proxy or the server resolves while normalizing the path, so
// that "payment/../update-merchant-estimate" reaches another route with the credentials
// attached. The refusal is a *paykit.ValidationError naming field, returned before anything is
// sent. Every other value is sent as its own segment, '/', '?', '#' and '%' escaped.
func PathSegment(field, value string) (string, error) {
	switch value {
	case "":
		return "", &paykit.ValidationError{Field: field, Reason: "required"}
	case ".", "..":
		return "", &paykit.ValidationError{Field: field, Reason: `must not be "." or "..": a path segment of that name addresses another route`}
	}
	return url.PathEscape(value), nil
}
