package pepay

import (
	"bytes"
	"encoding/json"
	"strings"
)

// objectField returns the string value of the top-level "object" member of the JSON object raw
// (the last one, as encoding/json would), or "" when raw is not an object, has no such member,
// or it is not a string. It scans bytes instead of decoding: every event needs its data.object's
// type before the typed decode, and a reflective decode just for that doubled the cost of
// parsing a stream frame. It never panics on malformed input.
func objectField(raw []byte) string {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return ""
	}
	i++
	found := ""
	for {
		i = skipSpace(raw, i)
		if i >= len(raw) {
			return ""
		}
		if raw[i] == '}' {
			return found
		}
		if raw[i] != '"' {
			return ""
		}
		kStart := i
		i = skipString(raw, i)
		if i < 0 {
			return ""
		}
		key := raw[kStart:i]
		i = skipSpace(raw, i)
		if i >= len(raw) || raw[i] != ':' {
			return ""
		}
		i = skipSpace(raw, i+1)
		vStart := i
		i = skipValue(raw, i)
		if i < 0 {
			return ""
		}
		if isObjectKey(key) {
			found = ""
			if raw[vStart] == '"' {
				var s string
				if json.Unmarshal(raw[vStart:i], &s) == nil {
					found = s
				}
			}
		}
		i = skipSpace(raw, i)
		if i >= len(raw) {
			return ""
		}
		switch raw[i] {
		case ',':
			i++
		case '}':
			return found
		default:
			return ""
		}
	}
}

// isObjectKey reports whether the quoted key (with its quotes) names the "object" member the
// way encoding/json matches it: escapes decoded, case ignored.
func isObjectKey(quoted []byte) bool {
	if bytes.IndexByte(quoted, '\\') < 0 {
		// No escapes: compare the bytes. ASCII folding is exact here, as none of the letters of
		// "object" has a non-ASCII case variant (unlike k and s).
		return len(quoted) == 8 && bytes.EqualFold(quoted[1:7], []byte("object"))
	}
	var s string
	return json.Unmarshal(quoted, &s) == nil && strings.EqualFold(s, "object")
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"', or -1.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index after the value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				if i < 0 {
					return -1
				}
				i--
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	start := i
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			if i == start {
				return -1
			}
			return i
		}
		i++
	}
	if i == start {
		return -1
	}
	return i
}
