package jopay

import (
	"errors"
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
// cursor stored by a hand-written since loop can be carried over.
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

// MarshalText implements encoding.TextMarshaler. It fails for a Since outside the years
// 0000–9999, which RFC 3339 cannot write (ParseCursor refuses such cursors too).
func (c Cursor) MarshalText() ([]byte, error) {
	if c.IsZero() {
		return []byte{}, nil
	}
	if !inRFC3339Range(c.Since) {
		return nil, errCursorRange
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

// errCursorRange is returned for a cursor whose time RFC 3339 cannot write.
var errCursorRange = errors.New("jopay: invalid cursor: since is outside the years 0000-9999")

// inRFC3339Range reports whether t's UTC year has the four digits RFC 3339 writes.
func inRFC3339Range(t time.Time) bool {
	y := t.UTC().Year()
	return 0 <= y && y <= 9999
}

// ParseCursor parses the text form of a Cursor, or a bare RFC 3339 timestamp (or unix seconds).
// "" is the zero Cursor. It accepts only what it can write back: for every cursor it returns,
// ParseCursor(c.String()) is the same cursor, so a time outside the years 0000–9999 (such as
// unix seconds "700000000000000") is refused.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	if t, err := jsonx.ParseTime(s); err == nil {
		if !inRFC3339Range(t) {
			return Cursor{}, errCursorRange
		}
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
