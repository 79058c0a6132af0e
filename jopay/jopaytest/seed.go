package jopaytest

import (
	"maps"
	"sort"
	"strconv"
	"time"

	"github.com/paykit-go/paykit/jopay"
)

// SeedRequest is a request to put straight into the fake's store, bypassing the API, with any
// created_at: for pagination tests (many requests sharing a timestamp) and reconciliation
// fixtures. Zero fields take the defaults noted.
type SeedRequest struct {
	MerchantID    string            // DefaultMerchantID
	FiatAmountInt int64             // 1000
	Status        jopay.Status      // StatusRequested
	ProofStatus   jopay.ProofStatus // ProofStatusNone
	PaymentMode   jopay.PaymentMode // pos
	CreatedAt     time.Time         // the fake's now; truncated to milliseconds
	ExpiresAt     time.Time         // CreatedAt + the mode's default expiry
	TxHash        string
	Memo          string
	Metadata      map[string]string
	// Live puts the request in production data instead of sandbox data.
	Live bool
}

// Seed stores the requests and returns their ids, in order.
func (s *Server) Seed(rows ...SeedRequest) []string {
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
