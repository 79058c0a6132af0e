package transport

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/paykit-go/paykit"
)

// maxRedirects is net/http's default limit, kept for a caller's client without a CheckRedirect.
const maxRedirects = 10

// ConfineRedirects returns a copy of hc (nil: a client on http.DefaultTransport) that follows
// a redirect only within the origin — scheme, host and port — of target, the URL the client
// was configured to call (ws:// and wss:// count as http:// and https://). net/http re-sends
// custom headers (x-api-key) on every redirect and re-posts the body on a 307 or 308, so a
// redirect anywhere else would hand the credentials to another host: it ends the call instead
// with a *paykit.Error carrying the redirect's status, whose message names the refused origin
// (never its path or query). Same-origin redirects go through hc's own CheckRedirect, or
// net/http's default limit of 10. hc is not modified.
func ConfineRedirects(provider string, hc *http.Client, target string) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	}
	home, homeOK := originOf(target)
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if to, ok := originOf(req.URL.String()); !homeOK || !ok || to != home {
			return refusedRedirect{redirectRefused(provider, req, home, homeOK)}
		}
		var err error
		switch {
		case next != nil:
			err = next(req, via)
		case len(via) >= maxRedirects:
			err = errors.New("stopped after 10 redirects")
		}
		if err == nil || err == http.ErrUseLastResponse { // net/http compares it with ==
			return err
		}
		return stoppedRedirect{err}
	}
	return &c
}

// stoppedRedirect marks an error of the same-origin redirect policy, which no retry can change.
type stoppedRedirect struct{ err error }

func (r stoppedRedirect) Error() string { return r.err.Error() }
func (r stoppedRedirect) Unwrap() error { return r.err }

// origin is a URL's scheme, host and port, with the scheme's default port filled in.
type origin struct{ scheme, host, port string }

func (o origin) String() string {
	return o.scheme + "://" + net.JoinHostPort(o.host, o.port)
}

// originOf parses raw's origin; ok is false for anything but an absolute http(s) or ws(s) URL.
func originOf(raw string) (origin, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return origin{}, false
	}
	o := origin{scheme: strings.ToLower(u.Scheme), host: strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")), port: u.Port()}
	switch o.scheme {
	case "ws":
		o.scheme = "http"
	case "wss":
		o.scheme = "https"
	}
	switch {
	case o.scheme != "http" && o.scheme != "https":
		return origin{}, false
	case o.port != "":
	case o.scheme == "http":
		o.port = "80"
	default:
		o.port = "443"
	}
	return o, true
}

// redirectRefused is the error for a redirect out of the configured origin. It names the
// refused origin only: a redirect's path or query may carry anything, an echoed credential too.
func redirectRefused(provider string, req *http.Request, home origin, homeOK bool) *paykit.Error {
	status := http.StatusFound
	if req.Response != nil {
		status = req.Response.StatusCode
	}
	to := "a URL that is not http or https"
	if o, ok := originOf(req.URL.String()); ok {
		to = o.String()
	}
	from := "the configured host"
	if homeOK {
		from = home.String()
	}
	return &paykit.Error{
		Provider: provider,
		Status:   status,
		Message:  "redirect to another host refused: " + to + " is not " + from + ", the only host credentials are sent to",
	}
}

// refusedRedirect marks the *paykit.Error of a refused redirect inside net/http's *url.Error.
type refusedRedirect struct{ err *paykit.Error }

func (r refusedRedirect) Error() string { return r.err.Error() }
func (r refusedRedirect) Unwrap() error { return r.err }

// redirectStopped reports whether err comes from the redirect policy: a redirect refused
// because of its host, a caller's CheckRedirect or the redirect limit.
func redirectStopped(err error) bool {
	var s stoppedRedirect
	_, refused := asRefusedRedirect(err)
	return refused || errors.As(err, &s)
}

// asRefusedRedirect returns the error of a redirect ConfineRedirects refused, if err is one.
func asRefusedRedirect(err error) (*paykit.Error, bool) {
	var r refusedRedirect
	if errors.As(err, &r) {
		return r.err, true
	}
	return nil, false
}
