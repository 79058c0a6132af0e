package fakeserver

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The log keeps method, path, both query forms, headers and body, and the handler still reads
// the whole body, also past what the log keeps.
func TestCallLogRecordsAndHandsOnBody(t *testing.T) {
	var l CallLog
	var got int
	srv := httptest.NewServer(l.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = len(b)
	})))
	defer srv.Close()
	big := bytes.Repeat([]byte("x"), MaxCallBody+10)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/things?b=2&a=1", bytes.NewReader(big))
	req.Header.Set("X-Key", "k")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, len(big), got, "handler read %d bytes", got)
	resp, err = http.Get(srv.URL + "/v1/things")
	require.NoError(t, err)
	resp.Body.Close()
	calls := l.Calls()
	require.Len(t, calls, 2, "%d calls", len(calls))
	c := calls[0]
	if c.Method != "POST" || c.Path != "/v1/things" || c.RawQuery != "b=2&a=1" || c.Query.Get("a") != "1" ||
		c.Header.Get("X-Key") != "k" || len(c.Body) != MaxCallBody {
		t.Errorf("call = %s %s %q %v %v, body %d bytes", c.Method, c.Path, c.RawQuery, c.Query, c.Header, len(c.Body))
	}
	assert.Equal(t, "GET", calls[1].Method, "second call = %+v", calls[1])
	assert.Zero(t, len(calls[1].Body), "second call = %+v", calls[1])
	assert.Equal(t, 1, l.Count("POST", "/v1/things"), "Count()")
	l.Reset()
	assert.Empty(t, l.Calls(), "calls after Reset")
}

func TestCallLogDisableAndBound(t *testing.T) {
	var l CallLog
	h := l.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for i := 0; i < MaxCalls+1; i++ {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/n", strings.NewReader("")))
	}
	if n := len(l.Calls()); n > MaxCalls || n < MaxCalls/2 {
		t.Errorf("%d calls kept, want between %d and %d", n, MaxCalls/2, MaxCalls)
	}
	l.Reset()
	l.Disable()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/n", nil))
	assert.Empty(t, l.Calls(), "calls recorded while disabled")
}
