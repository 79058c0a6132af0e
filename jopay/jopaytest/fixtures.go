package jopaytest

import (
	"maps"
	"sort"
	"strconv"
	"time"

	"github.com/paykit-go/paykit/jopay"
)

// PaymentRequestFixture is a payment request for AddPaymentRequests to put straight into the
// fake's store, with any created_at: for pagination tests (many requests sharing a timestamp)
// and reconciliation fixtures. Zero fields take the defaults noted.
type PaymentRequestFixture struct {
	// MerchantID is the request's merchant (default DefaultMerchantID).
	MerchantID string
	// FiatAmountInt is the amount in the currency's minor units (default 1000).
	FiatAmountInt int64
	// Status is the request's status (default jopay.StatusRequested).
	Status jopay.Status
	// ProofStatus is the payment proof's status (default jopay.ProofStatusNone).
	ProofStatus jopay.ProofStatus
	// PaymentMode is pos or invoice (default jopay.PaymentModePOS).
	PaymentMode jopay.PaymentMode
	// CreatedAt is the creation time, truncated to milliseconds (default the fake's now).
	CreatedAt time.Time
	// ExpiresAt is the expiry time (default CreatedAt plus the payment mode's default expiry).
	ExpiresAt time.Time
	// TxHash is the payment's transaction hash (default none).
	TxHash string
	// Memo is the request's memo (default none).
	Memo string
	// Metadata is the request's metadata (default none).
	Metadata map[string]string
	// Live puts the request in production data instead of sandbox data.
	Live bool
}

// AddPaymentRequests stores the payment requests directly, bypassing the API (no validation,
// no idempotency), and returns their ids, in order.
func (s *Server) AddPaymentRequests(rows ...PaymentRequestFixture) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, len(rows))
	for i, sr := range rows {
		p := createParams{MerchantID: sr.MerchantID, FiatInt: sr.FiatAmountInt, FiatCode: s.currency,
			Memo: sr.Memo, Metadata: maps.Clone(sr.Metadata), PaymentMode: string(sr.PaymentMode)}
		if p.MerchantID == "" {
			p.MerchantID = DefaultMerchantID
		}
		if p.FiatInt == 0 {
			p.FiatInt = 1000
		}
		if p.PaymentMode == "" {
			p.PaymentMode = string(jopay.PaymentModePOS)
		}
		created := sr.CreatedAt
		if created.IsZero() {
			created = s.now()
		}
		r := s.newRequest(p, "", msTime(created))
		if !sr.ExpiresAt.IsZero() {
			r.ExpiresAt = msTime(sr.ExpiresAt)
		}
		if sr.Status != "" {
			r.Status = sr.Status
		}
		if sr.ProofStatus != "" {
			r.ProofStatus = sr.ProofStatus
		}
		r.TxHash = sr.TxHash
		mode := jopay.ModeTest
		if sr.Live {
			mode = jopay.ModeLive
		}
		s.spaces[mode].insert(r)
		ids[i] = r.ID
	}
	return ids
}

// WithGeneratedRequests replaces the sandbox request list with n generated rows, made on the
// fly and never stored, so a benchmark can page through 100 000 requests while the server's
// memory stays flat. Row i has id "gen-<i, 9 digits>", created_at createdAt(i) (which must not
// decrease with i), proof_status verified, status opened, fiat_int 100 + i%10000, metadata
// order_id "G-<i>". Only GET /requests sees them.
func WithGeneratedRequests(n int, createdAt func(i int) time.Time) Option {
	return func(s *Server) { s.generated = &generated{n: n, createdAt: createdAt} }
}

type generated struct {
	n         int
	createdAt func(i int) time.Time
}

// GeneratedID returns the id of generated row i.
func GeneratedID(i int) string {
	s := strconv.Itoa(i)
	for len(s) < 9 {
		s = "0" + s
	}
	return "gen-" + s
}

func (g *generated) row(i int) *request {
	created := msTime(g.createdAt(i))
	return &request{
		seq: int64(i), ID: GeneratedID(i), MerchantID: DefaultMerchantID, FiatInt: int64(100 + i%10000), FiatCode: "USD",
		USDCMicro: int64(100+i%10000) * 10_000, PaymentMode: string(jopay.PaymentModePOS),
		Metadata: map[string]string{"order_id": "G-" + strconv.Itoa(i)},
		Status:   jopay.StatusOpened, ProofStatus: jopay.ProofStatusVerified, ProofSource: "trails_on_chain",
		CreatedAt: created, ExpiresAt: created.Add(POSExpiry), payPage: "https://pay.jopay.app/" + GeneratedID(i),
	}
}

func (g *generated) list(lq *listQuery, excl, cursor bool) listResponse {
	start := 0
	if !lq.since.IsZero() {
		start = sort.Search(g.n, func(i int) bool {
			c := msTime(g.createdAt(i)).Compare(lq.since)
			return c > 0 || c == 0 && !excl
		})
	}
	if lq.after != nil {
		start = max(start, int(lq.after.seq)+1)
	}
	resp := listResponse{OK: true, Requests: make([]wireRequest, 0, lq.limit)}
	last := -1
	for i := start; i < g.n; i++ {
		row := g.row(i)
		if !lq.matches(row, excl) {
			continue
		}
		if len(resp.Requests) == lq.limit {
			resp.HasMore = true
			break
		}
		resp.Requests = append(resp.Requests, toWire(row))
		last = i
	}
	if resp.HasMore && cursor && last >= 0 {
		c := position{at: msTime(g.createdAt(last)), seq: int64(last)}.encode()
		resp.NextCursor = &c
	}
	return resp
}
