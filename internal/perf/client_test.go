package perf_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopay/jopaytest"
)

const (
	perfKey   = "jo_test_perf_0123456789abcdef"
	requestID = "7b2e9c1a-4d3f-4e8b-9a6c-1f2e3d4c5b6a"
)

// roundTripFunc answers in memory: no network, so only the client's own cost is measured.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// wireRequest is what a hand-written integration decodes a JoPay payment request into.
type wireRequest struct {
	RequestID   string    `json:"request_id"`
	Status      string    `json:"status"`
	ProofStatus string    `json:"proof_status"`
	PayPageURL  string    `json:"pay_page_url"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	Amount      struct {
		FiatInt   int64  `json:"fiat_int"`
		FiatCode  string `json:"fiat_code"`
		USDCMicro string `json:"usdc_micro"`
	} `json:"amount"`
	MerchantID string            `json:"merchant_id"`
	Metadata   map[string]string `json:"metadata"`
}

// wireCreate is the hand-written POST /requests body.
type wireCreate struct {
	MerchantID       string            `json:"merchant_id"`
	FiatAmountInt    int64             `json:"fiat_amount_int"`
	FiatCurrencyCode string            `json:"fiat_currency_code"`
	Memo             string            `json:"memo,omitempty"`
	IdempotencyKey   string            `json:"idempotency_key"`
	Metadata         map[string]string `json:"metadata,omitempty"`
}

// requestBody is JoPay's GET /requests/{id} answer, padded with metadata to about 1.2 KiB.
func requestBody(b *testing.B) []byte {
	raw, err := os.ReadFile("../../jopay/testdata/request_object.json")
	if err != nil {
		b.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		b.Fatal(err)
	}
	md := m["metadata"].(map[string]any)
	for i := 0; len(mustJSON(b, m)) < 1200; i++ {
		md["note_"+strconv.Itoa(i)] = "line item " + strconv.Itoa(i) + " of the order, kept for the ledger"
	}
	return mustJSON(b, m)
}

func mustJSON(b *testing.B, v any) []byte {
	out, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func createParams() jopay.CreateRequestParams {
	return jopay.CreateRequestParams{
		MerchantID: "b4d5c6e7-1f20-4a3b-8c4d-5e6f70819203", FiatAmountInt: 275, FiatCurrencyCode: "USD",
		Memo: "Order A-1001", IdempotencyKey: "order-A-1001-0123456789abcdef0123456789",
		Metadata: map[string]string{"order_id": "A-1001", "customer_id": "C-77"},
	}
}

// clientComparisons: JoPay GetRequest and CreateRequest against bare net/http + encoding/json,
// in memory and over loopback.
func clientComparisons(b *testing.B) []comparison {
	body := requestBody(b)
	answer := func(w io.Writer) { _, _ = w.Write(body) }
	inMemory := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			_, _ = io.Copy(io.Discard, r.Body)
			_ = r.Body.Close()
		}
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
	})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		answer(w)
	}))
	b.Cleanup(srv.Close)

	var rows []comparison
	for _, env := range []struct {
		name string
		base string
		hc   *http.Client
		get  float64
		post float64
	}{
		{"in-memory", "http://jopay.test/api/v1", inMemory, 1.10, 1.20},
		{"loopback", srv.URL + "/api/v1", srv.Client(), 1.05, 1.05},
	} {
		// Without JoPay's default 60 requests a minute: the rows measure the client, not pacing.
		c, err := jopay.NewClient(perfKey, jopay.WithBaseURL(env.base), jopay.WithHTTPClient(env.hc), jopay.WithRateLimiter(nil))
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		hc, base := env.hc, env.base
		rows = append(rows,
			comparison{
				path: "client GET (JoPay GetRequest, ~1.2 KiB), " + env.name + ", vs net/http+encoding/json", target: env.get, collect: true,
				subject: func(n int) error {
					for i := 0; i < n; i++ {
						if _, err := c.GetRequest(ctx, requestID); err != nil {
							return err
						}
					}
					return nil
				},
				baseline: func(n int) error {
					for i := 0; i < n; i++ {
						var out wireRequest
						if err := bareDo(ctx, hc, http.MethodGet, base+"/requests/"+requestID, nil, &out); err != nil {
							return err
						}
					}
					return nil
				},
			},
			comparison{
				path: "client POST (JoPay CreateRequest), " + env.name + ", vs net/http+encoding/json", target: env.post, collect: true,
				subject: func(n int) error {
					p := createParams()
					for i := 0; i < n; i++ {
						if _, err := c.CreateRequest(ctx, p); err != nil {
							return err
						}
					}
					return nil
				},
				baseline: func(n int) error {
					p := createParams()
					for i := 0; i < n; i++ {
						in := wireCreate{MerchantID: p.MerchantID, FiatAmountInt: p.FiatAmountInt, FiatCurrencyCode: p.FiatCurrencyCode,
							Memo: p.Memo, IdempotencyKey: p.IdempotencyKey, Metadata: p.Metadata}
						var out wireRequest
						if err := bareDo(ctx, hc, http.MethodPost, base+"/requests", in, &out); err != nil {
							return err
						}
					}
					return nil
				},
			})
		if env.name == "loopback" {
			// The loopback rows' noise floor: the bare GET against itself, both sides on the
			// same client, as paykit and the floor are.
			bareGet := func(hc *http.Client) func(int) error {
				return func(n int) error {
					for i := 0; i < n; i++ {
						var out wireRequest
						if err := bareDo(ctx, hc, http.MethodGet, base+"/requests/"+requestID, nil, &out); err != nil {
							return err
						}
					}
					return nil
				}
			}
			rows = append(rows, comparison{
				path: "control: net/http+encoding/json GET against itself, loopback", control: true, collect: true,
				subject: bareGet(hc), baseline: bareGet(hc),
			})
		}
	}
	// Right after its net/http row: the in-memory GET against resty v2.
	return slices.Insert(rows, 1, restyComparison(b, inMemory))
}

// restyComparison: JoPay GetRequest against the same call through resty v2 (base URL, bearer
// token and Accept header set on the client, the answer decoded into a struct with SetResult),
// both over the in-memory transport hc.
func restyComparison(b *testing.B, hc *http.Client) comparison {
	const base = "http://jopay.test/api/v1"
	c, err := jopay.NewClient(perfKey, jopay.WithBaseURL(base), jopay.WithHTTPClient(hc), jopay.WithRateLimiter(nil)) // no pacing, as above
	if err != nil {
		b.Fatal(err)
	}
	rc := resty.NewWithClient(hc).SetBaseURL(base).SetAuthToken(perfKey).SetHeader("Accept", "application/json")
	ctx := context.Background()
	return comparison{
		path: "client GET (JoPay GetRequest, ~1.2 KiB), in-memory, vs resty v2 (SetResult into a struct)", target: 1.0, collect: true,
		subject: func(n int) error {
			for i := 0; i < n; i++ {
				if _, err := c.GetRequest(ctx, requestID); err != nil {
					return err
				}
			}
			return nil
		},
		baseline: func(n int) error {
			for i := 0; i < n; i++ {
				var out wireRequest
				resp, err := rc.R().SetContext(ctx).SetResult(&out).Get("/requests/" + requestID)
				if err != nil {
					return err
				}
				if resp.IsError() || out.RequestID != requestID {
					return fmt.Errorf("resty: status %d, request_id %q", resp.StatusCode(), out.RequestID)
				}
			}
			return nil
		},
	}
}

// bareDo is the floor: what a careful hand-written call does (JSON body, bearer key, status
// check, decode).
func bareDo(ctx context.Context, hc *http.Client, method, url string, in, out any) error {
	var body io.Reader
	if in != nil {
		buf, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+perfKey)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// listComparison: JoPay ListRequests over loopback, pages of 100, against a hand-rolled loop
// following next_cursor. Each chunk walks the same 10,000 generated rows.
func listComparison(b *testing.B) comparison {
	const rows = 10_000
	t0 := time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC)
	srv := jopaytest.NewServer(jopaytest.WithGeneratedRequests(rows, func(i int) time.Time {
		return t0.Add(time.Duration(i/3) * time.Millisecond)
	}), jopaytest.WithNextCursor(true), jopaytest.WithoutCallLog())
	b.Cleanup(srv.Close)
	c, err := srv.NewClient()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	base := srv.BaseURL
	hc := &http.Client{}
	return comparison{
		path: "JoPay ListRequests, 10,000 rows, 100 per page, loopback, rows/s vs hand-rolled encoding/json loop", target: 1.0,
		throughput: true, fixed: true,
		subject: func(int) error {
			n := 0
			for _, err := range c.ListRequests(ctx, jopay.ListRequestsParams{Limit: 100}) {
				if err != nil {
					return err
				}
				n++
			}
			if n != rows {
				return fmt.Errorf("sdk listed %d rows, want %d", n, rows)
			}
			return nil
		},
		baseline: func(int) error {
			n, cursor := 0, ""
			for {
				url := base + "/requests?limit=100"
				if cursor != "" {
					url += "&cursor=" + neturl.QueryEscape(cursor)
				}
				var page struct {
					Requests   []wireRequest `json:"requests"`
					HasMore    bool          `json:"has_more"`
					NextCursor string        `json:"next_cursor"`
				}
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				if err != nil {
					return err
				}
				req.Header.Set("Authorization", "Bearer "+jopaytest.DefaultAPIKey)
				resp, err := hc.Do(req)
				if err != nil {
					return err
				}
				err = json.NewDecoder(resp.Body).Decode(&page)
				resp.Body.Close()
				if err != nil {
					return err
				}
				n += len(page.Requests)
				if !page.HasMore || page.NextCursor == "" {
					break
				}
				cursor = page.NextCursor
			}
			if n != rows {
				return fmt.Errorf("hand-rolled loop listed %d rows, want %d", n, rows)
			}
			return nil
		},
	}
}
