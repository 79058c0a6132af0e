package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/paykit-go/paykit/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	handlerSecret = "whsec_handler_test_secret"
	sigHeader     = "X-Test-Signature"
	bodyMarker    = "BODY-MARKER-must-not-be-logged"
)

type testEvent struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Note string `json:"note"`
}

// handlerFixture is a webhook endpoint under test plus everything needed to deliver to it.
type handlerFixture struct {
	t       *testing.T
	now     time.Time
	handler http.Handler
	logs    *bytes.Buffer

	mu      sync.Mutex
	events  []testEvent
	fail    error         // returned by the handler function when set
	block   chan struct{} // when set, the handler function signals started and waits on it
	started chan struct{}
}

func newHandlerFixture(t *testing.T, dedupe bool, opts ...webhook.Option) *handlerFixture {
	t.Helper()
	f := &handlerFixture{t: t, now: time.Unix(1767225600, 0), logs: &bytes.Buffer{}}
	v, err := webhook.NewTimestampVerifier(handlerSecret, webhook.WithClock(func() time.Time { return f.now }))
	require.NoError(t, err)
	ep := webhook.Endpoint[testEvent]{
		Verify: v.VerifyFunc(sigHeader),
		Parse: func(body []byte) (testEvent, error) {
			var e testEvent
			err := json.Unmarshal(body, &e)
			return e, err
		},
		EventID: func(_ []byte, _ http.Header, e testEvent) string { return e.ID },
	}
	logger := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	all := []webhook.Option{webhook.WithLogger(logger)}
	if !dedupe {
		all = append(all, webhook.WithDeduper(nil))
	}
	f.handler = webhook.NewHandler(ep, f.handle, append(all, opts...)...)
	return f
}

func (f *handlerFixture) handle(ctx context.Context, e testEvent) error {
	f.mu.Lock()
	block, started, fail := f.block, f.started, f.fail
	f.mu.Unlock()
	if block != nil {
		close(started)
		<-block
	}
	if fail != nil {
		return fail
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, e)
	return nil
}

func (f *handlerFixture) processed() []testEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]testEvent(nil), f.events...)
}

func eventBody(id string) []byte {
	return []byte(fmt.Sprintf(`{"id":%q,"type":"payment.proof_verified","note":%q}`, id, bodyMarker))
}

// deliver POSTs body signed at the fixture's now, with header overrides, and returns the response.
func (f *handlerFixture) deliver(method string, body []byte, header string) *http.Response {
	r := httptest.NewRequest(method, "/webhooks/test", bytes.NewReader(body))
	if header != "" {
		r.Header.Set(sigHeader, header)
	}
	w := httptest.NewRecorder()
	f.handler.ServeHTTP(w, r)
	return w.Result()
}

func (f *handlerFixture) signed(body []byte) string {
	return webhook.SignTimestamp(handlerSecret, f.now, body)
}

func expectResponse(t *testing.T, resp *http.Response, status int, text string) {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, status, resp.StatusCode, "response status (body %q)", b)
	require.Equal(t, text+"\n", string(b), "response body")
	require.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"), "Content-Type")
}

