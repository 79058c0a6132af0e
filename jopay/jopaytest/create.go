package jopaytest

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/mail"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paykit-go/paykit/idempotency"
	"github.com/paykit-go/paykit/jopay"
)

// Expiry defaults, applied when a create sends no expiry_minutes.
const (
	// POSExpiry is how long a pos request stays payable: an hour, as in JoPay's quickstart.
	POSExpiry = time.Hour
	// InvoiceExpiry is how long an invoice request stays payable: seven days.
	InvoiceExpiry = 7 * 24 * time.Hour
)

// createIn is the create body as sent; pointers tell absent from empty.
type createIn struct {
	MerchantID       *string           `json:"merchant_id"`
	FiatAmountInt    json.RawMessage   `json:"fiat_amount_int"`
	FiatCurrencyCode *string           `json:"fiat_currency_code"`
	Memo             *string           `json:"memo"`
	IdempotencyKey   *string           `json:"idempotency_key"`
	Metadata         map[string]string `json:"metadata"`
	PaymentMode      *string           `json:"payment_mode"`
	CustomerName     *string           `json:"customer_name"`
	CustomerEmail    *string           `json:"customer_email"`
	ExpiryMinutes    *int              `json:"expiry_minutes"`
}

// createParams is the validated, normalized body; two creates with the same key are the same
// request when their createParams are equal.
type createParams struct {
	MerchantID    string
	FiatInt       int64
	FiatCode      string
	Memo          string
	Metadata      map[string]string
	PaymentMode   string
	CustomerName  string
	CustomerEmail string
	ExpiryMinutes int
}

// apiError is a 4xx answer: status, code and helper fields.
type apiError struct {
	status int
	code   string
	extra  map[string]string
}

func badRequest(code string) *apiError { return &apiError{status: http.StatusBadRequest, code: code} }

// validate applies JoPay's documented rules in the order the codes are listed in the docs.
func (s *Server) validate(in *createIn, sp *space) (createParams, string, *apiError) {
	var p createParams
	if in.MerchantID == nil || sp.byMID[*in.MerchantID] == nil {
		return p, "", badRequest("invalid_merchant_id")
	}
	p.MerchantID = *in.MerchantID
	amount, err := strconv.ParseInt(string(in.FiatAmountInt), 10, 64)
	if err != nil || amount < 1 || amount > jopay.MaxFiatAmountInt {
		return p, "", badRequest("invalid_fiat_amount")
	}
	p.FiatInt = amount
	p.FiatCode = s.currency
	if in.FiatCurrencyCode != nil {
		code := *in.FiatCurrencyCode
		if len(code) != 3 || strings.ToUpper(code) != code || strings.IndexFunc(code, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
			return p, "", badRequest("invalid_currency")
		}
		if code != s.currency {
			return p, "", &apiError{status: http.StatusBadRequest, code: "currency_mismatch",
				extra: map[string]string{"expected_fiat_code": s.currency}}
		}
	}
	if in.Memo != nil {
		if utf8.RuneCountInString(*in.Memo) > jopay.MaxMemoLength {
			return p, "", badRequest("invalid_memo")
		}
		p.Memo = *in.Memo
	}
	key := ""
	if in.IdempotencyKey != nil {
		key = *in.IdempotencyKey
		if idempotency.Validate(key) != nil {
			return p, "", badRequest("invalid_idempotency_key")
		}
	}
	if len(in.Metadata) > jopay.MaxMetadataKeys {
		return p, "", badRequest("metadata_too_many_keys")
	}
	for k, v := range in.Metadata {
		if utf8.RuneCountInString(k) > jopay.MaxMetadataKeyLength {
			return p, "", badRequest("metadata_key_too_long")
		}
		if utf8.RuneCountInString(v) > jopay.MaxMetadataValueLength {
			return p, "", badRequest("metadata_value_too_long")
		}
	}
	if len(in.Metadata) > 0 {
		p.Metadata = maps.Clone(in.Metadata)
	}
	p.PaymentMode = string(jopay.PaymentModePOS)
	if in.PaymentMode != nil && *in.PaymentMode != "" {
		p.PaymentMode = *in.PaymentMode
		if p.PaymentMode != string(jopay.PaymentModePOS) && p.PaymentMode != string(jopay.PaymentModeInvoice) {
			return p, "", badRequest("invalid_payment_mode")
		}
	}
	if in.CustomerEmail != nil && *in.CustomerEmail != "" {
		a, err := mail.ParseAddress(*in.CustomerEmail)
		if err != nil || a.Address != *in.CustomerEmail || len(*in.CustomerEmail) > 254 {
			return p, "", badRequest("invalid_email")
		}
		p.CustomerEmail = *in.CustomerEmail
	}
	if in.CustomerName != nil {
		p.CustomerName = *in.CustomerName
	}
	if p.PaymentMode == string(jopay.PaymentModeInvoice) && strings.TrimSpace(p.CustomerName) == "" {
		return p, "", badRequest("customer_name_required")
	}
	if in.ExpiryMinutes != nil {
		if *in.ExpiryMinutes < 0 {
			return p, "", badRequest("invalid_expiry_minutes")
		}
		p.ExpiryMinutes = *in.ExpiryMinutes
	}
	return p, key, nil
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, sp *space) {
	var in createIn
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, key, apiErr := s.validate(&in, sp)
	if apiErr != nil {
		writeError(w, apiErr.status, apiErr.code, apiErr.extra)
		return
	}
	now := s.now()
	if key != "" {
		if prev, ok := sp.idem[key]; ok {
			if !reflect.DeepEqual(prev.params, p) {
				writeError(w, http.StatusConflict, "idempotency_conflict", nil)
				return
			}
			prev.refresh(now)
			writeJSON(w, http.StatusOK, okRequest{OK: true, wireRequest: toWire(prev)})
			return
		}
	}
	req := s.newRequest(p, key, msTime(now))
	sp.insert(req)
	writeJSON(w, http.StatusOK, okRequest{OK: true, wireRequest: toWire(req)})
}

