package fakeserver

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCallLogAnswersWithRequestIDs(t *testing.T) {
	var log CallLog
	srv := httptest.NewServer(log.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	defer srv.Close()
	var got []string
	for range 3 {
		resp, err := http.Get(srv.URL)
		if !assert.NoError(t, err) {
			return
		}
		resp.Body.Close()
		got = append(got, resp.Header.Get("X-Request-Id"))
	}
	assert.Equal(t, []string{"req_1", "req_2", "req_3"}, got)
}
