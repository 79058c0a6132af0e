package fakeserver

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
)

// Call is one HTTP request a fake server received. Each fake server declares a struct type with
// the same fields (and converts to it), so that its documentation shows them.
type Call struct {
	// Method is the HTTP method.
	Method string
	// Path is the URL path.
	Path string
	// Query is the parsed query string.
	Query url.Values
	// RawQuery is the query string as sent, without the '?', in its original order.
	RawQuery string
	// Header is a copy of the request headers, credentials included.
	Header http.Header
	// Body is the request body, up to MaxCallBody bytes.
	Body []byte
}

// MaxCallBody is how much of a request body a CallLog keeps.
const MaxCallBody = 1 << 20

// MaxCalls bounds a CallLog: when it is full, the older half is dropped.
const MaxCalls = 10_000

// CallLog records the requests a handler receives. The zero value records; it is safe for
// concurrent use.
type CallLog struct {
	mu    sync.Mutex
	calls []Call
	off   bool
	seq   int64 // request ids handed out
}

// Disable stops recording (for benchmarks whose memory figures should not include the log).
func (l *CallLog) Disable() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.off = true
}

// Wrap returns next with every request recorded before it is handled, and answered with an
// X-Request-Id header ("req_1", "req_2", …) as real providers send, so that callers can see it in
// paykit.ResponseInfo and in errors. The body is read (up to MaxCallBody) and handed on
// unchanged, the unread rest included.
func (l *CallLog) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		off := l.off
		l.mu.Unlock()
		if off {
			next.ServeHTTP(w, r)
			return
		}
		var body []byte
		if r.Body != nil && r.Body != http.NoBody {
			body, _ = io.ReadAll(io.LimitReader(r.Body, MaxCallBody))
			r.Body = readCloser{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
		}
		c := Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), RawQuery: r.URL.RawQuery,
			Header: r.Header.Clone(), Body: body}
		l.mu.Lock()
		if len(l.calls) >= MaxCalls {
			l.calls = append(l.calls[:0], l.calls[len(l.calls)-MaxCalls/2:]...)
		}
		l.calls = append(l.calls, c)
		l.seq++
		id := l.seq
		l.mu.Unlock()
		w.Header().Set("X-Request-Id", "req_"+strconv.FormatInt(id, 10))
		next.ServeHTTP(w, r)
	})
}

// readCloser reads the recorded prefix and then the rest, and closes the original body.
type readCloser struct {
	io.Reader
	io.Closer
}

// Calls returns the recorded requests, oldest first.
func (l *CallLog) Calls() []Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Call(nil), l.calls...)
}

// Count returns how many recorded requests had method and path.
func (l *CallLog) Count(method, path string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, c := range l.calls {
		if c.Method == method && c.Path == path {
			n++
		}
	}
	return n
}

// Reset empties the log.
func (l *CallLog) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = nil
}
