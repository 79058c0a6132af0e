package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// benchPayment is the decode target shared by the transport and the bare baseline.
type benchPayment struct {
	ID        string            `json:"id"`
	Status    string            `json:"status"`
	Amount    int64             `json:"amount"`
	Currency  string            `json:"currency"`
	PayURL    string            `json:"pay_url"`
	CreatedAt string            `json:"created_at"`
	Metadata  map[string]string `json:"metadata"`
}

type benchCreate struct {
	MerchantID string            `json:"merchant_id"`
	Amount     int64             `json:"amount"`
	Currency   string            `json:"currency"`
	Memo       string            `json:"memo"`
	Metadata   map[string]string `json:"metadata"`
}

var benchBody = []byte(`{"id":"req_01HZX3","status":"pending","amount":2599,"currency":"USD","pay_url":"https://pay.example/req_01HZX3","created_at":"2025-01-02T03:04:05Z","metadata":{"order_id":"1234"}}`)

func benchServer(b *testing.B) (*httptest.Server, *http.Client) {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			_, _ = io.Copy(io.Discard, r.Body)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(benchBody)
	}))
	b.Cleanup(srv.Close)
	hc := defaultHTTPClient()
	b.Cleanup(hc.CloseIdleConnections)
	return srv, hc
}

func benchClient(b *testing.B, base string, hc *http.Client) *Client {
	s := DefaultSettings(base)
	s.HTTPClient = hc
	c, err := New(Config{Provider: "jopay", Settings: s, Auth: Bearer("jo_test_benchkey")})
	require.NoError(b, err)
	return c
}

// run runs call b.N times and reports the process CPU time per call next to ns/op.
func run(b *testing.B, call func() error) {
	b.Helper()
	b.ReportAllocs()
	require.NoError(b, call()) // warm the connection pool outside the timed loop
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		if err := call(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// bareDo is the hand-rolled baseline: net/http plus encoding/json, the same headers, the same
// decode target, a status check.
func bareDo(ctx context.Context, hc *http.Client, method, url string, body []byte, header http.Header, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %s", resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// BenchmarkGet compares a GET through the transport with bareDo over loopback (sub-benchmarks
// transport and bare; cpu-ns/op is the process CPU time per call). Target: transport ≤ 1.05×
// bare. The paired, interleaved measurement is in internal/perf (go test ./internal/perf
// -run '^$' -bench Compare -benchtime 1x), which prints "target met" or "MISSED".
func BenchmarkGet(b *testing.B) {
	srv, hc := benchServer(b)
	ctx := context.Background()
	b.Run("transport", func(b *testing.B) {
		c := benchClient(b, srv.URL+"/api/v1", hc)
		run(b, func() error {
			var out benchPayment
			return c.Do(ctx, Request{Method: http.MethodGet, Path: "requests/req_01HZX3"}, &out)
		})
	})
	b.Run("bare", func(b *testing.B) {
		h := http.Header{"Authorization": {"Bearer jo_test_benchkey"}, "Accept": {"application/json"}, "User-Agent": {"bench"}}
		run(b, func() error {
			var out benchPayment
			return bareDo(ctx, hc, http.MethodGet, srv.URL+"/api/v1/requests/req_01HZX3", nil, h, &out)
		})
	})
}

// BenchmarkPost is BenchmarkGet for a keyed POST with a JSON body. Target: ≤ 1.05× bare.
func BenchmarkPost(b *testing.B) {
	srv, hc := benchServer(b)
	ctx := context.Background()
	in := benchCreate{MerchantID: "m_1", Amount: 2599, Currency: "USD", Memo: "order 1234", Metadata: map[string]string{"order_id": "1234"}}
	b.Run("transport", func(b *testing.B) {
		c := benchClient(b, srv.URL+"/api/v1", hc)
		run(b, func() error {
			var out benchPayment
			return c.Do(ctx, Request{Method: http.MethodPost, Path: "requests/create", Body: in, IdempotencyKey: "k1", IdempotencyHeader: "Idempotency-Key"}, &out)
		})
	})
	b.Run("bare", func(b *testing.B) {
		h := http.Header{"Authorization": {"Bearer jo_test_benchkey"}, "Accept": {"application/json"}, "User-Agent": {"bench"},
			"Content-Type": {"application/json"}, "Idempotency-Key": {"k1"}}
		run(b, func() error {
			var out benchPayment
			body, err := json.Marshal(in)
			if err != nil {
				return err
			}
			return bareDo(ctx, hc, http.MethodPost, srv.URL+"/api/v1/requests/create", body, h, &out)
		})
	})
}

// memTransport answers every request from memory, so BenchmarkOverhead measures the client side
// alone: no network or server time dilutes the difference.
type memTransport struct{}

func (memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: 200, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Request: r,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(benchBody)),
		ContentLength: int64(len(benchBody)),
	}, nil
}

// BenchmarkOverhead measures the transport's own cost with an in-memory RoundTripper (no
// network), against bareDo over the same one. Target: ≤ 1.10× for GET, ≤ 1.20× for POST.
func BenchmarkOverhead(b *testing.B) {
	hc := &http.Client{Transport: memTransport{}}
	ctx := context.Background()
	in := benchCreate{MerchantID: "m_1", Amount: 2599, Currency: "USD", Memo: "order 1234", Metadata: map[string]string{"order_id": "1234"}}
	const base = "http://paykit.invalid/api/v1"
	b.Run("Get/transport", func(b *testing.B) {
		c := benchClient(b, base, hc)
		run(b, func() error {
			var out benchPayment
			return c.Do(ctx, Request{Method: http.MethodGet, Path: "requests/req_01HZX3"}, &out)
		})
	})
	b.Run("Get/bare", func(b *testing.B) {
		h := http.Header{"Authorization": {"Bearer jo_test_benchkey"}, "Accept": {"application/json"}, "User-Agent": {"bench"}}
		run(b, func() error {
			var out benchPayment
			return bareDo(ctx, hc, http.MethodGet, base+"/requests/req_01HZX3", nil, h, &out)
		})
	})
	b.Run("Post/transport", func(b *testing.B) {
		c := benchClient(b, base, hc)
		run(b, func() error {
			var out benchPayment
			return c.Do(ctx, Request{Method: http.MethodPost, Path: "requests/create", Body: in, IdempotencyKey: "k1", IdempotencyHeader: "Idempotency-Key"}, &out)
		})
	})
	b.Run("Post/bare", func(b *testing.B) {
		h := http.Header{"Authorization": {"Bearer jo_test_benchkey"}, "Accept": {"application/json"}, "User-Agent": {"bench"},
			"Content-Type": {"application/json"}, "Idempotency-Key": {"k1"}}
		run(b, func() error {
			var out benchPayment
			body, err := json.Marshal(in)
			if err != nil {
				return err
			}
			return bareDo(ctx, hc, http.MethodPost, base+"/requests/create", body, h, &out)
		})
	})
}