func TestHandlerStatuses(t *testing.T) {
	body := eventBody("evt_1")
	tests := []struct {
		name   string
		method string
		body   []byte
		header func(f *handlerFixture) string
		status int
		text   string
	}{
		{"delivered", http.MethodPost, body, func(f *handlerFixture) string { return f.signed(body) }, 200, "ok"},
		{"GET", http.MethodGet, nil, func(*handlerFixture) string { return "" }, 405, "method_not_allowed"},
		{"PUT", http.MethodPut, body, func(f *handlerFixture) string { return f.signed(body) }, 405, "method_not_allowed"},
		{"missing signature", http.MethodPost, body, func(*handlerFixture) string { return "" }, 400, "invalid_signature"},
		{"malformed signature", http.MethodPost, body, func(*handlerFixture) string { return "t=abc,v1=00" }, 400, "invalid_signature"},
		{"wrong secret", http.MethodPost, body, func(f *handlerFixture) string {
			return webhook.SignTimestamp("other", f.now, body)
		}, 400, "invalid_signature"},
		{"tampered body", http.MethodPost, eventBody("evt_2"), func(f *handlerFixture) string { return f.signed(body) }, 400, "invalid_signature"},
		{"stale", http.MethodPost, body, func(f *handlerFixture) string {
			return webhook.SignTimestamp(handlerSecret, f.now.Add(-6*time.Minute), body)
		}, 400, "timestamp_out_of_range"},
		{"future", http.MethodPost, body, func(f *handlerFixture) string {
			return webhook.SignTimestamp(handlerSecret, f.now.Add(6*time.Minute), body)
		}, 400, "timestamp_out_of_range"},
		{"not JSON", http.MethodPost, []byte("not json"), func(f *handlerFixture) string { return f.signed([]byte("not json")) }, 400, "invalid_payload"},
		{"too large", http.MethodPost, bytes.Repeat([]byte("x"), 1<<20+1), func(*handlerFixture) string { return "" }, 413, "payload_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newHandlerFixture(t, true)
			resp := f.deliver(tt.method, tt.body, tt.header(f))
			expectResponse(t, resp, tt.status, tt.text)
			if tt.status == 405 {
				require.Equal(t, http.MethodPost, resp.Header.Get("Allow"), "Allow")
			}
			wantEvents := 0
			if tt.status == 200 {
				wantEvents = 1
			}
			require.Len(t, f.processed(), wantEvents, "handler runs")
		})
	}
}

func TestHandlerDeliversParsedEvent(t *testing.T) {
	f := newHandlerFixture(t, true)
	body := eventBody("evt_42")
	expectResponse(t, f.deliver(http.MethodPost, body, f.signed(body)), 200, "ok")
	want := []testEvent{{ID: "evt_42", Type: "payment.proof_verified", Note: bodyMarker}}
	if diff := cmp.Diff(want, f.processed()); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
}

func TestHandlerDuplicateAndRedelivery(t *testing.T) {
	f := newHandlerFixture(t, true)
	body := eventBody("evt_dup")

	f.fail = errors.New("ledger unavailable: password=hunter2")
	expectResponse(t, f.deliver(http.MethodPost, body, f.signed(body)), 500, "internal_error")
	f.fail = nil
	expectResponse(t, f.deliver(http.MethodPost, body, f.signed(body)), 200, "ok")        // redelivery runs
	expectResponse(t, f.deliver(http.MethodPost, body, f.signed(body)), 200, "duplicate") // then deduped
	require.Len(t, f.processed(), 1, "processed")
}

func TestHandlerInFlight(t *testing.T) {
	f := newHandlerFixture(t, true)
	body := eventBody("evt_slow")
	f.block, f.started = make(chan struct{}), make(chan struct{})
	first := make(chan *http.Response)
	go func() { first <- f.deliver(http.MethodPost, body, f.signed(body)) }()
	<-f.started // the first delivery holds the claim and is running

	unblock := f.block
	f.mu.Lock()
	f.block = nil
	f.mu.Unlock()
	expectResponse(t, f.deliver(http.MethodPost, body, f.signed(body)), 503, "in_flight")
	close(unblock)
	expectResponse(t, <-first, 200, "ok")
	require.Len(t, f.processed(), 1, "processed")
}

func TestHandlerWithoutDeduperRunsEveryDelivery(t *testing.T) {
	f := newHandlerFixture(t, false)
	body := eventBody("evt_nodedupe")
	for i := 0; i < 2; i++ {
		expectResponse(t, f.deliver(http.MethodPost, body, f.signed(body)), 200, "ok")
	}
	require.Len(t, f.processed(), 2, "processed")
}

func TestHandlerEmptyEventIDIsNotDeduped(t *testing.T) {
	f := newHandlerFixture(t, true)
	body := eventBody("")
	for i := 0; i < 2; i++ {
		expectResponse(t, f.deliver(http.MethodPost, body, f.signed(body)), 200, "ok")
	}
	require.Len(t, f.processed(), 2, "processed")
}

func TestHandlerMaxPayloadOption(t *testing.T) {
	f := newHandlerFixture(t, true, webhook.WithMaxPayloadBytes(32))
	body := eventBody("evt_big") // longer than 32 bytes
	expectResponse(t, f.deliver(http.MethodPost, body, f.signed(body)), 413, "payload_too_large")
	require.Empty(t, f.processed(), "processed")
}

