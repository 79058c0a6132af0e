package jopaytest

import (
	"slices"
	"time"

	"github.com/paykit-go/paykit/jopay"
)

// space is one mode's data (sandbox or production): fully isolated, as JoPay documents.
type space struct {
	rows      []*request          // sorted by (CreatedAt, seq)
	byID      map[string]*request //
	idem      map[string]*request // idempotency key → request
	merchants []*merchant
	byMID     map[string]*merchant
}

func newSpace() *space {
	return &space{byID: map[string]*request{}, idem: map[string]*request{}, byMID: map[string]*merchant{}}
}

// request is the fake's stored payment request.
type request struct {
	seq          int64
	ID           string
	MerchantID   string
	FiatInt      int64
	FiatCode     string
	USDCMicro    int64
	Memo         string
	PaymentMode  string
	CustomerName string
	Email        string
	Metadata     map[string]string
	Status       jopay.Status
	ProofStatus  jopay.ProofStatus
	ProofSource  string
	TxHash       string
	PayerAddress string
	CreatedAt    time.Time
	ExpiresAt    time.Time
	IdemKey      string
	params       createParams // the normalized create body, for idempotent replay
	payPage      string
}

// insert adds r keeping rows sorted by (CreatedAt, seq); rows added by AddPaymentRequests may
// arrive out of order.
func (sp *space) insert(r *request) {
	i, _ := slices.BinarySearchFunc(sp.rows, r, func(a, b *request) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmpInt(a.seq, b.seq)
	})
	sp.rows = slices.Insert(sp.rows, i, r)
	sp.byID[r.ID] = r
	if r.IdemKey != "" {
		sp.idem[r.IdemKey] = r
	}
}

// firstAfter returns the index of the first row at or after t (strictly after when excl).
func (sp *space) firstAfter(t time.Time, excl bool) int {
	i, _ := slices.BinarySearchFunc(sp.rows, t, func(r *request, t time.Time) int {
		c := r.CreatedAt.Compare(t)
		if c == 0 && excl {
			return -1 // equal rows sort "before" the target: start after them
		}
		if c == 0 {
			return 1
		}
		return c
	})
	return i
}

// refresh expires an unpaid open request whose time ran out.
func (r *request) refresh(now time.Time) {
	if r.Status.IsOpen() && r.ProofStatus == jopay.ProofStatusNone && !now.Before(r.ExpiresAt) {
		r.Status = jopay.StatusExpired
	}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// merchant is the fake's stored merchant.
type merchant struct {
	ID               string
	Email            string
	DisplayName      string
	BusinessName     string
	Country          string
	Phone            string
	Website          string
	Instagram        string
	Industry         string
	DisplayCurrency  string
	AccountType      string
	OnboardingStatus string
	OnboardingURL    string
	CreatedAt        time.Time
}

func (sp *space) addMerchant(m *merchant) {
	sp.merchants = append(sp.merchants, m)
	sp.byMID[m.ID] = m
}

// snapshot converts a stored request to the client's type, for tests to inspect.
func (r *request) snapshot() *jopay.PaymentRequest {
	var md map[string]string
	if r.Metadata != nil {
		md = make(map[string]string, len(r.Metadata))
		for k, v := range r.Metadata {
			md[k] = v
		}
	}
	return &jopay.PaymentRequest{
		ID: r.ID, Status: r.Status, ProofStatus: r.ProofStatus, PayPageURL: r.payPage,
		CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt,
		Amount:     jopay.Amount{FiatInt: r.FiatInt, FiatCode: r.FiatCode, USDCMicro: r.USDCMicro},
		MerchantID: r.MerchantID, Metadata: md, PaymentMode: jopay.PaymentMode(r.PaymentMode), Memo: r.Memo,
		CustomerName: r.CustomerName, CustomerEmail: r.Email, TxHash: r.TxHash, IdempotencyKey: r.IdemKey,
	}
}
