package jopaycheckout

import (
	"fmt"
	"github.com/paykit-go/paykit"
	"net/url"
	"strings"
)

// SessionIDFromRedirect returns the session id JoPay appended to the success URL
// ("?session_id=cs_…"), for example from the success handler's r.URL. It fails with an error
// wrapping ErrMissingSessionID when there is none, and with a *paykit.ValidationError wrapping
// ErrInvalidSessionID when the value is not a plausible id or the URL carries two different
// ones. The id comes from the buyer's browser: look the session up with GetSession and check
// Session.IsPaid before showing "paid".
//
// A success URL that already had a query gets "?session_id=" appended as plain text by some
// integrations ("/ok?order=7?session_id=cs_1"); that form is understood too.
func SessionIDFromRedirect(u *url.URL) (string, error) {
	if u == nil {
		return "", fmt.Errorf("%w: nil URL", ErrMissingSessionID)
	}
	// ParseQuery keeps every pair that decodes: a malformed pair elsewhere in the query must
	// not hide a good session_id.
	q, _ := url.ParseQuery(u.RawQuery)
	ids := q["session_id"]
	if len(ids) == 0 {
		// "?a=1?session_id=cs_1": the id hides inside the previous parameter's value.
		for _, vs := range q {
			for _, v := range vs {
				if _, after, ok := strings.Cut(v, "?session_id="); ok {
					ids = append(ids, after)
				}
			}
		}
	}
	if len(ids) == 0 {
		return "", ErrMissingSessionID
	}
	id := ids[0]
	for _, other := range ids[1:] {
		if other != id {
			return "", &paykit.ValidationError{Field: "session_id", Reason: "the redirect carries two different session ids", Err: ErrInvalidSessionID}
		}
	}
	if err := ValidateSessionID(id); err != nil {
		return "", err
	}
	return id, nil
}

// SessionIDFromRedirectURL is SessionIDFromRedirect for a URL given as text.
func SessionIDFromRedirectURL(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("%w: unparsable URL", ErrMissingSessionID)
	}
	return SessionIDFromRedirect(u)
}
