package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// attempt is one request as the test server saw it.
type attempt struct {
	Method string
	Path   string // escaped path
	Query  string
	Header http.Header
	Body   []byte
	At     time.Time
}

// recorder is an httptest server that records every request and answers it with the handler
// for that attempt number (0-based); the last handler answers every later attempt.
type recorder struct {
	*httptest.Server

	mu       sync.Mutex
	attempts []attempt
}

func newRecorder(t *testing.T, handlers ...func(w http.ResponseWriter, r *http.Request)) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		assert.NoError(t, err, "server: reading body")
		rec.mu.Lock()
		n := len(rec.attempts)
		rec.attempts = append(rec.attempts, attempt{
			Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery,
			Header: r.Header.Clone(), Body: body, At: time.Now(),
		})
		rec.mu.Unlock()
		if len(handlers) == 0 {
			w.WriteHeader(http.StatusOK)
			return
		}
		handlers[min(n, len(handlers)-1)](w, r)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) Attempts() []attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]attempt(nil), r.attempts...)
}

func (r *recorder) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.attempts)
}

// respond answers with status, optional headers (name, value pairs) and body.
func respond(status int, body string, headers ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		if body != "" && w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// hangUp reads the request (the recorder already did) and drops the connection without
// answering: the request reached the server, the outcome is unknown to the client.
func hangUp(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

// fastSettings are DefaultSettings with millisecond backoff, so retry tests run quickly.
func fastSettings(t *testing.T, base string) Settings {
	t.Helper()
	s := DefaultSettings(base)
	require.NoError(t, s.SetRetryWait(time.Millisecond, 2*time.Millisecond))
	return s
}

func newTestClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	if cfg.Provider == "" {
		cfg.Provider = "jopay"
	}
	c, err := New(cfg)
	require.NoError(t, err, "New")
	return c
}

// logCapture collects slog JSON lines at Debug and above.
type logCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logCapture) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logCapture) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logCapture) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Lines decodes every log line.
func (l *logCapture) Lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), "log line %q", line)
		out = append(out, m)
	}
	return out
}

// errRetryGuard is the cause doBounded's deadline carries.
var errRetryGuard = errors.New("test deadline for the whole call")

// retryGuard bounds every call a test makes, retries included.
const retryGuard = 30 * time.Second

// doBounded runs c.Do under a deadline, so a retry loop that never ends fails the test with a
// clear message instead of hanging until the test binary's timeout. ctx may carry the test's
// own, shorter deadline or cancellation. It reports through t.Errorf, so it may run on any
// goroutine.
func doBounded(t *testing.T, ctx context.Context, c *Client, req Request, out any) error {
	t.Helper()
	ctx, cancel := context.WithTimeoutCause(ctx, retryGuard, errRetryGuard)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Do(ctx, req, out) }()
	select {
	case err := <-done:
		assert.NotErrorIs(t, context.Cause(ctx), errRetryGuard, "%s %s: still retrying after %v (the retry loop did not end); last error: %v", req.Method, req.Path, retryGuard, err)
		return err
	case <-time.After(retryGuard + 5*time.Second):
		t.Errorf("%s %s: Do ignored its %v deadline and is still running", req.Method, req.Path, retryGuard)
		return errRetryGuard
	}
}