// newRequest builds a stored request; the caller holds s.mu.
func (s *Server) newRequest(p createParams, key string, created time.Time) *request {
	s.seq++
	id := newUUID()
	expiry := POSExpiry
	if p.PaymentMode == string(jopay.PaymentModeInvoice) {
		expiry = InvoiceExpiry
	}
	if p.ExpiryMinutes > 0 {
		expiry = time.Duration(p.ExpiryMinutes) * time.Minute
	}
	return &request{
		seq: s.seq, ID: id, MerchantID: p.MerchantID, FiatInt: p.FiatInt, FiatCode: p.FiatCode,
		USDCMicro: p.FiatInt * s.usdcPerUnit, Memo: p.Memo, PaymentMode: p.PaymentMode,
		CustomerName: p.CustomerName, Email: p.CustomerEmail, Metadata: p.Metadata,
		Status: jopay.StatusRequested, ProofStatus: jopay.ProofStatusNone,
		CreatedAt: created, ExpiresAt: created.Add(expiry), IdemKey: key, params: p,
		payPage: s.URL + "/pay/" + id,
	}
}

// wireRequest is the documented request object.
type wireRequest struct {
	RequestID     string            `json:"request_id"`
	Status        string            `json:"status"`
	ProofStatus   string            `json:"proof_status"`
	PayPageURL    string            `json:"pay_page_url"`
	CreatedAt     string            `json:"created_at"`
	ExpiresAt     string            `json:"expires_at"`
	Amount        wireAmount        `json:"amount"`
	MerchantID    string            `json:"merchant_id"`
	Metadata      map[string]string `json:"metadata"`
	PaymentMode   string            `json:"payment_mode"`
	Memo          string            `json:"memo,omitempty"`
	CustomerName  string            `json:"customer_name,omitempty"`
	CustomerEmail string            `json:"customer_email,omitempty"`
	TxHash        *string           `json:"tx_hash"`
}

type wireAmount struct {
	FiatInt   int64  `json:"fiat_int"`
	FiatCode  string `json:"fiat_code"`
	USDCMicro string `json:"usdc_micro"` // a string integer, as documented
}

// okRequest is a single-request answer: {"ok":true, …request fields}.
type okRequest struct {
	OK bool `json:"ok"`
	wireRequest
}

func toWire(r *request) wireRequest {
	md := r.Metadata
	if md == nil {
		md = map[string]string{}
	}
	w := wireRequest{
		RequestID: r.ID, Status: string(r.Status), ProofStatus: string(r.ProofStatus), PayPageURL: r.payPage,
		CreatedAt: formatTime(r.CreatedAt), ExpiresAt: formatTime(r.ExpiresAt),
		Amount:     wireAmount{FiatInt: r.FiatInt, FiatCode: r.FiatCode, USDCMicro: strconv.FormatInt(r.USDCMicro, 10)},
		MerchantID: r.MerchantID, Metadata: md, PaymentMode: r.PaymentMode, Memo: r.Memo,
		CustomerName: r.CustomerName, CustomerEmail: r.Email,
	}
	if r.TxHash != "" {
		tx := r.TxHash
		w.TxHash = &tx
	}
	return w
}

func newUUID() string { return idempotency.NewUUID() }
