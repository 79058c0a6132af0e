package jopay

import (
	"fmt"
	"net/url"
	"time"

	"github.com/paykit-go/paykit/internal/jsonx"
)

// Cursor is the position of a reconciliation run in the requests list: the created_at of the
// newest request already processed, and the ids of the requests processed at exactly that
// instant (so that requests sharing it are neither repeated nor skipped next time).
//
// Store it between runs as text (MarshalText / ParseCursor); its text form is
// "since=<RFC 3339>&seen=<id>&seen=<id>…", and a bare RFC 3339 timestamp is accepted too, so a
// cursor stored by the seed's hand-written loop can be carried over.
type Cursor struct {
	// Since is the created_at of the newest request processed.
	Since time.Time
	// SeenIDs are the processed requests created exactly at Since.
	SeenIDs []string
}

// IsZero reports whether c is the zero Cursor (start from ListRequestsParams.Since).
func (c Cursor) IsZero() bool { return c.Since.IsZero() && len(c.SeenIDs) == 0 }

// String returns the text form ("" for the zero Cursor).
func (c Cursor) String() string {
	b, _ := c.MarshalText()
	return string(b)
}

// MarshalText implements encoding.TextMarshaler.
func (c Cursor) MarshalText() ([]byte, error) {
	if c.IsZero() {
		return []byte{}, nil
	}
	// Built by hand rather than with url.Values.Encode, which sorts keys: since stays first
	// so a stored cursor reads naturally.
	// The UTC timestamp needs no escaping ([0-9T:.Z-] only), so it stays readable.
	b := []byte("since=")
	b = c.Since.UTC().AppendFormat(b, time.RFC3339Nano)
	for _, id := range c.SeenIDs {
		b = append(b, "&seen="...)
		b = append(b, url.QueryEscape(id)...)
	}
	return b, nil
}

// UnmarshalText implements encoding.TextUnmarshaler; see ParseCursor.
func (c *Cursor) UnmarshalText(b []byte) error {
	parsed, err := ParseCursor(string(b))
	if err != nil {
		return err
	}
	*c = parsed
	return nil
}

// ParseCursor parses the text form of a Cursor, or a bare RFC 3339 timestamp. "" is the zero
// Cursor.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	if t, err := jsonx.ParseTime(s); err == nil {
		return Cursor{Since: t}, nil
	}
	q, err := url.ParseQuery(s)
	if err != nil || len(q["since"]) != 1 {
		return Cursor{}, fmt.Errorf("jopay: invalid cursor: want since=<RFC 3339>&seen=<id>…")
	}
	t, err := time.Parse(time.RFC3339Nano, q.Get("since"))
	if err != nil {
		return Cursor{}, fmt.Errorf("jopay: invalid cursor: since is not an RFC 3339 time")
	}
	return Cursor{Since: t, SeenIDs: q["seen"]}, nil
}