// Over a real connection: a too-large body is refused with 413 and the handler never sees a
// truncated body; a normal delivery afterwards works.
func TestHandlerOversizedOverHTTP(t *testing.T) {
	f := newHandlerFixture(t, true, webhook.WithMaxPayloadBytes(1024))
	srv := httptest.NewServer(f.handler)
	defer srv.Close()

	big := append(eventBody("evt_big"), bytes.Repeat([]byte(" "), 2048)...)
	for _, chunked := range []bool{false, true} {
		var rd io.Reader = bytes.NewReader(big)
		if chunked {
			rd = io.MultiReader(rd) // hides the length: sent chunked
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL, rd)
		req.Header.Set(sigHeader, f.signed(big))
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		expectResponse(t, resp, 413, "payload_too_large")
		resp.Body.Close()
	}
	body := eventBody("evt_small")
	req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
	req.Header.Set(sigHeader, f.signed(body))
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	expectResponse(t, resp, 200, "ok")
	if diff := cmp.Diff([]string{"evt_small"}, ids(f.processed())); diff != "" {
		t.Fatalf("processed (-want +got):\n%s", diff)
	}
}

func ids(evs []testEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func TestHandlerParseErrorWrapsInvalidPayload(t *testing.T) {
	parseErr := errors.New("unsupported shape")
	var logs bytes.Buffer
	h := webhook.NewHandler(webhook.Endpoint[int]{
		Verify: func([]byte, http.Header) error { return nil },
		Parse:  func([]byte) (int, error) { return 0, parseErr },
	}, func(context.Context, int) error { assert.Fail(t, "handler ran"); return nil },
		webhook.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}")))
	require.Equal(t, 400, w.Code, "response status (body %q)", w.Body.String())
	require.Equal(t, "invalid_payload\n", w.Body.String(), "response body")
	require.Contains(t, logs.String(), "unsupported shape", "log lacks the parse error")
}

type logLine struct {
	Level   string `json:"level"`
	Msg     string `json:"msg"`
	Status  int    `json:"status"`
	Stage   string `json:"stage"`
	EventID string `json:"event_id"`
}

func TestHandlerLogging(t *testing.T) {
	f := newHandlerFixture(t, true)
	body := eventBody("evt_log")
	f.deliver(http.MethodPost, body, webhook.SignTimestamp("wrong-secret", f.now, body)) // Warn
	f.fail = errors.New("ledger down")
	f.deliver(http.MethodPost, body, f.signed(body)) // Error
	f.fail = nil
	f.deliver(http.MethodPost, body, f.signed(body)) // ok, no log
	f.deliver(http.MethodPost, body, f.signed(body)) // duplicate: Info

	var got []logLine
	for _, line := range strings.Split(strings.TrimSpace(f.logs.String()), "\n") {
		var l logLine
		require.NoError(t, json.Unmarshal([]byte(line), &l), "log line %q", line)
		got = append(got, l)
	}
	want := []logLine{
		{Level: "WARN", Msg: "webhook: delivery rejected", Status: 400, Stage: "verify"},
		{Level: "ERROR", Msg: "webhook: handler failed", Status: 500, EventID: "evt_log"},
		{Level: "INFO", Msg: "webhook: delivery not run", Status: 200, EventID: "evt_log"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("logs (-want +got):\n%s", diff)
	}
	for _, secret := range []string{handlerSecret, bodyMarker} {
		require.NotContains(t, f.logs.String(), secret, "logs contain %q:\n%s", secret, f.logs.String())
	}
}

func TestHandlerResponsesNeverEchoErrors(t *testing.T) {
	f := newHandlerFixture(t, true)
	body := eventBody("evt_secret")
	f.fail = errors.New("db password=hunter2")
	resp := f.deliver(http.MethodPost, body, f.signed(body))
	b, _ := io.ReadAll(resp.Body)
	require.NotContains(t, string(b), "hunter2", "response body leaks the error")
	require.NotContains(t, string(b), handlerSecret, "response body leaks the secret")
}

func TestNewHandlerPanicsWithoutVerify(t *testing.T) {
	for name, ep := range map[string]webhook.Endpoint[int]{
		"no Verify": {Parse: func([]byte) (int, error) { return 0, nil }},
		"no Parse":  {Verify: func([]byte, http.Header) error { return nil }},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				require.NotNil(t, recover(), "NewHandler did not panic")
			}()
			webhook.NewHandler(ep, func(context.Context, int) error { return nil })
		})
	}
}
