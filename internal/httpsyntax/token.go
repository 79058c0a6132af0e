// Package httpsyntax holds the HTTP grammar checks that the root package's per-call options and
// the provider packages' client options share.
package httpsyntax

import "strings"

// IsToken reports whether s is an HTTP token (RFC 9110, section 5.6.2), the syntax of a header
// field name: one or more letters, digits or any of !#$%&'*+-.^_`|~.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
